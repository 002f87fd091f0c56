import Foundation
import Torch

/// Weight initialisation, as `torch.nn.init`. All functions fill the tensor in place
/// without recording gradients and draw in the same way as PyTorch, so the same seed gives
/// the same values: from `generator` when one is given (as the `generator=` argument of
/// `torch.nn.init`), else from libtorch's global generator.
public enum Init {
    /// Non-linearities for ``gain(_:param:)``.
    public enum Nonlinearity: String, Sendable {
        case linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leakyRelu = "leaky_relu", selu
    }

    /// Which fan to preserve in Kaiming initialisation.
    public enum FanMode: String, Sendable { case fanIn = "fan_in", fanOut = "fan_out" }

    /// The recommended gain for a non-linearity (`calculate_gain`); `param` is leaky ReLU's
    /// negative slope (default 0.01).
    public static func gain(_ nonlinearity: Nonlinearity, param: Double? = nil) -> Double {
        switch nonlinearity {
        case .linear, .conv1d, .conv2d, .conv3d, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return 2.0.squareRoot()
        case .leakyRelu:
            let slope = param ?? 0.01
            return (2.0 / (1 + slope * slope)).squareRoot()
        case .selu: return 3.0 / 4
        }
    }

    /// (fan_in, fan_out) of a weight: dims 1 and 0 times the receptive field size.
    public static func fans(_ t: Tensor) -> (fanIn: Int, fanOut: Int) {
        let shape = t.shape
        precondition(shape.count >= 2, "fan in and fan out need at least 2 dimensions, got \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    @discardableResult
    public static func uniform(_ t: Tensor, low: Double = 0, high: Double = 1, generator: Generator? = nil) -> Tensor {
        withNoGrad { t.uniform_(low, high, generator: generator) }
    }

    @discardableResult
    public static func normal(_ t: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        withNoGrad { t.normal_(mean: mean, std: std, generator: generator) }
    }

    @discardableResult
    public static func constant(_ t: Tensor, _ value: Double) -> Tensor { withNoGrad { t.fill_(value) } }

    @discardableResult
    public static func zeros(_ t: Tensor) -> Tensor { withNoGrad { t.zero_() } }

    @discardableResult
    public static func ones(_ t: Tensor) -> Tensor { constant(t, 1) }

    /// Uniform in ±gain·√(6/(fan_in+fan_out)) (`xavier_uniform_`).
    @discardableResult
    public static func xavierUniform(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(t)
        let a = gain * (6.0 / Double(fanIn + fanOut)).squareRoot()
        return uniform(t, low: -a, high: a, generator: generator)
    }

    /// Normal with std gain·√(2/(fan_in+fan_out)) (`xavier_normal_`).
    @discardableResult
    public static func xavierNormal(_ t: Tensor, gain: Double = 1, generator: Generator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(t)
        return normal(t, mean: 0, std: gain * (2.0 / Double(fanIn + fanOut)).squareRoot(), generator: generator)
    }

    private static func kaimingStd(_ t: Tensor, a: Double, mode: FanMode, nonlinearity: Nonlinearity) -> Double {
        let (fanIn, fanOut) = fans(t)
        let fan = mode == .fanIn ? fanIn : fanOut
        return gain(nonlinearity, param: a) / Double(fan).squareRoot()
    }

    /// Uniform in ±gain·√(3/fan) (`kaiming_uniform_`); `a` is the leaky-ReLU slope.
    @discardableResult
    public static func kaimingUniform(_ t: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyRelu, generator: Generator? = nil) -> Tensor {
        let bound = 3.0.squareRoot() * kaimingStd(t, a: a, mode: mode, nonlinearity: nonlinearity)
        return uniform(t, low: -bound, high: bound, generator: generator)
    }

    /// Normal with std gain/√fan (`kaiming_normal_`).
    @discardableResult
    public static func kaimingNormal(_ t: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyRelu, generator: Generator? = nil) -> Tensor {
        normal(t, mean: 0, std: kaimingStd(t, a: a, mode: mode, nonlinearity: nonlinearity), generator: generator)
    }

    /// Normal(mean, std²) truncated to [a, b] by inverse-CDF sampling (`trunc_normal_`).
    @discardableResult
    public static func truncNormal(_ t: Tensor, mean: Double = 0, std: Double = 1, a: Double = -2,
                                   b: Double = 2, generator: Generator? = nil) -> Tensor {
        func cdf(_ x: Double) -> Double { (1 + Foundation.erf(x / 2.0.squareRoot())) / 2 }
        let l = cdf((a - mean) / std), u = cdf((b - mean) / std)
        return withNoGrad {
            t.uniform_(2 * l - 1, 2 * u - 1, generator: generator)
            let values = t.erfinv() * (std * 2.0.squareRoot()) + mean
            return t.copy_(values.clamped(min: a, max: b))
        }
    }
}
