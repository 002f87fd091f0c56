import Torch

/// A module that maps an input batch to one feature vector per sample: what a multi-task
/// model shares between its heads.
public protocol Backbone: Module {
    /// The size of the feature vector `forward` returns.
    var featureCount: Int { get }
}

/// ResNet's two-convolution residual block (ResNet-18/34), as torchvision builds it.
public final class BasicBlock: Module {
    public static let expansion = 1
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu = ReLU(inplace: true)
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let downsample: Sequential?

    /// - Parameter generator: where the initial weights are drawn from (nil: the global one).
    public init(inplanes: Int, planes: Int, stride: Int = 1, downsample: Sequential? = nil,
                generator: Generator? = nil) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        // As torchvision: ReLUs and the residual sum overwrite the fresh outputs they act on.
        let out = relu(bn1(conv1(x)))
        let identity = downsample.map { $0(x) } ?? x
        return relu(bn2(conv2(out)).add_(identity))
    }
}

/// ResNet's 1×1–3×3–1×1 bottleneck block (ResNet-50), stride on the 3×3 as in torchvision.
public final class Bottleneck: Module {
    public static let expansion = 4
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let conv3: Conv2d
    public let bn3: BatchNorm2d
    public let relu = ReLU(inplace: true)
    public let downsample: Sequential?

    /// - Parameter generator: where the initial weights are drawn from (nil: the global one).
    public init(inplanes: Int, planes: Int, stride: Int = 1, downsample: Sequential? = nil,
                generator: Generator? = nil) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, planes * Self.expansion, kernelSize: 1, bias: false, generator: generator)
        bn3 = BatchNorm2d(planes * Self.expansion)
        self.downsample = downsample
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let out = relu(bn2(conv2(relu(bn1(conv1(x))))))
        let identity = downsample.map { $0(x) } ?? x
        return relu(bn3(conv3(out)).add_(identity))
    }
}

/// ResNet-18/34/50 exactly as torchvision builds them: the same modules, state-dict keys,
/// shapes and initialisation, so torchvision weights load with `strict: true` and give the
/// same outputs.
public final class ResNet: Module, Backbone {
    /// The standard depths.
    public enum Depth: Int, Sendable, CaseIterable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50

        /// Blocks per stage.
        public var layers: [Int] {
            switch self {
            case .resnet18: [2, 2, 2, 2]
            case .resnet34, .resnet50: [3, 4, 6, 3]
            }
        }

        /// Whether the stages use bottleneck blocks.
        public var usesBottleneck: Bool { self == .resnet50 }
    }

    /// How a ResNet is built.
    public struct Configuration: Sendable {
        public var depth: Depth
        /// Classifier outputs, or nil for a feature extractor (`fc` is `Identity`).
        public var numClasses: Int?
        /// Input channels of the first convolution.
        public var inputChannels: Int
        /// A 3×3 stride-1 first convolution and no max-pool, for small images (32×32): the
        /// ImageNet stem shrinks a 32×32 face to 1×1 by layer4.
        public var smallImageStem: Bool
        /// Zero-initialise the last BatchNorm of each residual branch (torchvision's
        /// `zero_init_residual`).
        public var zeroInitResidual: Bool

        public init(depth: Depth = .resnet18, numClasses: Int? = 1000, inputChannels: Int = 3,
                    smallImageStem: Bool = false, zeroInitResidual: Bool = false) {
            self.depth = depth
            self.numClasses = numClasses
            self.inputChannels = inputChannels
            self.smallImageStem = smallImageStem
            self.zeroInitResidual = zeroInitResidual
        }
    }

    public let configuration: Configuration
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu = ReLU(inplace: true)
    public let maxpool: Module
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let avgpool = AdaptiveAvgPool2d(outputSize: (1, 1))
    /// The classifier, or `Identity` for a feature extractor; replaceable.
    public var fc: Module

    /// The width of the pooled features (512 or 2048).
    public var featureCount: Int { 512 * (configuration.depth.usesBottleneck ? Bottleneck.expansion : 1) }

    /// - Parameter generator: where the initial weights are drawn from, in torchvision's
    ///   order (so `Generator(seed: s)` gives torchvision's weights after `torch.manual_seed(s)`);
    ///   nil draws from libtorch's global generator.
    public init(_ configuration: Configuration = Configuration(), generator: Generator? = nil) {
        self.configuration = configuration
        let c = configuration
        if c.smallImageStem {
            conv1 = Conv2d(c.inputChannels, 64, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: generator)
            maxpool = Identity()
        } else {
            conv1 = Conv2d(c.inputChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: generator)
            maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        }
        bn1 = BatchNorm2d(64)
        var inplanes = 64
        func stage(_ planes: Int, _ blocks: Int, stride: Int) -> Sequential {
            let expansion = c.depth.usesBottleneck ? Bottleneck.expansion : BasicBlock.expansion
            var downsample: Sequential?
            if stride != 1 || inplanes != planes * expansion {
                downsample = Sequential(
                    Conv2d(inplanes, planes * expansion, kernelSize: 1, stride: stride, bias: false, generator: generator),
                    BatchNorm2d(planes * expansion))
            }
            var modules: [Module] = []
            for i in 0..<blocks {
                let s = i == 0 ? stride : 1
                let d = i == 0 ? downsample : nil
                modules.append(c.depth.usesBottleneck
                    ? Bottleneck(inplanes: inplanes, planes: planes, stride: s, downsample: d, generator: generator)
                    : BasicBlock(inplanes: inplanes, planes: planes, stride: s, downsample: d, generator: generator))
                inplanes = planes * expansion
            }
            return Sequential(modules)
        }
        let counts = c.depth.layers
        layer1 = stage(64, counts[0], stride: 1)
        layer2 = stage(128, counts[1], stride: 2)
        layer3 = stage(256, counts[2], stride: 2)
        layer4 = stage(512, counts[3], stride: 2)
        let features = 512 * (c.depth.usesBottleneck ? Bottleneck.expansion : 1)
        fc = c.numClasses.map { Linear(features, $0, generator: generator) } ?? Identity()
        super.init()
        initialiseLikeTorchvision(generator: generator)
    }

    /// Convenience: `ResNet(depth: .resnet18, numClasses: nil)`.
    public convenience init(depth: Depth, numClasses: Int? = 1000, inputChannels: Int = 3,
                            smallImageStem: Bool = false, generator: Generator? = nil) {
        self.init(Configuration(depth: depth, numClasses: numClasses, inputChannels: inputChannels,
                                smallImageStem: smallImageStem), generator: generator)
    }

    private func initialiseLikeTorchvision(generator: Generator?) {
        for m in modules() {
            if let conv = m as? Conv2d {
                Init.kaimingNormal(conv.weight, mode: .fanOut, nonlinearity: .relu, generator: generator)
            } else if let bn = m as? BatchNorm {
                if let w = bn.weight { Init.ones(w) }
                if let b = bn.bias { Init.zeros(b) }
            } else if let gn = m as? GroupNorm {
                if let w = gn.weight { Init.ones(w) }
                if let b = gn.bias { Init.zeros(b) }
            }
        }
        if configuration.zeroInitResidual {
            for m in modules() {
                if let b = m as? Bottleneck, let w = b.bn3.weight { Init.zeros(w) }
                if let b = m as? BasicBlock, let w = b.bn2.weight { Init.zeros(w) }
            }
        }
    }

    /// Features before `fc` (N × featureCount).
    public func features(_ x: Tensor) -> Tensor {
        var h = maxpool(relu(bn1(conv1(x))))
        h = layer4(layer3(layer2(layer1(h))))
        return avgpool(h).flattened(startDim: 1)
    }

    public override func forward(_ x: Tensor) -> Tensor { fc(features(x)) }
}
