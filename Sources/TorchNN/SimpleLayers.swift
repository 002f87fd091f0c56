import Torch

/// Returns its input (`nn.Identity`), e.g. to drop a backbone's classifier.
public final class Identity: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Zeroes elements with probability `p` in training mode (`nn.Dropout`).
///
/// Masks come from ``generator`` when one is set (seeded, reproducible whatever else draws
/// random numbers), otherwise from libtorch's global generator as in PyTorch.
public final class Dropout: Module {
    public let p: Double
    /// Where the masks are drawn from; nil means libtorch's global generator.
    public var generator: Generator?

    public init(_ p: Double = 0.5, generator: Generator? = nil) {
        precondition(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.dropout(input, p: p, training: isTraining, generator: generator)
    }
    public override var extraDescription: String { "p=\(pythonFloat(p)), inplace=False" }
}

/// Flattens dimensions `startDim...endDim` (`nn.Flatten`, default from dim 1).
public final class Flatten: Module {
    public let startDim: Int
    public let endDim: Int

    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.flattened(startDim: startDim, endDim: endDim) }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}

public final class ReLU: Module {
    /// Overwrite the input instead of allocating the output (`nn.ReLU(inplace=True)`):
    /// one activation less to write and to keep for the backward pass. Only for an input
    /// nothing else reads afterwards, such as a convolution's or BatchNorm's fresh output.
    public let inplace: Bool
    public init(inplace: Bool = false) {
        self.inplace = inplace
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { inplace ? input.relu_() : input.relu() }
    public override var extraDescription: String { inplace ? "inplace=True" : "" }
}

public final class LeakyReLU: Module {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { Functional.leakyRelu(input, negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(pythonFloat(negativeSlope))" }
}

public final class GELU: Module {
    public let tanhApproximation: Bool
    public init(tanhApproximation: Bool = false) {
        self.tanhApproximation = tanhApproximation
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor {
        Functional.gelu(input, tanhApproximation: tanhApproximation)
    }
    public override var extraDescription: String { "approximate='\(tanhApproximation ? "tanh" : "none")'" }
}

public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.silu() }
}

public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// 2-D max pooling (`nn.MaxPool2d`); `stride` defaults to the kernel size.
public final class MaxPool2d: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public let ceilMode: Bool

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
        self.dilation = (dilation, dilation)
        self.ceilMode = ceilMode
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                             ceilMode: ceilMode)
    }

    public override var extraDescription: String {
        "kernel_size=\(kernelSize.0), stride=\(stride.0), padding=\(padding.0), dilation=\(dilation.0), "
            + "ceil_mode=\(ceilMode ? "True" : "False")"
    }
}

/// 2-D average pooling (`nn.AvgPool2d`); `stride` defaults to the kernel size.
public final class AvgPool2d: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let ceilMode: Bool, countIncludePad: Bool

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                             countIncludePad: countIncludePad)
    }

    public override var extraDescription: String {
        "kernel_size=\(kernelSize.0), stride=\(stride.0), padding=\(padding.0)"
    }
}

/// Average pooling to a fixed output size (`nn.AdaptiveAvgPool2d`).
public final class AdaptiveAvgPool2d: Module {
    public let outputSize: (Int, Int)

    public init(outputSize: (Int, Int) = (1, 1)) {
        self.outputSize = outputSize
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.adaptiveAvgPool2d(input, outputSize: outputSize)
    }

    public override var extraDescription: String { "output_size=\(pair(outputSize))" }
}
