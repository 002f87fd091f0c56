import Torch

/// `y = x·Wᵀ + b` (`nn.Linear`), initialised as PyTorch does: W ~ U(±1/√in) via
/// kaiming_uniform(a=√5), b ~ U(±1/√in).
public final class Linear: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    public let inFeatures: Int
    public let outFeatures: Int

    /// - Parameter generator: where the initial values are drawn from (nil: the global
    ///   generator, as PyTorch).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, device: Device = .cpu,
                dtype: DType = .float32, generator: Generator? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Tensor.empty([outFeatures, inFeatures], dtype: dtype, device: device)
        self.bias = bias ? Tensor.empty([outFeatures], dtype: dtype, device: device) : nil
        super.init()
        resetParameters(generator: generator)
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
        Functional.linear(input, weight: weight, bias: bias)
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias == nil ? "False" : "True")"
    }
}

/// A lookup table of `count` vectors of size `dimension` (`nn.Embedding`), N(0, 1) init.
public final class Embedding: Module {
    @Parameter public var weight: Tensor

    public init(_ count: Int, _ dimension: Int, device: Device = .cpu, generator: Generator? = nil) {
        weight = Tensor.empty([count, dimension], device: device)
        super.init()
        Init.normal(weight, generator: generator)
    }

    public override func forward(_ indices: Tensor) -> Tensor { Functional.embedding(indices, weight: weight) }

    public override var extraDescription: String { "\(weight.size(0)), \(weight.size(1))" }
}
