import Torch

/// 2-D convolution (`nn.Conv2d`) with PyTorch's default initialisation.
public final class Conv2d: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                device: Device = .cpu, generator: Generator? = nil) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels)→\(outChannels) not divisible by groups \(groups)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        weight = Tensor.empty([outChannels, inChannels / groups, kernelSize.0, kernelSize.1], device: device)
        self.bias = bias ? Tensor.empty([outChannels], device: device) : nil
        super.init()
        resetParameters(generator: generator)
    }

    /// Square-kernel convenience: `Conv2d(3, 64, kernelSize: 3, stride: 1, padding: 1)`.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                            device: Device = .cpu, generator: Generator? = nil) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), dilation: (dilation, dilation), groups: groups, bias: bias,
                  device: device, generator: generator)
    }

    /// Re-draws the default initialisation (`reset_parameters`), from `generator` or else the
    /// global generator.
    public func resetParameters(generator: Generator? = nil) {
        Init.kaimingUniform(weight, a: 5.0.squareRoot(), generator: generator)
        if let bias {
            let fanIn = Init.fans(weight).fanIn
            let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
            Init.uniform(bias, low: -bound, high: bound, generator: generator)
        }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        Functional.conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                          groups: groups)
    }

    public override var extraDescription: String {
        var s = "\(inChannels), \(outChannels), kernel_size=\(pair(kernelSize)), stride=\(pair(stride))"
        if padding != (0, 0) { s += ", padding=\(pair(padding))" }
        if dilation != (1, 1) { s += ", dilation=\(pair(dilation))" }
        if groups != 1 { s += ", groups=\(groups)" }
        if bias == nil { s += ", bias=False" }
        return s
    }
}
