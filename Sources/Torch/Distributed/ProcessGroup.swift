import CTorch

/// How a collective combines the ranks' values (`torch.distributed.ReduceOp`).
public enum ReduceOp: Int32, Sendable {
    case sum = 0, average = 1, max = 2, min = 3
}

/// A group of processes that run collectives together (a c10d process group on the gloo
/// backend: CPU tensors, TCP between hosts).
///
/// Every rank must issue the same collectives in the same order. Each one returns a
/// ``CollectiveWork`` to wait on; a peer that dies makes the waits throw (its connection
/// closes, or the group's `timeout` passes) instead of hanging.
public final class ProcessGroup: @unchecked Sendable {
    let handle: ct_group
    /// This process's rank, 0..<worldSize.
    public let rank: Int
    /// How many processes are in the group.
    public let worldSize: Int
    /// How long a collective may wait for its peers.
    public let timeout: Duration
    private let store: TCPStore
    private var failure: Error?

    /// Keeps the first failure of a collective that could not throw where it ran (inside a
    /// module's forward); ``throwRecordedFailure()`` raises it.
    public func recordFailure(_ error: Error) {
        if failure == nil { failure = error }
    }

    /// Throws (and clears) a failure recorded by ``recordFailure(_:)``.
    public func throwRecordedFailure() throws {
        if let failure {
            self.failure = nil
            throw failure
        }
    }

    /// A gloo group over a rendezvous `store`.
    ///
    /// - Parameters:
    ///   - interface: the network interface this rank's gloo device binds and announces
    ///     (PyTorch's `GLOO_SOCKET_IFNAME`), e.g. `eth1`; it wins over `hostname`.
    ///   - hostname: the address (or name) to bind otherwise. With neither: the machine's
    ///     hostname if it resolves, else loopback. Peers on other hosts must reach it.
    ///   - threads: gloo's worker threads for this group.
    public init(store: TCPStore, rank: Int, worldSize: Int, timeout: Duration, interface: String? = nil,
                hostname: String? = nil, threads: Int = 2) throws {
        guard worldSize >= 1, (0..<worldSize).contains(rank) else {
            throw TorchError.invalidArgument("rank \(rank) is outside 0..<\(worldSize)")
        }
        guard let h = ct_gloo_group_create(store.handle, Int32(rank), Int32(worldSize), hostname, interface,
                                           timeout.milliseconds, Int32(threads)) else {
            throw TorchError.libtorch(op: "ProcessGroupGloo(rank \(rank) of \(worldSize))", message: lastTorchError)
        }
        handle = h
        self.rank = rank
        self.worldSize = worldSize
        self.timeout = timeout
        self.store = store
    }

    /// Joins the group an environment describes: rank 0 hosts the TCPStore at
    /// `masterAddress:masterPort`, every rank connects to it, then the gloo group forms on
    /// the environment's ``DistributedEnvironment/socketInterface`` if it names one.
    public convenience init(environment e: DistributedEnvironment, timeout: Duration = .seconds(300)) throws {
        let store = try TCPStore(host: e.masterAddress, port: e.masterPort, worldSize: e.worldSize,
                                 isMaster: e.rank == 0, timeout: timeout)
        try self.init(store: store, rank: e.rank, worldSize: e.worldSize, timeout: timeout, interface: e.socketInterface)
    }

    deinit { ct_group_free(handle) }

    private func work(_ name: String, _ h: ct_work?, _ tensors: [Tensor]) throws -> CollectiveWork {
        guard let h else { throw DistributedError(operation: name, rank: rank, worldSize: worldSize, detail: lastTorchError) }
        return CollectiveWork(handle: h, name: name, tensors: tensors, rank: rank, worldSize: worldSize)
    }

    /// Starts an in-place allreduce of `tensor` (contiguous, the same shape on every rank).
    public func allReduceAsync(_ tensor: Tensor, _ op: ReduceOp = .sum) throws -> CollectiveWork {
        try work("allreduce", ct_allreduce(handle, tensor.handle, op.rawValue), [tensor])
    }

    /// Allreduces `tensor` in place and waits.
    public func allReduce(_ tensor: Tensor, _ op: ReduceOp = .sum) throws {
        try allReduceAsync(tensor, op).wait()
    }

    /// Starts an in-place broadcast of `tensor` from `root`.
    public func broadcastAsync(_ tensor: Tensor, root: Int = 0) throws -> CollectiveWork {
        try work("broadcast", ct_broadcast(handle, tensor.handle, Int32(root)), [tensor])
    }

    /// Overwrites `tensor` with `root`'s and waits.
    public func broadcast(_ tensor: Tensor, root: Int = 0) throws {
        try broadcastAsync(tensor, root: root).wait()
    }

    /// The sum of `tensor` over ranks as a new tensor, recorded by autograd: backward sums
    /// the ranks' gradients alike. Blocking; every rank must call it at the same point of
    /// its forward (and so of its backward).
    public func differentiableSum(_ tensor: Tensor) throws -> Tensor {
        guard let h = ct_allreduce_sum_differentiable(handle, tensor.handle) else {
            throw DistributedError(operation: "allreduce (synchronized BatchNorm)", rank: rank, worldSize: worldSize,
                                   detail: lastTorchError)
        }
        return Tensor(owning: h)
    }

    /// Every rank's `tensor` (the same shape everywhere), in rank order.
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        let outputs = (0..<worldSize).map { _ in tensor.zerosLike() }
        let input = tensor.contiguous()
        let h = outputs.map { $0.handle as ct_tensor? }.withUnsafeBufferPointer {
            ct_allgather(handle, input.handle, $0.baseAddress, Int32(worldSize))
        }
        try work("allgather", h, outputs + [input]).wait()
        return outputs
    }

    /// Waits until every rank has reached this point.
    public func barrier() throws {
        try work("barrier", ct_barrier(handle), []).wait()
    }
}
