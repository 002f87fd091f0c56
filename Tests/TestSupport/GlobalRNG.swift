import Foundation

/// Swift Testing runs tests in parallel in one process, and libtorch's global generator
/// (`Torch.manualSeed`, `Tensor.randn`, dropout, …) is shared by all of them. A test that
/// seeds the generator and then expects particular draws must hold this lock from the
/// seed to its last draw, and so must every other test that draws while it runs;
/// otherwise the draws interleave and "same seed, same numbers" checks fail at random.
private let globalRNGLock = NSRecursiveLock()

/// Runs `body` while holding the process-wide lock for libtorch's global generator.
public func withGlobalRNG<R>(_ body: () throws -> R) rethrows -> R {
    globalRNGLock.lock()
    defer { globalRNGLock.unlock() }
    return try body()
}

/// Runs `body` (which seeds libtorch's global generator and draws from it) under the
/// generator lock, twice per attempt, until two consecutive results agree — proof that no
/// test without the lock drew in between — and returns that result with `stable: true`.
/// After `attempts` disagreeing pairs it returns the last result with `stable: false`, so
/// genuine non-determinism still fails the caller's check.
public func stableDraw<T: Equatable>(attempts: Int = 5, _ body: () throws -> T) rethrows -> (value: T, stable: Bool) {
    var last: T?
    for _ in 0..<attempts {
        let (a, b) = try withGlobalRNG { (try body(), try body()) }
        if a == b { return (a, true) }
        last = b
    }
    return (last!, false)
}
