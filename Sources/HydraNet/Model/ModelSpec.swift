import Foundation
import HydraData
import Torch
import TorchNN

/// Everything needed to rebuild and run a HydraNet from its checkpoint alone: the backbone,
/// the input preprocessing, each head's layout and every task. Stored as JSON under the
/// `hydranet.model` key of the checkpoint's safetensors metadata; the schema is language
/// neutral and documented in `docs/checkpoint-format.md` (Python reads it with `json`).
public struct ModelSpec: Sendable, Equatable, Codable {
    /// The `format` value of every HydraNet model description.
    public static let formatName = "hydranet-model"
    /// The schema version this code writes and reads.
    public static let currentVersion = 1

    /// The shared backbone.
    public enum BackboneSpec: Sendable, Equatable {
        /// torchvision's ResNet (18, 34 or 50) without `fc`; `smallImageStem`: 3×3 stride-1
        /// `conv1` and no max-pool.
        case resnet(depth: Int, smallImageStem: Bool)
        /// HydraNet's small ConvNet: per stage Conv3×3(no bias)–BN–ReLU–MaxPool2, then global
        /// average pooling.
        case convnet(channels: [Int])
        /// A backbone this schema cannot describe (a library user's own module): the weights
        /// load only into a model the caller builds.
        case custom(typeName: String)

        /// A short human name, e.g. `resnet18 (small-image stem)`.
        public var summary: String {
            switch self {
            case let .resnet(depth, small): "resnet\(depth)" + (small ? " (small-image stem)" : "")
            case let .convnet(channels): "convnet \(channels)"
            case let .custom(name): "custom backbone \(name)"
            }
        }
    }

    /// How image files become the model's input tensor: decode (JPEG DCT scaling allowed),
    /// resize (antialiased bilinear), scale to [0, 1], then `(x − mean) / std` per RGB channel.
    public struct InputSpec: Sendable, Equatable {
        public var transform: ImageTransform
        public var normalization: Normalization

        public init(transform: ImageTransform, normalization: Normalization = .imagenet) {
            self.transform = transform
            self.normalization = normalization
        }

        /// A square `size`×`size` input with ImageNet normalization (what `hydranet train` uses).
        public init(size: Int) { self.init(transform: ImageTransform(size: size)) }
    }

    /// One head: Linear–ReLU–(Dropout) per hidden size, then Linear to the task's outputs.
    public struct HeadLayout: Sendable, Equatable, Codable {
        public var hidden: [Int]
        public var dropout: Double

        public init(hidden: [Int], dropout: Double) {
            self.hidden = hidden
            self.dropout = dropout
        }
    }

    public var formatVersion: Int
    public var backbone: BackboneSpec
    /// The backbone's feature width (the heads' input).
    public var featureCount: Int
    /// nil when the model was saved without its preprocessing (a library user's choice).
    public var input: InputSpec?
    /// Head layout by task name; a task missing here has a custom head module.
    public var heads: [String: HeadLayout]
    public var tasks: [HydraTask]
    /// Flip test-time augmentation (``HydraNetModel/testTimeFlip``).
    public var testTimeFlip = false

    public init(backbone: BackboneSpec, featureCount: Int, input: InputSpec?, heads: [String: HeadLayout],
                tasks: [HydraTask], testTimeFlip: Bool = false) {
        formatVersion = ModelSpec.currentVersion
        self.backbone = backbone
        self.featureCount = featureCount
        self.input = input
        self.heads = heads
        self.tasks = tasks
        self.testTimeFlip = testTimeFlip
    }

    /// The description of `model`, preprocessed as `input` says.
    public init(describing model: HydraNetModel, input: InputSpec?) {
        let backbone: BackboneSpec
        switch model.backbone {
        case let net as ResNet:
            backbone = .resnet(depth: net.configuration.depth.rawValue, smallImageStem: net.configuration.smallImageStem)
        case let net as ConvNet:
            backbone = .convnet(channels: net.channels)
        case let other:
            backbone = .custom(typeName: String(describing: type(of: other)))
        }
        self.init(backbone: backbone, featureCount: model.featureCount, input: input, heads: model.headLayouts,
                  tasks: model.tasks, testTimeFlip: model.testTimeFlip)
    }

    /// The model this description names, with freshly initialised weights drawn from
    /// `generator` (load a state dict into it). Throws when the backbone or a head is custom.
    public func makeModel(generator: Generator? = nil) throws -> HydraNetModel {
        let module: Module
        let features: Int
        switch backbone {
        case let .resnet(depth, small):
            guard let d = ResNet.Depth(rawValue: depth) else {
                throw HydraError.checkpoint("unsupported ResNet depth \(depth) (18, 34 or 50)")
            }
            let net = ResNet(ResNet.Configuration(depth: d, numClasses: nil, smallImageStem: small), generator: generator)
            (module, features) = (net, net.featureCount)
        case let .convnet(channels):
            guard !channels.isEmpty, channels.allSatisfy({ (1...65536).contains($0) }) else {
                throw HydraError.checkpoint("ConvNet channels \(channels) must be 1…65536 per stage")
            }
            let net = ConvNet(channels: channels, generator: generator)
            (module, features) = (net, net.featureCount)
        case let .custom(name):
            throw HydraError.checkpoint("the backbone is a custom module (\(name)) that the file cannot rebuild: "
                + "build the model in Swift and load the weights with Checkpoint.load(_:into:)")
        }
        guard features == featureCount else {
            throw HydraError.checkpoint("the backbone \(backbone.summary) has \(features) features, the file says \(featureCount)")
        }
        var layouts: [HeadLayout] = []
        for task in tasks {
            guard let layout = heads[task.name] else {
                throw HydraError.checkpoint("the head of task '\(task.name)' is a custom module the file cannot rebuild")
            }
            layouts.append(layout)
        }
        let model = try HydraNetModel(backbone: module, featureCount: features, tasks: tasks, headLayouts: layouts,
                                      generator: generator)
        model.testTimeFlip = testTimeFlip
        return model
    }

    /// Checks the description is complete and in range (names, counts, sizes), naming what is wrong.
    public func validate() throws {
        guard formatVersion == ModelSpec.currentVersion else {
            throw HydraError.checkpoint("model description version \(formatVersion) is not supported "
                + "(this HydraNet reads version \(ModelSpec.currentVersion))")
        }
        guard !tasks.isEmpty, Set(tasks.map(\.name)).count == tasks.count else {
            throw HydraError.checkpoint("the task list must be non-empty with unique names, got \(tasks.map(\.name))")
        }
        guard (1...1 << 20).contains(featureCount) else {
            throw HydraError.checkpoint("feature count \(featureCount) is out of range")
        }
        for task in tasks {
            try task.validate()
            guard task.targetMean.isFinite, task.targetStd.isFinite, task.targetStd > 0 else {
                throw HydraError.checkpoint("task '\(task.name)' has target standardisation mean \(task.targetMean), "
                    + "std \(task.targetStd) (finite values and a positive std are needed)")
            }
            if let h = heads[task.name] {
                guard h.hidden.count <= 64, h.hidden.allSatisfy({ (1...1 << 20).contains($0) }), (0..<1).contains(h.dropout) else {
                    throw HydraError.checkpoint("head of '\(task.name)': hidden sizes \(h.hidden) and dropout \(h.dropout) are out of range")
                }
            }
        }
        if let input {
            try Checkpoint.wrapping { try input.transform.validate() }
            try Checkpoint.wrapping { try input.normalization.validate() }
        }
    }

    /// The parameters the heads and a ConvNet backbone of this description hold (a ResNet's
    /// are fixed by its depth and not counted), as a Double so that no size overflows.
    /// Checked against a file's tensors before anything is allocated.
    public var sizedParameterCount: Double {
        var total = 0.0
        if case let .convnet(channels) = backbone {
            var width = 3.0
            for c in channels.map(Double.init) {
                total += width * c * 9 + 2 * c
                width = c
            }
        }
        for task in tasks {
            guard let layout = heads[task.name] else { continue }
            var width = Double(featureCount)
            for h in layout.hidden.map(Double.init) + [Double(task.outputCount)] {
                total += width * h + h
                width = h
            }
        }
        return total
    }

    /// The input size as `H×W`, or "unknown".
    public var inputSummary: String {
        input.map { "\($0.transform.height)×\($0.transform.width)" } ?? "unknown"
    }
}

// MARK: - JSON (docs/checkpoint-format.md)

extension ModelSpec {
    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", backbone, input, heads, tasks, testTimeFlip = "test_time_flip"
    }

    enum BackboneKeys: String, CodingKey {
        case kind, depth, smallImageStem = "small_image_stem", channels, featureCount = "feature_count", type
    }

    enum InputKeys: String, CodingKey {
        case height, width, channels = "channel_order", resize, jpegScaling = "jpeg_scaling", maxPixels = "max_pixels"
        case scale, mean, std
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ModelSpec.formatName, forKey: .format)
        try c.encode(formatVersion, forKey: .formatVersion)
        var b = c.nestedContainer(keyedBy: BackboneKeys.self, forKey: .backbone)
        switch backbone {
        case let .resnet(depth, small):
            try b.encode("resnet", forKey: .kind)
            try b.encode(depth, forKey: .depth)
            try b.encode(small, forKey: .smallImageStem)
        case let .convnet(channels):
            try b.encode("convnet", forKey: .kind)
            try b.encode(channels, forKey: .channels)
        case let .custom(name):
            try b.encode("custom", forKey: .kind)
            try b.encode(name, forKey: .type)
        }
        try b.encode(featureCount, forKey: .featureCount)
        if let input {
            var i = c.nestedContainer(keyedBy: InputKeys.self, forKey: .input)
            try i.encode(input.transform.height, forKey: .height)
            try i.encode(input.transform.width, forKey: .width)
            try i.encode("RGB", forKey: .channels)
            try i.encode(input.transform.resizeMode.schemaName, forKey: .resize)
            try i.encode(input.transform.jpegScaling.rawValue, forKey: .jpegScaling)
            try i.encode(input.transform.maxPixels, forKey: .maxPixels)
            try i.encode(255, forKey: .scale)
            try i.encode(input.normalization.mean, forKey: .mean)
            try i.encode(input.normalization.std, forKey: .std)
        }
        try c.encode(heads, forKey: .heads)
        try c.encode(tasks, forKey: .tasks)
        if testTimeFlip { try c.encode(true, forKey: .testTimeFlip) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decode(String.self, forKey: .format)
        guard format == ModelSpec.formatName else {
            throw DecodingError.dataCorruptedError(forKey: .format, in: c,
                                                   debugDescription: "format is '\(format)', not '\(ModelSpec.formatName)'")
        }
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        let b = try c.nestedContainer(keyedBy: BackboneKeys.self, forKey: .backbone)
        switch try b.decode(String.self, forKey: .kind) {
        case "resnet":
            backbone = .resnet(depth: try b.decode(Int.self, forKey: .depth),
                               smallImageStem: try b.decode(Bool.self, forKey: .smallImageStem))
        case "convnet": backbone = .convnet(channels: try b.decode([Int].self, forKey: .channels))
        case "custom": backbone = .custom(typeName: try b.decodeIfPresent(String.self, forKey: .type) ?? "?")
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: b, debugDescription: "unknown backbone kind '\(other)'")
        }
        featureCount = try b.decode(Int.self, forKey: .featureCount)
        if c.contains(.input) {
            let i = try c.nestedContainer(keyedBy: InputKeys.self, forKey: .input)
            let resizeName = try i.decode(String.self, forKey: .resize)
            guard let resize = ResizeMode(schemaName: resizeName) else {
                throw DecodingError.dataCorruptedError(forKey: .resize, in: i, debugDescription: "unknown resize '\(resizeName)'")
            }
            let scalingName = try i.decode(String.self, forKey: .jpegScaling)
            guard let scaling = JPEGScaling(rawValue: scalingName) else {
                throw DecodingError.dataCorruptedError(forKey: .jpegScaling, in: i,
                                                       debugDescription: "unknown jpeg_scaling '\(scalingName)'")
            }
            let order = try i.decodeIfPresent(String.self, forKey: .channels) ?? "RGB"
            let scale = try i.decodeIfPresent(Double.self, forKey: .scale) ?? 255
            guard order == "RGB", scale == 255 else {
                throw DecodingError.dataCorruptedError(forKey: .scale, in: i,
                                                       debugDescription: "only RGB input scaled by 1/255 is supported")
            }
            let transform = ImageTransform(height: try i.decode(Int.self, forKey: .height), width: try i.decode(Int.self, forKey: .width),
                                           resizeMode: resize, jpegScaling: scaling,
                                           maxPixels: try i.decodeIfPresent(Int.self, forKey: .maxPixels) ?? ImageCodec.defaultMaxPixels)
            input = InputSpec(transform: transform,
                              normalization: Normalization(mean: try i.decode([Double].self, forKey: .mean),
                                                           std: try i.decode([Double].self, forKey: .std)))
        } else {
            input = nil
        }
        heads = try c.decodeIfPresent([String: HeadLayout].self, forKey: .heads) ?? [:]
        tasks = try c.decode([HydraTask].self, forKey: .tasks)
        testTimeFlip = try c.decodeIfPresent(Bool.self, forKey: .testTimeFlip) ?? false
    }
}

extension ResizeMode {
    /// The schema's name: `stretch` or `shorter_side_then_center_crop`.
    var schemaName: String {
        switch self {
        case .stretch: "stretch"
        case .shorterSideThenCenterCrop: "shorter_side_then_center_crop"
        }
    }

    init?(schemaName: String) {
        switch schemaName {
        case "stretch": self = .stretch
        case "shorter_side_then_center_crop": self = .shorterSideThenCenterCrop
        default: return nil
        }
    }
}
