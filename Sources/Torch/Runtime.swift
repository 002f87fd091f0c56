import CTorch

/// Process-wide libtorch settings.
public enum Torch {
    /// The libtorch version, e.g. `2.11.0`.
    public static var version: String { String(cString: ct_torch_version()) }

    /// Seeds the global generators (CPU and every CUDA device), as `torch.manual_seed`:
    /// the same seed gives the same `rand`/`randn`/`randperm` values as Python.
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

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
