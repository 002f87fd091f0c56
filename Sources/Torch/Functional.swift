import CTorch

/// How a loss reduces its per-element values (`reduction=` in PyTorch).
public enum Reduction: Int32, Sendable {
    case none = 0, mean = 1, sum = 2
}

/// Interpolation modes for ``Functional/interpolate(_:size:mode:alignCorners:antialias:)``.
public enum InterpolationMode: Int32, Sendable {
    case bilinear = 0, nearest = 1, bicubic = 2
}

/// Stateless neural-network functions, as `torch.nn.functional`.
public enum Functional {
    /// 2-D convolution over an N×C×H×W input (`F.conv2d`).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let s = [Int64(stride.0), Int64(stride.1)], p = [Int64(padding.0), Int64(padding.1)]
        let d = [Int64(dilation.0), Int64(dilation.1)]
        return checked("conv2d", ct_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups)))
    }

    /// 2-D max pooling (`F.max_pool2d`); `stride` defaults to the kernel size.
    public static func maxPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil,
                                 padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                                 ceilMode: Bool = false) -> Tensor {
        let st = stride ?? kernelSize
        let k = [Int64(kernelSize.0), Int64(kernelSize.1)], s = [Int64(st.0), Int64(st.1)]
        let p = [Int64(padding.0), Int64(padding.1)], d = [Int64(dilation.0), Int64(dilation.1)]
        return checked("maxPool2d", ct_max_pool2d(x.handle, k, s, p, d, ceilMode ? 1 : 0))
    }

    /// 2-D average pooling (`F.avg_pool2d`); `stride` defaults to the kernel size.
    public static func avgPool2d(_ x: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil,
                                 padding: (Int, Int) = (0, 0), ceilMode: Bool = false,
                                 countIncludePad: Bool = true) -> Tensor {
        let st = stride ?? kernelSize
        let k = [Int64(kernelSize.0), Int64(kernelSize.1)], s = [Int64(st.0), Int64(st.1)]
        let p = [Int64(padding.0), Int64(padding.1)]
        return checked("avgPool2d", ct_avg_pool2d(x.handle, k, s, p, ceilMode ? 1 : 0, countIncludePad ? 1 : 0))
    }

    /// Adaptive average pooling to a fixed output size (`F.adaptive_avg_pool2d`).
    public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
        checked("adaptiveAvgPool2d", ct_adaptive_avg_pool2d(x.handle, [Int64(outputSize.0), Int64(outputSize.1)]))
    }

    /// Batch normalisation (`F.batch_norm`). In training mode, given running statistics are
    /// updated in place with `momentum` (unbiased variance), as PyTorch does.
    public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil,
                                 bias: Tensor? = nil, training: Bool, momentum: Double = 0.1,
                                 eps: Double = 1e-5) -> Tensor {
        checked("batchNorm", ct_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle,
                                           runningVar?.handle, training ? 1 : 0, momentum, eps))
    }

    /// Layer normalisation over the trailing `normalizedShape` dimensions (`F.layer_norm`).
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                 eps: Double = 1e-5) -> Tensor {
        withInt64s(normalizedShape) { s, n in
            checked("layerNorm", ct_layer_norm(x.handle, s, n, weight?.handle, bias?.handle, eps))
        }
    }

    /// Group normalisation (`F.group_norm`).
    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor? = nil, bias: Tensor? = nil,
                                 eps: Double = 1e-5) -> Tensor {
        checked("groupNorm", ct_group_norm(x.handle, Int64(groups), weight?.handle, bias?.handle, eps))
    }

    /// Dropout: zeroes elements with probability `p` and scales the rest by 1/(1−p) when
    /// training; the identity otherwise (`F.dropout`).
    /// With a `generator` the mask is drawn from it (on the CPU, then copied for other
    /// devices), otherwise from the global generator.
    public static func dropout(_ x: Tensor, p: Double = 0.5, training: Bool = true,
                               generator: Generator? = nil) -> Tensor {
        guard let generator, training, p > 0 else { return checked("dropout", ct_dropout(x.handle, p, training ? 1 : 0)) }
        if x.device == .cpu { return checked("dropout", ct_dropout_gen(x.handle, p, 1, generator.handle)) }
        // The scaled mask, drawn on the CPU exactly as for a CPU tensor, then applied here.
        let ones = Tensor.ones(x.shape, dtype: x.dtype, device: .cpu)
        let mask = withExtendedLifetime(ones) { checked("dropout", ct_dropout_gen(ones.handle, p, 1, generator.handle)) }
        return x * mask.to(device: x.device)
    }

    public static func relu(_ x: Tensor) -> Tensor { x.relu() }
    public static func sigmoid(_ x: Tensor) -> Tensor { x.sigmoid() }
    public static func tanh(_ x: Tensor) -> Tensor { x.tanh() }
    public static func silu(_ x: Tensor) -> Tensor { x.silu() }

    /// Leaky ReLU (`F.leaky_relu`).
    public static func leakyRelu(_ x: Tensor, negativeSlope: Double = 0.01) -> Tensor {
        checked("leakyRelu", ct_leaky_relu(x.handle, negativeSlope))
    }

    /// GELU, exact (erf) or with the tanh approximation (`F.gelu`).
    public static func gelu(_ x: Tensor, tanhApproximation: Bool = false) -> Tensor {
        checked("gelu", ct_gelu(x.handle, tanhApproximation ? 1 : 0))
    }

    /// Softmax along `dim` (`F.softmax`).
    public static func softmax(_ x: Tensor, dim: Int) -> Tensor { checked("softmax", ct_softmax(x.handle, Int64(dim))) }

    /// Log-softmax along `dim` (`F.log_softmax`).
    public static func logSoftmax(_ x: Tensor, dim: Int) -> Tensor {
        checked("logSoftmax", ct_log_softmax(x.handle, Int64(dim)))
    }

    /// Resizes an N×C×H×W tensor to `size` (`F.interpolate`). With `antialias` and
    /// bilinear mode this is torchvision's `Resize(antialias=True)` on tensors.
    public static func interpolate(_ x: Tensor, size: (Int, Int), mode: InterpolationMode = .bilinear,
                                   alignCorners: Bool = false, antialias: Bool = false) -> Tensor {
        checked("interpolate", ct_interpolate(x.handle, [Int64(size.0), Int64(size.1)], mode.rawValue,
                                              alignCorners ? 1 : 0, antialias ? 1 : 0))
    }

    /// One-hot encoding of an int64 tensor (`F.one_hot`); `numClasses` −1 infers it.
    public static func oneHot(_ x: Tensor, numClasses: Int = -1) -> Tensor {
        checked("oneHot", ct_one_hot(x.handle, Int64(numClasses)))
    }

    /// Rows of `weight` selected by `indices` (`F.embedding`).
    public static func embedding(_ indices: Tensor, weight: Tensor) -> Tensor {
        checked("embedding", ct_embedding(weight.handle, indices.handle))
    }

    // MARK: Losses

    /// Mean absolute error (`F.l1_loss`).
    public static func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        checked("l1Loss", ct_l1_loss(input.handle, target.handle, reduction.rawValue))
    }

    /// Mean squared error (`F.mse_loss`).
    public static func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        checked("mseLoss", ct_mse_loss(input.handle, target.handle, reduction.rawValue))
    }

    /// Smooth L1 loss (`F.smooth_l1_loss`).
    public static func smoothL1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean,
                                    beta: Double = 1) -> Tensor {
        checked("smoothL1Loss", ct_smooth_l1_loss(input.handle, target.handle, reduction.rawValue, beta))
    }

    /// Huber loss (`F.huber_loss`).
    public static func huberLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean,
                                 delta: Double = 1) -> Tensor {
        checked("huberLoss", ct_huber_loss(input.handle, target.handle, reduction.rawValue, delta))
    }

    /// Binary cross-entropy on logits, numerically stable (`F.binary_cross_entropy_with_logits`).
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                                    posWeight: Tensor? = nil,
                                                    reduction: Reduction = .mean) -> Tensor {
        checked("binaryCrossEntropyWithLogits",
                ct_bce_with_logits(logits.handle, target.handle, weight?.handle, posWeight?.handle, reduction.rawValue))
    }

    /// Cross-entropy on logits with class indices or probabilities (`F.cross_entropy`).
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                    reduction: Reduction = .mean, ignoreIndex: Int = -100,
                                    labelSmoothing: Double = 0) -> Tensor {
        checked("crossEntropy", ct_cross_entropy(logits.handle, target.handle, weight?.handle, reduction.rawValue,
                                                 Int64(ignoreIndex), labelSmoothing))
    }

    /// Negative log-likelihood on log-probabilities (`F.nll_loss`).
    public static func nllLoss(_ logProbs: Tensor, _ target: Tensor, weight: Tensor? = nil,
                               reduction: Reduction = .mean, ignoreIndex: Int = -100) -> Tensor {
        checked("nllLoss", ct_nll_loss(logProbs.handle, target.handle, weight?.handle, reduction.rawValue,
                                       Int64(ignoreIndex)))
    }

    /// `x · Wᵀ + b` (`F.linear`).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        checked("linear", ct_linear(x.handle, weight.handle, bias?.handle))
    }
}

extension Tensor {
    /// Softmax along `dim`.
    public func softmax(dim: Int) -> Tensor { Functional.softmax(self, dim: dim) }
    /// Log-softmax along `dim`.
    public func logSoftmax(dim: Int) -> Tensor { Functional.logSoftmax(self, dim: dim) }
}
