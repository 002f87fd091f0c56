import Foundation
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

    /// Whether a 1×1 input takes the centre-tap shortcut in inference (see ``forward(_:)``).
    /// Off by default; inference copies whose weights never change in place turn it on (the
    /// fused copy behind HydraNet's `Predictor`, `HydraNetModel.fusedCopy`). The shortcut keeps a
    /// copy of the centre tap, found again whenever `weight` is replaced; a weight changed in
    /// place (an optimizer step, weight averaging) would leave it stale, hence opt-in.
    public var usesCentreTapForSinglePixelInputs = false
    private var centreTap: (weight: Tensor, tap: Tensor)?
    private let centreTapLock = NSLock()

    /// The centre tap (`weight[:, :, kh/2, kw/2]`, contiguous) the shortcut last used for the
    /// current weight; nil until the shortcut has run with it.
    public var cachedCentreTap: Tensor? {
        centreTapLock.withLock { centreTap.flatMap { $0.weight === weight ? $0.tap : nil } }
    }

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

    /// The convolution. With ``usesCentreTapForSinglePixelInputs`` on, in eval mode without
    /// gradient recording, a 1×1 input to an odd kernel padded by half its size (any stride,
    /// no dilation, one group) is a matrix product with the kernel's centre tap, the only
    /// weights that meet the input: a ResNet's last stage at 32 px reads 1/9 of its 3×3 weights.
    public override func forward(_ input: Tensor) -> Tensor {
        if usesCentreTapForSinglePixelInputs, let out = centreTapForward(input) { return out }
        return Functional.conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding,
                                 dilation: dilation, groups: groups)
    }

    /// The centre-tap shortcut, or nil where it does not apply.
    private func centreTapForward(_ input: Tensor) -> Tensor? {
        let (kh, kw) = kernelSize
        guard !isTraining, !Autograd.isGradEnabled, groups == 1, dilation == (1, 1), kh * kw > 1,
              kh % 2 == 1, kw % 2 == 1, padding == (kh / 2, kw / 2),
              input.rank == 4, input.shape[1] == inChannels, input.shape[2] == 1, input.shape[3] == 1
        else { return nil }
        let current = weight
        let tap: Tensor = centreTapLock.withLock {
            if let cached = centreTap, cached.weight === current { return cached.tap }
            let tap = current.select(dim: 3, index: kw / 2).select(dim: 2, index: kh / 2).contiguous()
            centreTap = (current, tap)
            return tap
        }
        let n = input.shape[0]
        return Functional.linear(input.reshaped([n, inChannels]), weight: tap, bias: bias)
            .reshaped([n, outChannels, 1, 1])
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
