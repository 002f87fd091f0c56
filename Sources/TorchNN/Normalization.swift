import Torch

/// Batch normalisation over the channel dimension (`nn.BatchNorm1d` / `nn.BatchNorm2d`).
///
/// Training mode normalises with batch statistics and updates the running ones with
/// `momentum` (or a cumulative average when `momentum` is nil) and counts
/// `num_batches_tracked`; evaluation mode uses the running statistics.
public class BatchNorm: Module {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    @Buffer public var runningMean: Tensor?
    @Buffer public var runningVar: Tensor?
    @Buffer public var numBatchesTracked: Tensor?
    public let numFeatures: Int
    public let eps: Double
    public let momentum: Double?
    /// Input ranks this variant accepts (2/3 for 1d, 4 for 2d).
    let ranks: Set<Int>
    /// Whether this layer's eval-mode affine map was folded into the preceding convolution
    /// (``BatchNormFolding``): its forward then returns its input unchanged, and it refuses
    /// to run in training mode. Its tensors are kept but no longer used.
    public internal(set) var isFolded = false
    /// Synchronized BatchNorm (`torch.nn.SyncBatchNorm`): in training, the batch statistics
    /// are those of every rank's batch together (two small allreduces per layer, forward and
    /// backward). nil: each rank's own batch (DDP's default).
    public var synchronization: ProcessGroup?

    init(numFeatures: Int, eps: Double, momentum: Double?, affine: Bool, trackRunningStats: Bool,
         ranks: Set<Int>, device: Device) {
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.ranks = ranks
        weight = affine ? Tensor.ones([numFeatures], device: device) : nil
        bias = affine ? Tensor.zeros([numFeatures], device: device) : nil
        runningMean = trackRunningStats ? Tensor.zeros([numFeatures], device: device) : nil
        runningVar = trackRunningStats ? Tensor.ones([numFeatures], device: device) : nil
        numBatchesTracked = trackRunningStats ? Tensor.zeros([], dtype: .int64, device: device) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if isFolded {
            precondition(!isTraining, "\(typeName) was folded into its convolution for inference: it cannot train")
            return input
        }
        precondition(ranks.contains(input.rank), "\(typeName): expected a \(ranks.sorted())-D input, got \(input.shape)")
        var factor = momentum ?? 0
        if isTraining, let count = numBatchesTracked {
            count.add_(1)
            if momentum == nil { factor = 1 / Double(count.itemInt()) }
        }
        let useBatchStats = isTraining || runningMean == nil
        if useBatchStats, let group = synchronization, group.worldSize > 1 {
            return synchronizedForward(input, group: group, factor: factor)
        }
        return Functional.batchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                    training: useBatchStats, momentum: factor, eps: eps)
    }

    /// Batch normalisation with the statistics of all ranks' batches: the mean from one
    /// allreduce of per-channel sums (with the counts), the biased variance from a second one
    /// of squared deviations (two passes, as a single batch_norm computes it).
    private func synchronizedForward(_ x: Tensor, group: ProcessGroup, factor: Double) -> Tensor {
        let c = numFeatures
        let dims = [0] + Array(2..<x.rank)
        let shape = [1, c] + Array(repeating: 1, count: x.rank - 2)
        do {
            let local = Tensor.cat([x.sum(dims: dims), Tensor.full([1], Double(x.count / c), dtype: x.dtype)])
            let sums = try group.differentiableSum(local)
            let n = sums.narrow(dim: 0, start: c, length: 1).detached()
            let mean = sums.narrow(dim: 0, start: 0, length: c) / n
            let centered = x - mean.reshaped(shape)
            let variance = try group.differentiableSum(centered.square().sum(dims: dims)) / n
            var y = centered * (variance + eps).rsqrt().reshaped(shape)
            if let weight { y = y * weight.reshaped(shape) }
            if let bias { y = y + bias.reshaped(shape) }
            if let runningMean, let runningVar {
                withNoGrad {
                    let count = n.item()
                    runningMean.mul_(1 - factor).add_(mean.detached() * factor)
                    runningVar.mul_(1 - factor).add_(variance.detached() * (factor * count / Swift.max(count - 1, 1)))
                }
            }
            return y
        } catch {
            // A forward cannot throw: the failure waits on the group for the trainer to
            // raise once the forward returns; this layer falls back to local statistics.
            group.recordFailure(error)
            return Functional.batchNorm(x, runningMean: nil, runningVar: nil, weight: weight, bias: bias,
                                        training: true, momentum: 0, eps: eps)
        }
    }

    public override var extraDescription: String {
        "\(numFeatures), eps=\(pythonFloat(eps)), momentum=\(momentum.map(pythonFloat) ?? "None"), "
            + "affine=\(weight != nil ? "True" : "False"), track_running_stats=\(runningMean != nil ? "True" : "False")"
    }
}

/// Batch normalisation of N×C or N×C×L inputs (`nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, device: Device = .cpu) {
        super.init(numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, ranks: [2, 3], device: device)
    }
}

/// Batch normalisation of N×C×H×W inputs (`nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, device: Device = .cpu) {
        super.init(numFeatures: numFeatures, eps: eps, momentum: momentum, affine: affine,
                   trackRunningStats: trackRunningStats, ranks: [4], device: device)
    }
}

/// Layer normalisation over the trailing dimensions (`nn.LayerNorm`).
public final class LayerNorm: Module {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                device: Device = .cpu) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, device: device) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, device: device) : nil
        super.init()
    }

    public convenience init(_ features: Int, eps: Double = 1e-5) { self.init([features], eps: eps) }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public override var extraDescription: String {
        "(\(normalizedShape.map(String.init).joined(separator: ", "))\(normalizedShape.count == 1 ? "," : "")), "
            + "eps=\(pythonFloat(eps)), elementwise_affine=\(weight != nil ? "True" : "False")"
    }
}

/// Group normalisation (`nn.GroupNorm`).
public final class GroupNorm: Module {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    public let numGroups: Int
    public let numChannels: Int
    public let eps: Double

    public init(_ numGroups: Int, _ numChannels: Int, eps: Double = 1e-5, affine: Bool = true, device: Device = .cpu) {
        precondition(numGroups > 0 && numChannels % numGroups == 0,
                     "GroupNorm: \(numChannels) channels not divisible into \(numGroups) groups")
        self.numGroups = numGroups
        self.numChannels = numChannels
        self.eps = eps
        weight = affine ? Tensor.ones([numChannels], device: device) : nil
        bias = affine ? Tensor.zeros([numChannels], device: device) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.groupNorm(input, groups: numGroups, weight: weight, bias: bias, eps: eps)
    }

    public override var extraDescription: String {
        "\(numGroups), \(numChannels), eps=\(pythonFloat(eps)), affine=\(weight != nil ? "True" : "False")"
    }
}
