import CTorch

/// A random number generator owned by its user, as `torch.Generator`: seeded code draws
/// from one of these instead of libtorch's process-wide generator, so that what it draws
/// does not depend on what other code (or other tests running in parallel) draws.
///
/// A generator lives on the CPU. Random ops given a generator for a CUDA tensor draw on the
/// CPU and copy, so the same seed gives the same numbers on every device. A generator seeded
/// with `s` produces exactly the values of Python's `torch.Generator().manual_seed(s)`.
///
/// Draws lock the generator inside libtorch, so one generator may be shared by threads; the
/// order of draws from several threads is then, of course, not determined.
public final class Generator: @unchecked Sendable {
    let handle: ct_generator

    /// PyTorch's default seed (`torch.Generator().initial_seed()`).
    public static let defaultSeed: UInt64 = 67_280_421_310_721

    /// A new generator seeded with `seed`.
    public init(seed: UInt64 = Generator.defaultSeed) {
        guard let h = ct_generator_new(seed) else { torchTrap("Generator") }
        handle = h
    }

    private init(owning handle: ct_generator) { self.handle = handle }

    deinit { ct_generator_free(handle) }

    /// The seed the generator was last seeded with (`initial_seed()`).
    public var initialSeed: UInt64 { ct_generator_initial_seed(handle) }

    /// Re-seeds the generator (`manual_seed`).
    public func manualSeed(_ seed: UInt64) { check("Generator.manualSeed", ct_generator_manual_seed(handle, seed)) }

    /// An independent generator in the same state: both then produce the same draws.
    public func clone() -> Generator {
        guard let h = ct_generator_clone(handle) else { torchTrap("Generator.clone") }
        return Generator(owning: h)
    }

    /// The full state as a uint8 tensor (`get_state()`); restore it with ``setState(_:)``.
    public var state: Tensor { checked("Generator.state", ct_generator_get_state(handle)) }

    /// Restores a state from ``state``.
    /// - Throws: `TorchError.libtorch` if the tensor is not a valid CPU generator state (a
    ///   checkpoint from elsewhere, say); the generator is then unchanged.
    public func setState(_ state: Tensor) throws {
        guard state.dtype == .uint8, state.rank == 1, state.device == .cpu else {
            throw TorchError.invalidArgument("a generator state is a 1-D uint8 CPU tensor, got \(state.dtype) \(state.shape)")
        }
        let bytes = state.contiguous()  // kept alive across the call that borrows its handle
        try withExtendedLifetime(bytes) { try tryCheck("Generator.setState", ct_generator_set_state(handle, bytes.handle)) }
    }
}
