import CTorch

/// Process-wide libtorch settings.
public enum Torch {
    /// The libtorch version, e.g. `2.11.0`.
    public static var version: String { String(cString: ct_torch_version()) }

    /// Seeds the global generators (CPU and every CUDA device), as `torch.manual_seed`:
    /// the same seed gives the same `rand`/`randn`/`randperm` values as Python.
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// The CPU generator's state (`torch.get_rng_state()`), a uint8 tensor; restore it with
    /// ``setRNGState(_:)`` to replay the same random draws (dropout, init, randn).
    public static func rngState() -> Tensor { checked("rngState", ct_get_rng_state()) }

    /// Restores a state from ``rngState()``.
    /// - Throws: `TorchError.libtorch` if the tensor is not a valid generator state.
    public static func setRNGState(_ state: Tensor) throws {
        try tryCheck("setRNGState", ct_set_rng_state(state.handle))
    }

    /// Tensor handles alive in this process (every `Tensor` holds one): a count that
    /// returns to the same value after a step that leaks nothing.
    public static var liveTensorHandles: Int { Int(ct_live_tensor_handles()) }

    /// Threads used inside one op (`torch.get_num_threads` / `set_num_threads`).
    public static var numThreads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(Swift.max(1, newValue))) }
    }

    /// Threads for inter-op parallelism.
    public static var numInteropThreads: Int { Int(ct_get_num_interop_threads()) }

    /// Sets the inter-op thread count; libtorch allows this once, before any parallel work.
    public static func setNumInteropThreads(_ n: Int) throws {
        try tryCheck("setNumInteropThreads", ct_set_num_interop_threads(Int32(n)))
    }
}
