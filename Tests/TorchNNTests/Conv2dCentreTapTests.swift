import Testing
import Torch
import TorchNN

/// ``Conv2d/usesCentreTapForSinglePixelInputs``: a 1×1 input meets only the kernel's centre.
struct Conv2dCentreTapTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var kernel: Int
        var stride: Int
        var channelsLast: Bool
        var testDescription: String { "\(kernel)×\(kernel), stride \(stride)\(channelsLast ? ", channels-last" : "")" }
    }

    static let shapes = [Shape(kernel: 3, stride: 1, channelsLast: false), Shape(kernel: 3, stride: 2, channelsLast: false),
                         Shape(kernel: 5, stride: 1, channelsLast: false), Shape(kernel: 3, stride: 1, channelsLast: true)]

    static func conv(_ s: Shape, seed: UInt64) -> Conv2d {
        let conv = Conv2d(24, 40, kernelSize: s.kernel, stride: s.stride, padding: s.kernel / 2,
                          generator: Generator(seed: seed))
        conv.eval()
        return conv
    }

    static func input(_ s: Shape, seed: UInt64) -> Tensor {
        let x = Tensor.randn([5, 24, 1, 1], generator: Generator(seed: seed))
        return s.channelsLast ? x.channelsLast() : x
    }

    @Test("a 1×1 input gives the convolution's output", arguments: shapes)
    func matchesConvolution(shape: Shape) {
        let plain = Self.conv(shape, seed: 1)
        let shortcut = Self.conv(shape, seed: 1)
        shortcut.usesCentreTapForSinglePixelInputs = true
        let x = Self.input(shape, seed: 2)
        let (expected, got) = withNoGrad { (plain(x), shortcut(x)) }
        #expect(shortcut.cachedCentreTap != nil, "the shortcut ran")
        #expect(got.shape == expected.shape)
        let scale = max(1, expected.abs().max().item())
        #expect((got - expected).abs().max().item() <= 1e-5 * scale)
    }

    @Test("the shortcut runs only where it applies: opted in, eval mode, no gradients, a 1×1 input")
    func onlyWhereItApplies() {
        let shape = Self.shapes[0]
        let x = Self.input(shape, seed: 4)
        let conv = Self.conv(shape, seed: 3)
        _ = withNoGrad { conv(x) }
        #expect(conv.cachedCentreTap == nil, "not opted in: the convolution")
        conv.usesCentreTapForSinglePixelInputs = true
        _ = conv(x)
        #expect(conv.cachedCentreTap == nil, "gradients recorded: the convolution")
        conv.train()
        _ = withNoGrad { conv(x) }
        #expect(conv.cachedCentreTap == nil, "training mode: the convolution")
        conv.eval()
        _ = withNoGrad { conv(Tensor.randn([5, 24, 2, 2], generator: Generator(seed: 5))) }
        #expect(conv.cachedCentreTap == nil, "a 2×2 input: the convolution")
        _ = withNoGrad { conv(x) }
        let tap = try? #require(conv.cachedCentreTap, "opted in, eval, no gradients, 1×1: the shortcut")
        let expected = conv.weight.select(dim: 3, index: 1).select(dim: 2, index: 1)
        #expect(tap?.equal(expected) == true)
    }

    @Test("a replaced weight is used, not the old centre tap")
    func followsReplacedWeight() {
        let shape = Self.shapes[0]
        let conv = Self.conv(shape, seed: 6)
        conv.usesCentreTapForSinglePixelInputs = true
        let x = Self.input(shape, seed: 7)
        let before = withNoGrad { conv(x) }
        withNoGrad { conv.weight = (conv.weight * 2).detached() }
        let after = withNoGrad { conv(x) }
        #expect(conv.cachedCentreTap?.equal(conv.weight.select(dim: 3, index: 1).select(dim: 2, index: 1)) == true)
        let bias = conv.bias!.reshaped([1, 40, 1, 1])
        let scale = max(1, before.abs().max().item())
        #expect(((after - bias) - (before - bias) * 2).abs().max().item() <= 1e-5 * scale)
    }
}
