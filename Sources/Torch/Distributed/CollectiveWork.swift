import CTorch

/// A collective operation in flight (`torch.distributed.Work`): the tensors it reads and
/// writes must stay untouched until ``wait()`` returns.
public final class CollectiveWork: @unchecked Sendable {
    private let handle: ct_work
    private let name: String
    /// The tensors the collective uses, kept alive until it finishes.
    private let tensors: [Tensor]

    init(handle: ct_work, name: String, tensors: [Tensor]) {
        self.handle = handle
        self.name = name
        self.tensors = tensors
    }

    deinit { ct_work_free(handle) }

    /// Blocks until the collective has finished. Throws if it failed — a peer that died or
    /// did not answer within the group's timeout (or `timeout`, when given).
    public func wait(timeout: Duration? = nil) throws {
        try tryCheck(name, ct_work_wait(handle, timeout?.milliseconds ?? 0))
    }
}
