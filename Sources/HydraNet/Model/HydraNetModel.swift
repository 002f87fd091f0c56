import Foundation
import Torch
import TorchNN

/// A multi-task model: one shared backbone run **once** per forward, and one head per task
/// under `heads.<task>` (the article ran the backbone three times and hung the heads on the
/// torchvision model; both are fixed here).
public final class HydraNetModel: Module {
    /// The shared feature extractor (N × featureCount).
    public var backbone: Module
    /// One head per task, keyed by task name.
    public let heads: ModuleDict
    /// The tasks, in head order.
    public private(set) var tasks: [HydraTask]
    /// The width of the backbone's features.
    public let featureCount: Int
    /// The layout of each default head by task name (a head passed in as a module has none).
    public private(set) var headLayouts: [String: ModelSpec.HeadLayout]
    /// Flip test-time augmentation: in eval mode, ``outputs(_:)`` averages the heads' outputs
    /// (logits, standardised values) for each image and its left–right mirror. Training
    /// forwards are not affected. Recorded in the checkpoint (``ModelSpec/testTimeFlip``), so
    /// evaluation, prediction and the server score as validation did.
    public var testTimeFlip = false

    /// - Parameters:
    ///   - backbone: any module returning N × `featureCount` features.
    ///   - headHidden: hidden sizes of the default MLP heads (Linear–ReLU–Dropout–Linear);
    ///     empty for linear heads.
    ///   - generator: where the heads' initial weights and dropout masks are drawn from (nil:
    ///     libtorch's global generator). Pass the same one to the backbone for a model that
    ///     one seed fully determines.
    public convenience init(backbone: Module, featureCount: Int, tasks: [HydraTask], headHidden: [Int] = [256],
                            headDropout: Double = 0, generator: Generator? = nil) throws {
        try self.init(backbone: backbone, featureCount: featureCount, tasks: tasks,
                      headLayouts: tasks.map { _ in ModelSpec.HeadLayout(hidden: headHidden, dropout: headDropout) },
                      generator: generator)
    }

    /// A model whose heads have their own layouts (one per task, in task order), e.g. one
    /// rebuilt from a checkpoint's ``ModelSpec`` after tasks were added.
    public init(backbone: Module, featureCount: Int, tasks: [HydraTask], headLayouts: [ModelSpec.HeadLayout],
                generator: Generator? = nil) throws {
        guard !tasks.isEmpty else { throw HydraError.invalidConfiguration("a model needs at least one task") }
        guard Set(tasks.map(\.name)).count == tasks.count else {
            throw HydraError.invalidConfiguration("task names must be unique: \(tasks.map(\.name))")
        }
        guard headLayouts.count == tasks.count else {
            throw HydraError.invalidConfiguration("\(headLayouts.count) head layouts for \(tasks.count) tasks")
        }
        for t in tasks { try t.validate() }
        self.backbone = backbone
        self.featureCount = featureCount
        self.tasks = tasks
        heads = ModuleDict(zip(tasks, headLayouts).map { task, layout in
            (task.name, HydraNetModel.makeHead(featureCount, task.outputCount, layout.hidden, layout.dropout,
                                               generator: generator))
        })
        self.headLayouts = Dictionary(uniqueKeysWithValues: zip(tasks.map(\.name), headLayouts))
        super.init()
    }

    /// A model on a ``Backbone`` (its feature width is known).
    public convenience init(backbone: some Backbone, tasks: [HydraTask], headHidden: [Int] = [256],
                            headDropout: Double = 0, generator: Generator? = nil) throws {
        try self.init(backbone: backbone as Module, featureCount: backbone.featureCount, tasks: tasks,
                      headHidden: headHidden, headDropout: headDropout, generator: generator)
    }

    /// The default head: Linear–ReLU–(Dropout)–… –Linear to the task's outputs, its weights
    /// and dropout masks drawn from `generator` (nil: the global generator).
    public static func makeHead(_ inputs: Int, _ outputs: Int, _ hidden: [Int], _ dropout: Double,
                                generator: Generator? = nil) -> Module {
        var layers: [Module] = []
        var width = inputs
        for h in hidden {
            layers.append(Linear(width, h, generator: generator))
            layers.append(ReLU())
            if dropout > 0 { layers.append(Dropout(dropout, generator: generator)) }
            width = h
        }
        layers.append(Linear(width, outputs, generator: generator))
        return Sequential(layers)
    }

    /// The backbone's features for a batch.
    public func features(_ images: Tensor) -> Tensor { backbone(images) }

    /// Every head applied to shared features, in task order.
    public func headOutputs(_ features: Tensor) -> [Tensor] {
        tasks.map { heads[$0.name]!(features) }
    }

    /// All heads' outputs for a batch, in task order (the backbone runs once). With
    /// ``testTimeFlip`` in eval mode, the mean of the outputs for the images and their mirror
    /// images (one backbone pass over both).
    public func outputs(_ images: Tensor) -> [Tensor] {
        guard testTimeFlip, !isTraining, images.rank == 4 else { return headOutputs(features(images)) }
        let n = images.size(0)
        let both = headOutputs(features(Tensor.cat([images, images.flipped([3])], dim: 0)))
        return both.map { ($0.narrow(dim: 0, start: 0, length: n) + $0.narrow(dim: 0, start: n, length: n)) * 0.5 }
    }

    public override func forward(_ input: Tensor) -> Tensor {
        fatalError("HydraNetModel has one output per task: call outputs(_:)")
    }

    /// The backbone's parameters (what the tasks share).
    public var sharedParameters: [Tensor] { backbone.parameters() }

    /// The head of `task`.
    public func head(_ task: String) -> Module? { heads[task] }

    /// Adds a head for a new task to a (trained) model: `head`, or a default head of
    /// `headHidden` sizes and `headDropout` drawn from `generator`.
    public func addTask(_ task: HydraTask, head: Module? = nil, headHidden: [Int] = [256], headDropout: Double = 0,
                        generator: Generator? = nil) throws {
        try task.validate()
        guard heads[task.name] == nil else { throw HydraError.invalidConfiguration("task '\(task.name)' already exists") }
        guard headHidden.allSatisfy({ $0 > 0 }), (0..<1).contains(headDropout) else {
            throw HydraError.invalidConfiguration("head sizes must be positive and dropout in [0, 1)")
        }
        if let head {
            heads[task.name] = head
        } else {
            heads[task.name] = HydraNetModel.makeHead(featureCount, task.outputCount, headHidden, headDropout, generator: generator)
            headLayouts[task.name] = ModelSpec.HeadLayout(hidden: headHidden, dropout: headDropout)
        }
        tasks.append(task)
    }

    /// Replaces a task's definition (e.g. after fitting its standardisation).
    public func updateTask(_ task: HydraTask) {
        if let i = tasks.firstIndex(where: { $0.name == task.name }) { tasks[i] = task }
    }

    /// Freezes the backbone or the named heads (no gradients, no optimizer updates).
    public func freeze(backbone freezeBackbone: Bool = false, heads names: [String] = []) {
        if freezeBackbone { backbone.freeze() }
        for n in names { heads[n]?.freeze() }
    }

    /// Training mode, except for the frozen parts: a backbone or head whose parameters are
    /// all frozen stays in eval mode, so its BatchNorm statistics and dropout stay fixed and
    /// a frozen head on a frozen backbone gives bit-identical outputs after fine-tuning.
    public func enterTrainingMode() {
        train()
        func frozen(_ m: Module) -> Bool { m.parameters().allSatisfy { !$0.requiresGrad } }
        if frozen(backbone) { backbone.eval() }
        for task in tasks { if let head = heads[task.name], frozen(head) { head.eval() } }
    }

    /// Unfreezes the backbone or the named heads.
    public func unfreeze(backbone unfreezeBackbone: Bool = false, heads names: [String] = []) {
        if unfreezeBackbone { backbone.unfreeze() }
        for n in names { heads[n]?.unfreeze() }
    }

    /// One sample's prediction for one task, in user units.
    public enum Prediction: Sendable, Equatable, CustomStringConvertible {
        /// A regression value in the target's original units (e.g. years).
        case value(Double)
        /// A binary probability of the positive class and the predicted class name.
        case binary(probability: Double, label: String)
        /// Class probabilities and the most likely class name.
        case multiclass(probabilities: [Double], label: String)
        /// Per-label probabilities and the labels predicted present.
        case multilabel(probabilities: [Double], labels: [String])

        public var description: String {
            switch self {
            case let .value(v): String(format: "%.2f", v)
            case let .binary(p, l): String(format: "%@ (p=%.3f)", l, p)
            case let .multiclass(probs, l): String(format: "%@ (p=%.3f)", l, probs.max() ?? 0)
            case let .multilabel(_, labels): labels.isEmpty ? "none" : labels.joined(separator: ", ")
            }
        }
    }

    /// Predictions for a batch of preprocessed images (eval mode, no gradients): one
    /// dictionary per sample, task name → prediction.
    public func predict(_ images: Tensor) -> [[String: Prediction]] {
        // Switching modes walks the module tree (reflection): only when the model is training
        // (and back to training mode with its frozen parts still in eval mode).
        let wasTraining = isTraining
        if wasTraining { eval() }
        defer { if wasTraining { enterTrainingMode() } }
        return predictions(fromOutputs: withNoGrad { outputs(images) })
    }

    /// Per-sample predictions in user units from the heads' raw outputs (task order), e.g.
    /// outputs an evaluation computed anyway.
    public func predictions(fromOutputs outs: [Tensor]) -> [[String: Prediction]] {
        let n = outs.first?.size(0) ?? 0
        var result = [[String: Prediction]](repeating: [:], count: n)
        for (task, out) in zip(tasks, outs) {
            let cpu = out.to(device: .cpu).to(dtype: .float64)
            switch task.kind {
            case .regression:
                let v = cpu.reshaped([-1]).scalars(as: Double.self)
                for i in 0..<n {
                    result[i][task.name] = .value(task.standardize ? v[i] * task.targetStd + task.targetMean : v[i])
                }
            case .binary:
                let p = cpu.reshaped([-1]).sigmoid().scalars(as: Double.self)
                for i in 0..<n { result[i][task.name] = .binary(probability: p[i], label: task.className(p[i] >= 0.5 ? 1 : 0)) }
            case let .multiclass(k):
                let p = cpu.softmax(dim: 1).scalars(as: Double.self)
                for i in 0..<n {
                    let row = Array(p[i * k..<(i + 1) * k])
                    let best = row.indices.max { row[$0] < row[$1] } ?? 0
                    result[i][task.name] = .multiclass(probabilities: row, label: task.className(best))
                }
            case let .multilabel(k):
                let p = cpu.sigmoid().scalars(as: Double.self)
                for i in 0..<n {
                    let row = Array(p[i * k..<(i + 1) * k])
                    result[i][task.name] = .multilabel(probabilities: row,
                                                       labels: row.indices.filter { row[$0] >= 0.5 }.map(task.className))
                }
            }
        }
        return result
    }
}
