extension PthFile {
    /// Bounds on what reading one `.pth` file may cost. A file that would exceed one is
    /// refused with a message naming the limit, before the memory is allocated or the work
    /// done. The defaults admit any real state dict (torchvision's largest weights use a
    /// small fraction of each) while keeping a hostile file from exhausting the process.
    public struct Limits: Sendable {
        /// Most records (files) in the zip archive.
        public var maxEntries: Int = 200_000
        /// Largest `data.pkl` record, in bytes.
        public var maxPickleBytes: Int = 256 << 20
        /// Most pickle opcodes executed.
        public var maxOpcodes: Int = 50_000_000
        /// Most memo entries the pickle may define.
        public var maxMemoEntries: Int = 5_000_000
        /// Deepest nesting of lists, tuples and dicts (a state dict nests 3 or 4 levels).
        public var maxNestingDepth: Int = 100
        /// Most tensors the pickle may rebuild.
        public var maxTensors: Int = 1_000_000
        /// Most dimensions of one tensor.
        public var maxRank: Int = 64
        /// Most bytes the load may allocate for storages and returned tensors together.
        public var maxTotalBytes: Int = 64 << 30
        /// Returned tensors may hold at most this many times the bytes of the storages they
        /// view, plus ``expansionAllowance`` (views with zero or overlapping strides repeat
        /// elements, and each returned tensor is a copy).
        public var maxExpansion: Int = 8
        /// Bytes of repeated elements allowed besides ``maxExpansion`` (small expanded buffers).
        public var expansionAllowance: Int = 1 << 20
        /// The records read may declare at most this many uncompressed bytes per byte of
        /// input, or 64 MiB in all if that is more (stored records count 1 per byte; only
        /// deflated records can exceed it: a zip bomb).
        public var maxCompressionRatio: Int = 100

        /// The default limits.
        public init() {}
    }
}
