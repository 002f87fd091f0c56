import Foundation
import Torch
import TorchNN

/// Per-task loss values and label counts summed over ranks.
struct GlobalLosses {
    /// The labelled-sample-weighted mean loss over all ranks (nil: no rank had labels).
    var values: [Double?]
    /// Labelled samples per task, over all ranks.
    var labelled: [Int]
}

extension Trainer {
    /// Trains data-parallel in `group`, as PyTorch's DistributedDataParallel: the model's
    /// (and the weighting's) parameters and buffers are broadcast from rank 0 now, and every
    /// step averages gradients across ranks (see ``DistributedDataParallel``).
    ///
    /// - Loss-level methods combine each rank's local losses; the gradients of the combined
    ///   loss are averaged in buckets that overlap backward.
    /// - Gradient-level methods aggregate the ranks' *combined* Jacobian: per-task
    ///   parameter gradients are averaged across ranks (one allreduce of T × shared
    ///   parameters per step), feature gradients are gathered (T × batch × features per
    ///   rank), so every rank aggregates the same matrix as one process with the whole batch.
    /// - Each step agrees on the loss values (one allreduce of 2T numbers) so that a
    ///   non-finite loss stops or skips on every rank alike, and a stop request on any rank
    ///   stops all at the same step.
    ///
    /// Every rank must call this with the same model and settings.
    ///
    /// - Parameter synchronizedBatchNorm: normalise with the statistics of all ranks' batches
    ///   together (`SyncBatchNorm`) instead of each rank's own.
    public func distribute(over group: ProcessGroup, bucketCapMB: Double = 25, synchronizedBatchNorm: Bool = false) throws {
        if synchronizedBatchNorm {
            for case let bn as BatchNorm in model.modules() { bn.synchronization = group }
        }
        var params = allModelParameters
        if case let .loss(w) = weighting { params += w.parameters }
        dataParallel = try DistributedDataParallel(parameters: params, buffers: modelBuffers, group: group,
                                                   bucketCapMB: bucketCapMB)
    }

    /// The process group of a distributed trainer.
    public var processGroup: ProcessGroup? { dataParallel?.group }


    /// Whether this process writes files and logs (rank 0, or not distributed).
    public var isPrimary: Bool { (dataParallel?.group.rank ?? 0) == 0 }

    /// Makes every rank's buffers rank 0's (before evaluating, so that all ranks see one model).
    public func synchronizeBuffers() throws {
        try dataParallel?.beforeForward()
    }

    /// Whether any rank asked to stop (one tiny allreduce when distributed).
    func anyRankStopping() throws -> Bool {
        let local = stopRequest?.isRequested == true
        guard let group = dataParallel?.group else { return local }
        let flag = Tensor([local ? 1.0 : 0.0])
        try group.allReduce(flag, .max)
        return flag.item() > 0
    }

    /// Sums loss values and label counts over ranks (local values when not distributed).
    func globalLosses(_ values: [Double?], labelled: [Int]) throws -> GlobalLosses {
        guard let group = dataParallel?.group else { return GlobalLosses(values: values, labelled: labelled) }
        let t = values.count
        var flat = [Double](repeating: 0, count: 2 * t)
        for k in 0..<t {
            if let v = values[k] {
                flat[k] = v * Double(Swift.max(labelled[k], 1))
                flat[t + k] = Double(Swift.max(labelled[k], 1))
            }
        }
        let sums = Tensor(flat)
        try group.allReduce(sums, .sum)
        let s = sums.scalars(as: Double.self)
        return GlobalLosses(values: (0..<t).map { s[t + $0] > 0 ? s[$0] / s[t + $0] : nil },
                            labelled: (0..<t).map { Int(s[t + $0].rounded()) })
    }
}
