import Torch

/// A small plain CNN backbone: per stage Conv3×3–BatchNorm–ReLU–MaxPool2, then global
/// average pooling. Fast on CPU for small images.
public final class ConvNet: Module, Backbone {
    public let stages: Sequential
    public let pool = AdaptiveAvgPool2d(outputSize: (1, 1))
    public let featureCount: Int
    /// Output channels per stage.
    public let channels: [Int]

    /// - Parameters:
    ///   - channels: output channels per stage (each stage halves the resolution).
    ///   - generator: where the initial weights are drawn from (nil: the global generator).
    public init(inputChannels: Int = 3, channels: [Int] = [32, 64, 128], generator: Generator? = nil) {
        precondition(!channels.isEmpty, "ConvNet needs at least one stage")
        var modules: [Module] = []
        var c = inputChannels
        for out in channels {
            modules.append(Sequential(Conv2d(c, out, kernelSize: 3, padding: 1, bias: false, generator: generator), BatchNorm2d(out), ReLU(),
                                      MaxPool2d(kernelSize: 2)))
            c = out
        }
        stages = Sequential(modules)
        self.channels = channels
        featureCount = c
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor { pool(stages(x)).flattened(startDim: 1) }
}

/// A multi-layer perceptron backbone for vector inputs: Linear–ReLU–(Dropout) per hidden
/// size. Inputs with more than two dimensions are flattened.
public final class MLP: Module, Backbone {
    public let layers: Sequential
    public let featureCount: Int

    /// - Parameter generator: where the initial weights and dropout masks are drawn from
    ///   (nil: the global generator).
    public init(inputFeatures: Int, hidden: [Int], dropout: Double = 0, generator: Generator? = nil) {
        precondition(!hidden.isEmpty, "MLP needs at least one hidden layer")
        var modules: [Module] = []
        var width = inputFeatures
        for h in hidden {
            modules.append(Linear(width, h, generator: generator))
            modules.append(ReLU())
            if dropout > 0 { modules.append(Dropout(dropout, generator: generator)) }
            width = h
        }
        layers = Sequential(modules)
        featureCount = width
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor { layers(x.rank > 2 ? x.flattened(startDim: 1) : x) }
}
