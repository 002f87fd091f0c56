import Foundation
import Torch

/// Data parallelism as PyTorch's `DistributedDataParallel`: every rank holds a replica,
/// trains on its own shard of each batch, and the gradients are averaged across ranks
/// before the optimizer steps, so the replicas stay identical.
///
/// - At creation, parameters and buffers are broadcast from rank 0.
/// - Before each forward, ``beforeForward()`` broadcasts the buffers again (BatchNorm's
///   running statistics: rank 0's win, as with `broadcast_buffers=True`); BatchNorm itself
///   normalises with each rank's local batch statistics.
/// - Gradients travel in buckets of about ``bucketCapBytes`` (the first one 1 MiB), in
///   reverse parameter order — the order backward produces them. A post-accumulate-grad
///   hook marks each parameter ready; a bucket's allreduce starts as soon as it and every
///   bucket before it are ready, so communication overlaps the rest of backward.
///   ``finishGradientSync(alreadyReduced:)`` launches what is left, waits, and writes the
///   averages back into `.grad`.
/// - A parameter with no gradient on any rank keeps none (the optimizer skips it); one
///   with a gradient on some ranks gets the average over all ranks, missing ones as zero.
/// - ``noSync(_:)`` accumulates gradients locally (gradient accumulation); the next
///   synchronised backward reduces the accumulated sums.
///
/// Every rank must create it with the same parameters in the same order and call the same
/// methods in the same order. Backward must run on the thread that calls these methods (it
/// does for CPU tensors).
public final class DistributedDataParallel: GradientReadyListener {
    public let group: ProcessGroup
    /// The parameters whose gradients are averaged (those that required grad at creation).
    public let parameters: [Tensor]
    /// Buffers kept equal to rank 0's.
    public let buffers: [Tensor]
    /// Broadcast buffers from rank 0 before every forward (`broadcast_buffers`).
    public var broadcastBuffers = true
    /// The size cap of a gradient bucket in bytes.
    public let bucketCapBytes: Int
    /// Parameter indices per bucket, in launch order.
    public let buckets: [[Int]]
    /// When false (inside ``noSync(_:)``), backward does not communicate.
    public private(set) var synchronizing = true
    /// Launch buckets from the backward hooks as they fill (default). Off, every bucket
    /// waits for ``finishGradientSync(alreadyReduced:)``: no overlap (for measurements).
    public var overlapsBackward = true

    /// What the last synchronised step's communication did.
    public struct StepStatistics: Sendable, Equatable {
        /// Buckets whose allreduce started during backward (the rest started after it).
        public var bucketsLaunchedInBackward = 0
        public var buckets = 0
        /// Seconds spent blocked waiting for allreduces after backward (communication
        /// that compute did not hide), and spent flattening and copying gradients.
        public var waitSeconds = 0.0
        public var copySeconds = 0.0
    }
    /// Filled by each ``finishGradientSync(alreadyReduced:)``.
    public private(set) var lastStep = StepStatistics()
    private var launchedInBackward = 0
    private var copyNanoseconds: UInt64 = 0

    private var bucketOf: [Int] = []
    private var ready: [Bool] = []
    private var pending: [Int] = []
    private var nextBucket = 0
    private var inFlight: [(bucket: Int, flat: Tensor, work: CollectiveWork)] = []
    private var hookError: String?
    private var bucketBuffers: [Tensor?] = []
    private let index: [ObjectIdentifier: Int]

    /// Wraps the replica's `parameters` and `buffers` (e.g. `module.parameters()` and its
    /// buffers, plus a weighting method's own parameters) and broadcasts them from rank 0.
    ///
    /// - Parameter bucketCapMB: bucket size cap in MiB (PyTorch's `bucket_cap_mb`, 25).
    public init(parameters: [Tensor], buffers: [Tensor], group: ProcessGroup, bucketCapMB: Double = 25) throws {
        guard bucketCapMB > 0 else { throw TorchError.invalidArgument("bucket cap must be positive, got \(bucketCapMB) MiB") }
        self.group = group
        self.parameters = parameters.filter(\.requiresGrad)
        self.buffers = buffers
        bucketCapBytes = Int(bucketCapMB * 1_048_576)
        buckets = DistributedDataParallel.assignBuckets(self.parameters, capBytes: bucketCapBytes,
                                                        firstCapBytes: min(bucketCapBytes, 1_048_576))
        var index: [ObjectIdentifier: Int] = [:]
        for (i, p) in self.parameters.enumerated() { index[ObjectIdentifier(p)] = i }
        self.index = index
        bucketOf = Array(repeating: 0, count: self.parameters.count)
        bucketBuffers = Array(repeating: nil, count: buckets.count)
        for (b, members) in buckets.enumerated() { for i in members { bucketOf[i] = b } }
        try withNoGrad {
            for t in parameters + buffers { try broadcastInPlace(t) }
        }
        for (i, p) in self.parameters.enumerated() { try p.setGradientReadyHook(self, index: i) }
        reset()
    }

    deinit {
        for p in parameters { try? p.setGradientReadyHook(nil, index: 0) }
    }

    /// Buckets in reverse parameter order, split by dtype, device and size (the first bucket
    /// smaller, so that communication starts early).
    static func assignBuckets(_ parameters: [Tensor], capBytes: Int, firstCapBytes: Int) -> [[Int]] {
        var result: [[Int]] = []
        var open: [String: (members: [Int], bytes: Int)] = [:]
        for i in parameters.indices.reversed() {
            let p = parameters[i]
            let bytes = p.count * p.dtype.itemSize
            let key = "\(p.dtype)@\(p.device)"
            var bucket = open[key] ?? ([], 0)
            bucket.members.append(i)
            bucket.bytes += bytes
            if bucket.bytes >= (result.isEmpty ? firstCapBytes : capBytes) {
                result.append(bucket.members)
                open[key] = nil
            } else {
                open[key] = bucket
            }
        }
        for (_, bucket) in open.sorted(by: { $0.value.members[0] > $1.value.members[0] }) { result.append(bucket.members) }
        return result
    }

    private func broadcastInPlace(_ t: Tensor) throws {
        if t.isContiguous {
            try group.broadcast(t, root: 0)
        } else {
            let c = t.contiguous()
            try group.broadcast(c, root: 0)
            t.copy_(c)
        }
    }

    private func reset() {
        ready = Array(repeating: false, count: parameters.count)
        pending = buckets.map(\.count)
        nextBucket = 0
        inFlight = []
        hookError = nil
        launchedInBackward = 0
        copyNanoseconds = 0
    }

    /// Call before each forward: broadcasts buffers from rank 0 (when ``broadcastBuffers``)
    /// and forgets any unfinished synchronisation.
    public func beforeForward() throws {
        reset()
        if broadcastBuffers && group.worldSize > 1 && !buffers.isEmpty {
            try withNoGrad { for b in buffers { try broadcastInPlace(b) } }
        }
    }

    /// Runs `body` without gradient synchronisation (`no_sync`): backward accumulates local
    /// gradients, to be reduced by the first synchronised backward after it.
    public func noSync<T>(_ body: () throws -> T) rethrows -> T {
        let previous = synchronizing
        synchronizing = false
        defer { synchronizing = previous }
        return try body()
    }

    /// Called by the autograd hook when a parameter's gradient has been accumulated.
    public func gradientReady(index i: Int) {
        guard synchronizing else { return }
        markReady(i)
    }

    /// Marks gradients set outside backward (e.g. by `Autograd.grad`) as final, letting
    /// their buckets launch.
    public func markGradientsReady(_ tensors: [Tensor]) {
        guard synchronizing else { return }
        for t in tensors { if let i = index[ObjectIdentifier(t)] { markReady(i) } }
    }

    private func markReady(_ i: Int) {
        guard !ready[i] else {
            hookError = hookError ?? "parameter \(i)'s gradient was produced twice in one synchronised step "
                + "(run the extra backward passes inside noSync)"
            return
        }
        ready[i] = true
        pending[bucketOf[i]] -= 1
        while overlapsBackward && nextBucket < buckets.count && pending[nextBucket] == 0 {
            do { try launch(nextBucket) } catch { hookError = hookError ?? "\(error)" }
            nextBucket += 1
            launchedInBackward += 1
        }
    }

    /// Flattens the bucket's gradients (zeros where a parameter has none) followed by one
    /// presence flag per parameter, and starts a sum allreduce.
    private func launch(_ b: Int, skipping: Set<Int> = []) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { copyNanoseconds += DispatchTime.now().uptimeNanoseconds - start }
        let members = buckets[b]
        // One flat buffer per bucket, kept across steps (no fresh allocation to page in):
        // the gradients (zeros where absent), then one presence flag per parameter.
        let flat: Tensor
        if let buffer = bucketBuffers[b] {
            flat = buffer
        } else {
            let first = parameters[members[0]]
            let total = members.reduce(0) { $0 + parameters[$1].count } + members.count
            flat = Tensor.zeros([total], dtype: first.dtype, device: first.device)
            bucketBuffers[b] = flat
        }
        withNoGrad {
            var offset = 0
            for (k, i) in members.enumerated() {
                let p = parameters[i]
                let slot = flat.narrow(dim: 0, start: offset, length: p.count)
                let flag = flat.narrow(dim: 0, start: flat.count - members.count + k, length: 1)
                if !skipping.contains(i), let g = p.grad {
                    slot.copy_(g.reshaped([-1]))
                    flag.fill_(1)
                } else {
                    slot.zero_()
                    flag.zero_()
                }
                offset += p.count
            }
        }
        inFlight.append((b, flat, try group.allReduceAsync(flat, .sum)))
    }

    /// Launches the buckets still waiting (in order), waits for every allreduce, and writes
    /// the averaged gradients into `.grad`. Parameters in `alreadyReduced` (gradients the
    /// caller has made identical on every rank) are left as they are.
    ///
    /// - Throws: a collective's error (a peer died or timed out), or a hook's error.
    public func finishGradientSync(alreadyReduced: [Tensor] = []) throws {
        guard synchronizing else { return }
        defer { reset() }
        if let hookError { throw TorchError.invalidArgument("DistributedDataParallel: \(hookError)") }
        let skipping = Set(alreadyReduced.compactMap { index[ObjectIdentifier($0)] })
        while nextBucket < buckets.count {
            try launch(nextBucket, skipping: skipping)
            nextBucket += 1
        }
        let scale = 1.0 / Double(group.worldSize)
        var waited: UInt64 = 0
        let copyStart = DispatchTime.now().uptimeNanoseconds
        try withNoGrad {
            for (b, flat, work) in inFlight {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try work.wait()
                waited += DispatchTime.now().uptimeNanoseconds - t0
                let members = buckets[b]
                flat.mul_(scale)
                let flags = flat.narrow(dim: 0, start: flat.count - members.count, length: members.count)
                    .to(dtype: .float64).scalars(as: Double.self)
                var offset = 0
                for (k, i) in members.enumerated() {
                    let p = parameters[i]
                    let n = p.count
                    defer { offset += n }
                    guard !skipping.contains(i), flags[k] > 0 else { continue }
                    let average = flat.narrow(dim: 0, start: offset, length: n).reshaped(p.shape)
                    if let g = p.grad { g.copy_(average) } else { p.grad = average.clone() }
                }
            }
        }
        let total = DispatchTime.now().uptimeNanoseconds - copyStart
        lastStep = StepStatistics(bucketsLaunchedInBackward: launchedInBackward, buckets: buckets.count,
                                  waitSeconds: Double(waited) / 1e9,
                                  copySeconds: Double(copyNanoseconds + total - waited) / 1e9)
    }

    /// The average over ranks of `tensor` (same shape everywhere), as a new tensor.
    public func averaged(_ tensor: Tensor) throws -> Tensor {
        let t = tensor.contiguous().clone()
        try group.allReduce(t, .sum)
        return t * (1.0 / Double(group.worldSize))
    }
}
