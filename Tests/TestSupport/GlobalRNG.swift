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
