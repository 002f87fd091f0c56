import Torch

extension HydraTask {
    /// The task's loss averaged over the samples that have its label.
    ///
    /// - Parameters:
    ///   - output: head output, B × outputCount.
    ///   - target: labels, B (regression/binary: float, multiclass: int64) or B × n
    ///     (multilabel); values of masked-out samples are ignored (they may be anything).
    ///   - mask: bool B, true where the label is present.
    /// - Returns: a scalar; exactly 0 when no sample has the label (still attached to the
    ///   graph, with zero gradients and no NaN).
    public func maskedLoss(output: Tensor, target: Tensor, mask: Tensor) -> Tensor {
        let present = mask.to(dtype: output.dtype)
        var denominator = present
        if case .multiclass = kind, case let .crossEntropy(weights?, _) = loss {
            // PyTorch's weighted mean: per-sample losses already carry their class weight;
            // divide by the summed class weights of the present samples.
            let w = Tensor(weights.map { Float($0) }).to(output.device, dtype: output.dtype)
            denominator = present * w.indexSelect(dim: 0, index: safe(target.to(dtype: .int64), mask))
        }
        let perSample = perSampleLoss(output: output, target: target, mask: mask)
        return (perSample * present).sum() / denominator.sum().clamped(min: 1e-12)
    }

    /// The loss of each sample (B), with missing labels replaced by harmless values first so
    /// that no NaN or out-of-range index can arise from them.
    public func perSampleLoss(output: Tensor, target: Tensor, mask: Tensor) -> Tensor {
        switch kind {
        case .regression:
            let y = safe(target.to(dtype: output.dtype), mask)
            let standardized = standardize ? (y - targetMean) / targetStd : y
            let prediction = output.reshaped([-1])
            switch loss {
            case .mse: return Functional.mseLoss(prediction, standardized, reduction: .none)
            case let .huber(delta): return Functional.huberLoss(prediction, standardized, reduction: .none, delta: delta)
            default: return Functional.l1Loss(prediction, standardized, reduction: .none)
            }
        case .binary, .multilabel:
            let y = safe(target.to(dtype: output.dtype), mask).reshaped(output.shape)
            var posWeight: Tensor?
            if case let .binaryCrossEntropy(pw?) = loss {
                posWeight = Tensor(pw.map { Float($0) }).to(output.device, dtype: output.dtype)
            }
            let l = Functional.binaryCrossEntropyWithLogits(output, y, posWeight: posWeight, reduction: .none)
            return l.mean(dim: 1)
        case .multiclass:
            let y = safe(target.to(dtype: .int64), mask)
            var weight: Tensor?
            var smoothing = 0.0
            if case let .crossEntropy(w, s) = loss {
                weight = w.map { Tensor($0.map { Float($0) }).to(output.device, dtype: output.dtype) }
                smoothing = s
            }
            return Functional.crossEntropy(output, y, weight: weight, reduction: .none, labelSmoothing: smoothing)
        }
    }

    /// `target` with the rows of missing samples set to zero (a valid value for every kind).
    private func safe(_ target: Tensor, _ mask: Tensor) -> Tensor {
        let m = target.rank > 1 ? mask.reshaped([-1] + Array(repeating: 1, count: target.rank - 1)) : mask
        return Tensor.where(m, target, target.zerosLike())
    }
}
