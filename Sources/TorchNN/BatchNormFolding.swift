import Torch

/// Folds eval-mode BatchNorm layers into the convolutions that feed them, for inference.
///
/// In eval mode `BatchNorm2d(Conv2d(x))` is an affine map per output channel, so it can be
/// merged into the convolution: with `s = γ / √(running_var + ε)`,
/// `w' = w · s` (per output channel) and `b' = β − running_mean · s + b · s`. The folded
/// BatchNorm is then bypassed (``BatchNorm/isFolded``), saving one pass over every
/// activation. Only pairs where the BatchNorm reads the convolution's output and nothing
/// else does are folded: ResNet's stem (`conv1`/`bn1`), BasicBlock and Bottleneck `convN`/`bnN`,
/// and a `Conv2d` directly followed by a `BatchNorm2d` in a ``Sequential`` (ResNet's
/// downsample, ``ConvNet``'s stages).
public enum BatchNormFolding {
    /// Folds every foldable Conv2d→BatchNorm2d pair under `module`, **in place**, and returns
    /// how many were folded. The module must be in eval mode, and stays an inference-only
    /// module: folded BatchNorms refuse to train, and its state dict (convolutions gain a
    /// `bias`) no longer matches an unfused model's. Fold a copy, never a model still being
    /// trained. BatchNorms without running statistics, or already folded, are left alone.
    @discardableResult
    public static func foldInPlace(_ module: Module) -> Int {
        let all = module.modules()
        precondition(all.allSatisfy { !$0.isTraining }, "BatchNormFolding: the module must be in eval mode")
        var count = 0
        for m in all {
            switch m {
            case let r as ResNet:
                count += fold(r.conv1, into: r.bn1)
            case let b as BasicBlock:
                count += fold(b.conv1, into: b.bn1) + fold(b.conv2, into: b.bn2)
            case let b as Bottleneck:
                count += fold(b.conv1, into: b.bn1) + fold(b.conv2, into: b.bn2) + fold(b.conv3, into: b.bn3)
            case let s as Sequential where s.count >= 2:
                for i in 0..<(s.count - 1) {
                    if let conv = s[i] as? Conv2d, let bn = s[i + 1] as? BatchNorm2d { count += fold(conv, into: bn) }
                }
            default:
                break
            }
        }
        return count
    }

    /// Folds `bn` into `conv` (computed in float64, stored in the convolution's dtype);
    /// 1 if folded, 0 if left alone.
    static func fold(_ conv: Conv2d, into bn: BatchNorm) -> Int {
        guard !bn.isFolded, let mean = bn.runningMean, let variance = bn.runningVar else { return 0 }
        precondition(conv.outChannels == bn.numFeatures,
                     "BatchNormFolding: \(conv.outChannels) convolution channels into \(bn.numFeatures) BatchNorm features")
        let dtype = conv.weight.dtype
        let (weight, bias): (Tensor, Tensor) = withNoGrad {
            var scale = (variance.to(dtype: .float64) + bn.eps).rsqrt()
            if let gamma = bn.weight { scale = scale * gamma.to(dtype: .float64) }
            var shift = mean.to(dtype: .float64) * scale * -1.0
            if let beta = bn.bias { shift = shift + beta.to(dtype: .float64) }
            if let b = conv.bias { shift = shift + b.to(dtype: .float64) * scale }
            let w = conv.weight.to(dtype: .float64) * scale.reshaped([-1, 1, 1, 1])
            return (w.to(dtype: dtype).detached(), shift.to(dtype: dtype).detached())
        }
        conv.weight = weight
        conv.bias = bias
        bn.isFolded = true
        return 1
    }
}
