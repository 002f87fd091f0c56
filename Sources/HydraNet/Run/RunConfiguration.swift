import Foundation
import HydraData
import Torch
import TorchNN

/// Everything a training run needs, as the CLI or a config file gives it. ``ExperimentRun``
/// turns it into data, a model and a trainer.
public struct RunConfiguration: Sendable {
    /// Where images and labels come from.
    public enum DataSource: Sendable, Equatable {
        /// The embedded default: generated UTKFace-format faces (count, generated size).
        case synthetic(count: Int, size: Int)
        /// A UTKFace-format folder.
        case utkface(folder: String)
    }

    /// The shared backbone.
    public enum BackboneKind: String, Sendable, CaseIterable {
        case resnet18, resnet34, resnet50, convnet
    }

    public var data: DataSource = .synthetic(count: 2000, size: 64)
    /// Images are resized to size × size.
    public var imageSize = 32
    public var backbone: BackboneKind = .resnet18
    /// ResNet's 3×3 stride-1 stem without max-pool (for small images).
    public var smallImageStem = false
    /// torchvision weights (`.pth` or `.safetensors`) loaded into the backbone (fc ignored).
    public var pretrainedWeights: String?
    /// Train only the heads (the backbone's parameters get no gradient).
    public var freezeBackbone = false
    /// Heads to keep fixed (e.g. fine-tune one task's head at a time).
    public var frozenHeads: [String] = []
    /// Fine-tuning: a checkpoint (`best.safetensors` of a run) to start from instead of a new
    /// model; its description fixes the backbone and the input (`imageSize`, `backbone` and
    /// `smallImageStem` are not used).
    public var initialModel: String?
    /// Fine-tuning: tasks of the data to add to the model, each with a new head.
    public var addTasks: [String] = []
    /// Train only these heads (the others are frozen); nil trains every head.
    public var trainHeads: [String]?
    public var headHidden = [256]
    public var headDropout = 0.0
    public var weighting = "uncertainty"
    public var gradientSource: GradientSource?
    public var staticWeights: [Double]?
    /// Per-step learning-rate schedules over the whole run.
    public enum ScheduleKind: String, Sendable, CaseIterable {
        case none, cosine, onecycle
    }

    public var training = TrainingConfiguration()
    /// The schedule; built over the run's real number of steps (overrides `training.schedule`
    /// unless `.none`).
    public var schedule: ScheduleKind = .cosine
    public var batchSize = 64
    public var augment = true
    public var device: Device = .cpu
    /// Folder for checkpoints and logs (created).
    public var outputDirectory: String = "runs/latest"
    /// Where decoded caches (and the synthetic folder) live.
    public var cacheDirectory: String = DecodedCache.defaultDirectory
    /// A training state (`state.safetensors` of an earlier run) to resume from.
    public var resumeFrom: String?
    /// Single-task (or other) baseline metrics for Δm: a JSON file of "task/metric": value.
    public var baselineFile: String?

    public init() {}

    public func validate() throws {
        try training.validate()
        guard (8...1024).contains(imageSize) else {
            throw HydraError.invalidConfiguration("image size must be between 8 and 1024, got \(imageSize)")
        }
        guard batchSize > 0 else { throw HydraError.invalidConfiguration("batch size must be positive") }
        guard headHidden.allSatisfy({ $0 > 0 }), (0..<1).contains(headDropout) else {
            throw HydraError.invalidConfiguration("head sizes must be positive and dropout in [0, 1)")
        }
        if case let .synthetic(count, size) = data, count < 10 || size < 16 {
            throw HydraError.invalidConfiguration("synthetic data needs at least 10 images of at least 16 pixels")
        }
        if let p = pretrainedWeights, !FileManager.default.fileExists(atPath: p) {
            throw HydraError.invalidConfiguration("pretrained weights file not found: \(p)")
        }
        try WeightingFactory.validateName(weighting)
        if let m = initialModel, !FileManager.default.fileExists(atPath: m) {
            throw HydraError.invalidConfiguration("model to fine-tune not found: \(m)")
        }
        if !addTasks.isEmpty, initialModel == nil {
            throw HydraError.invalidConfiguration("adding tasks needs a trained model to add them to")
        }
        if let r = resumeFrom, !FileManager.default.fileExists(atPath: r) {
            throw HydraError.invalidConfiguration("training state to resume from not found: \(r)")
        }
        if let b = baselineFile {
            guard FileManager.default.fileExists(atPath: b) else {
                throw HydraError.invalidConfiguration("baseline file not found: \(b)")
            }
            _ = try DeltaM.loadBaseline(b)  // a malformed file is refused before anything runs
        }
    }
}
