/// One fuzz target: a name (the `scripts/fuzz` argument, the corpus folder `Fuzz/corpus/<name>`
/// and the regression folder `Fuzz/regressions/<name>`) and the function that feeds one input
/// to a parser.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void

    static let all: [FuzzTarget] = [
        .safetensors, .pth, .pickle, .jpeg, .png, .utkface, .csv,
    ]
}

/// A broken invariant in a parser's *successful* result: as much a finding as a crash.
func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant broken: \(message())") }
}
