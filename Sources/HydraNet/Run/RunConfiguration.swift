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
        /// A CSV manifest (``CSVManifest``): an image-path column and the task columns to
        /// read, in task order.
        case csv(path: String, columns: [CSVManifest.Column], imageColumn: String)
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
    /// Train on these tasks of the data only (e.g. one, for a single-task baseline); nil
    /// trains every task the data has. Not for fine-tuning (the model fixes its tasks).
    public var tasks: [String]?
    public var headHidden = [256]
    public var headDropout = 0.0
    /// Label smoothing of the cross-entropy of every new multiclass task (0: none).
    public var labelSmoothing = 0.0
    /// Class weights of every new multiclass task's cross-entropy, fitted on the training split.
    public var classBalance: ClassBalance = .none
    /// Flip test-time augmentation (``HydraNetModel/testTimeFlip``) for validation, test and
    /// every later use of the checkpoints; nil keeps a fine-tuned model's own setting (a new
    /// model: off).
    public var testTimeFlip: Bool?
    public var weighting = "uncertainty"
    public var gradientSource: GradientSource?
    public var staticWeights: [Double]?
    /// Per-step learning-rate schedules over the whole run.
    public enum ScheduleKind: String, Sendable, CaseIterable {
        case none, cosine, onecycle
    }

    public var training = TrainingConfiguration()
    /// A wall-clock budget for the epochs, in seconds (training, validation and per-epoch
    /// saves; not the decoding before nor the test after): when set, `training.epochs` is
    /// replaced by the count that fits on this machine, measured at the start
    /// (``EpochBudget``). Nil: `training.epochs` as given.
    public var timeBudget: Double?
    /// The schedule; built over the run's real number of steps (overrides `training.schedule`
    /// unless `.none`).
    public var schedule: ScheduleKind = .cosine
    public var batchSize = 64
    public var augment = true
    /// Colour-jitter strength of the training augmentation: brightness, contrast and
    /// saturation each scaled by a factor drawn from 1 ± this (0: no jitter; flip and crop
    /// only). Used when ``augment`` is on; the default is `Augmentation.standard`'s.
    public var colorJitter = Augmentation.standard.colorJitter?.brightness ?? 0
    public var device: Device = .cpu
    /// Folder for checkpoints and logs (created).
    public var outputDirectory: String = "runs/latest"
    /// Where decoded caches (and the synthetic folder) live.
    public var cacheDirectory: String = DecodedCache.defaultDirectory
    /// A training state (`state.safetensors` of an earlier run) to resume from.
    public var resumeFrom: String?
    /// Single-task (or other) baseline metrics for Δm: a JSON file of "task/metric": value.
    public var baselineFile: String?
    /// Progress bars (decoding, training steps): on a terminal only (`auto`), always or never.
    public var progress: ProgressMode = .auto
    /// Without a bar (not a terminal), a plain progress line every this many steps (0: none).
    public var logEvery = 50
    /// TensorBoard event files: written into this folder (default `<output>/tensorboard`)
    /// unless `writesTensorBoard` is off.
    public var tensorboardDirectory: String?
    public var writesTensorBoard = true
    /// Data-parallel training across processes (nil: one process). Every rank trains on its
    /// shard of each epoch with `batchSize` images per step (the global batch is
    /// `batchSize × worldSize`, as with PyTorch's DDP); rank 0 alone writes the run folder.
    public var distributed: DistributedEnvironment?
    /// Synchronized BatchNorm across ranks (statistics of the global batch) instead of each
    /// rank's local batch.
    public var synchronizedBatchNorm = false
    /// How long a rank waits for the others (rendezvous, every collective) before failing.
    public var distributedTimeout: Duration = .seconds(300)

    public init() {}

    /// The training split's augmentation: `Augmentation.standard` (flip, 4-pixel
    /// pad-and-crop) with ``colorJitter``'s strength; nil when ``augment`` is off.
    public var trainingAugmentation: Augmentation? {
        guard augment else { return nil }
        var a = Augmentation.standard
        let j = colorJitter
        a.colorJitter = j > 0 ? ColorJitter(brightness: j, contrast: j, saturation: j) : nil
        return a
    }

    /// How ``trainingAugmentation`` reads in a log or report.
    public var augmentationDescription: String {
        guard augment else { return "none" }
        return colorJitter > 0 ? "flip, crop and colour jitter \(colorJitter)" : "flip and crop"
    }

    public func validate() throws {
        try training.validate()
        guard (8...1024).contains(imageSize) else {
            throw HydraError.invalidConfiguration("image size must be between 8 and 1024, got \(imageSize)")
        }
        guard batchSize > 0 else { throw HydraError.invalidConfiguration("batch size must be positive") }
        if let timeBudget, !(timeBudget.isFinite && timeBudget > 0 && timeBudget <= EpochBudget.maxBudget) {
            throw HydraError.invalidConfiguration("the time budget must be a positive number of seconds up to a year, got \(timeBudget)")
        }
        guard logEvery >= 0 else { throw HydraError.invalidConfiguration("log-every must be ≥ 0 steps, got \(logEvery)") }
        guard colorJitter.isFinite, (0...1).contains(colorJitter) else {
            throw HydraError.invalidConfiguration("colour jitter must be in [0, 1], got \(colorJitter)")
        }
        guard (0..<1).contains(labelSmoothing) else {
            throw HydraError.invalidConfiguration("label smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        guard headHidden.allSatisfy({ $0 > 0 }), (0..<1).contains(headDropout) else {
            throw HydraError.invalidConfiguration("head sizes must be positive and dropout in [0, 1)")
        }
        if case let .synthetic(count, size) = data, count < 10 || size < 16 {
            throw HydraError.invalidConfiguration("synthetic data needs at least 10 images of at least 16 pixels")
        }
        if case let .csv(path, columns, _) = data {
            guard !columns.isEmpty else { throw HydraError.invalidConfiguration("CSV data \(path) needs at least one task column") }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                throw HydraError.invalidConfiguration("CSV manifest not found: \(path)")
            }
        }
        if let p = pretrainedWeights, !FileManager.default.fileExists(atPath: p) {
            throw HydraError.invalidConfiguration("pretrained weights file not found: \(p)")
        }
        try WeightingFactory.validateName(weighting)
        if let m = initialModel, !FileManager.default.fileExists(atPath: m) {
            throw HydraError.invalidConfiguration("model to fine-tune not found: \(m)")
        }
        if let tasks {
            guard !tasks.isEmpty, Set(tasks).count == tasks.count else {
                throw HydraError.invalidConfiguration("the tasks to train must be distinct and at least one, got \(tasks)")
            }
            guard initialModel == nil else {
                throw HydraError.invalidConfiguration("choosing the tasks to train applies to a new model; a fine-tuned "
                    + "model keeps its tasks (use --train-heads or --freeze-heads)")
            }
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

extension RunConfiguration.DataSource {
    /// The data source that a command line's data flags describe (what `hydranet`'s
    /// `--data`, `--synthetic-count`, `--task` and `--image-column` give):
    ///
    /// - `synthetic`: `syntheticCount` generated faces (`syntheticSize` pixels);
    /// - a `.csv` file (or any existing file): a CSV manifest whose task columns are the
    ///   `tasks` declarations (``CSVManifest/Column/init(declaration:)``, e.g.
    ///   `hair:multiclass:black,brown`), read with `imageColumn` as the image paths;
    /// - anything else: a UTKFace-format folder.
    ///
    /// The CSV's header is read here, so a manifest without `tasks`, or declarations naming
    /// columns it lacks, are refused before anything runs, with its columns listed.
    ///
    /// - Throws: `HydraError.invalidConfiguration` with a message for the user.
    ///
    /// With `modelTasks` (the tasks of a trained model being evaluated or fine-tuned), a CSV
    /// column named like a model task is read as that task, with the model's class names,
    /// without a `--task` for it; a declared task of the model without class names gets the
    /// model's.
    public static func parse(data: String, syntheticCount: Int = 2000, syntheticSize: Int = 64, tasks: [String] = [],
                             imageColumn: String = "path", modelTasks: [HydraTask] = []) throws -> RunConfiguration.DataSource {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: data, isDirectory: &isFolder)
        let isCSV = data.lowercased().hasSuffix(".csv") || (exists && !isFolder.boolValue)
        guard isCSV else {
            if !tasks.isEmpty {
                throw HydraError.invalidConfiguration("--task declares columns of a CSV manifest; '\(data)' is "
                    + (data == "synthetic" ? "the generated faces" : "a UTKFace folder")
                    + ", whose tasks are fixed (age, gender, race)")
            }
            return data == "synthetic" ? .synthetic(count: syntheticCount, size: syntheticSize) : .utkface(folder: data)
        }
        guard exists, !isFolder.boolValue else { throw HydraError.invalidConfiguration("CSV manifest not found: \(data)") }
        let header: [String]
        do {
            header = try CSVManifest.header(of: data)
        } catch {
            throw HydraError.invalidConfiguration("\(error)")
        }
        let listed = header.map { "'\($0)'" }.joined(separator: ", ")
        let implied = modelTasks.filter { t in header.contains(t.name) && !tasks.contains { $0.hasPrefix(t.name + ":") } }
        guard !tasks.isEmpty || !implied.isEmpty else {
            throw HydraError.invalidConfiguration("\(data): declare the task columns to train on with --task NAME:KIND[:CLASSES] "
                + "(KIND: regression, binary, multiclass, multilabel; e.g. --task age:regression); the CSV's columns are: \(listed)")
        }
        var columns: [CSVManifest.Column]
        do {
            columns = try tasks.map { try CSVManifest.Column(declaration: $0) }
        } catch {
            throw HydraError.invalidConfiguration("\(error)")
        }
        for (i, column) in columns.enumerated() {
            guard let task = modelTasks.first(where: { $0.name == column.name }) else { continue }
            guard column.kind.kindName == task.csvColumn.kind.kindName else {
                throw HydraError.invalidConfiguration("--task \(column.declaration): the model's task '\(task.name)' is "
                    + task.kindName)
            }
            if column.kind.classNames == nil { columns[i] = task.csvColumn }
        }
        columns += implied.map(\.csvColumn)
        var seen = Set<String>()
        for column in columns where !seen.insert(column.name).inserted {
            throw HydraError.invalidConfiguration("task '\(column.name)' is declared twice")
        }
        for name in [imageColumn] + columns.map(\.name) where !header.contains(name) {
            throw HydraError.invalidConfiguration("\(data): no column '\(name)'"
                + (name == imageColumn ? " for the image paths (set it with --image-column)" : "")
                + "; the CSV's columns are: \(listed)")
        }
        return .csv(path: data, columns: columns, imageColumn: imageColumn)
    }
}

extension CSVManifest.Column.Kind {
    /// The kind's name as a task declaration writes it.
    var kindName: String {
        switch self {
        case .regression: "regression"
        case .binary: "binary"
        case .classification: "multiclass"
        case .multilabel: "multilabel"
        }
    }

    /// The class (or label) names the column declares, nil when they are read from the data.
    var classNames: [String]? {
        switch self {
        case .regression: nil
        case let .binary(names), let .classification(names): names
        case let .multilabel(names): names
        }
    }
}
