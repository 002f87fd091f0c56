import CTorch

/// A collective operation in flight (`torch.distributed.Work`): the tensors it reads and
/// writes must stay untouched until ``wait()`` returns.
public final class CollectiveWork: @unchecked Sendable {
    private let handle: ct_work
    private let name: String
    /// The tensors the collective uses, kept alive until it finishes.
    private let tensors: [Tensor]
    private let rank: Int
    private let worldSize: Int

    init(handle: ct_work, name: String, tensors: [Tensor], rank: Int, worldSize: Int) {
        self.handle = handle
        self.name = name
        self.tensors = tensors
        self.rank = rank
        self.worldSize = worldSize
    }

    deinit { ct_work_free(handle) }

    /// Blocks until the collective has finished.
    ///
    /// - Throws: ``DistributedError`` if it failed — a peer that died or did not answer
    ///   within the group's timeout (or `timeout`, when given).
    public func wait(timeout: Duration? = nil) throws {
        if ct_work_wait(handle, timeout?.milliseconds ?? 0) != 0 {
            throw DistributedError(operation: name, rank: rank, worldSize: worldSize, detail: lastTorchError)
        }
    }
}
