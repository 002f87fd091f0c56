import CLibFuzzer
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzz binary. One binary holds every target; `HYDRANET_FUZZ_TARGET` names the one to run
/// (`scripts/fuzz TARGET SECONDS` sets it); the arguments are libFuzzer's (corpus folders,
/// `-max_total_time=…`, …). Each target feeds the input to one parser of untrusted data: a
/// thrown error is the expected outcome for malformed input; a trap, a sanitizer report, a
/// timeout or running out of memory is a finding.
///
/// SwiftPM gives an executable target its own `main`, so libFuzzer's is not linked; this one
/// runs libFuzzer's driver, which calls `LLVMFuzzerInitialize` and then
/// `LLVMFuzzerTestOneInput` for each input.
@main
enum HydraNetFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
    }
}

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    let name = getenv("HYDRANET_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
        let names = FuzzTarget.all.map(\.name).joined(separator: ", ")
        let message = "hydranet-fuzz: set HYDRANET_FUZZ_TARGET to one of: \(names) (got '\(name)')\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
