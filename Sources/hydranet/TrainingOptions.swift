import ArgumentParser
import Foundation
import HydraNet

/// How to train: the flags `train` and `finetune` share (weighting, optimizer, schedule,
/// epochs, batches, seed, output folder).
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Weighting method: \(WeightingFactory.allNames.joined(separator: ", ")). Default: equal for the "
        + "UTKFace recipe, uncertainty otherwise."))
    var weighting: String?

    @Option(help: "Gradient source for gradient methods: exact or features.")
    var gradientSource: String?

    @Option(help: "Weights for --weighting static, comma-separated, one per task.")
    var weights: String?

    @Option(help: "Epochs. Default: 3 (the UTKFace recipe: as many as fit in its time budget; 5 with --time-budget off).")
    var epochs: Int?

    @Option(help: ArgumentHelp("Train as many epochs as fit in this wall-clock time on this machine, measured at the start "
        + "(e.g. 90s, 20m, 1.5h; a bare number is minutes; 'off': use --epochs). Default: 20m for the UTKFace recipe, off "
        + "otherwise; --epochs turns it off.", valueName: "time"))
    var timeBudget: String?

    @Option(help: "Batch size. Default: 64.")
    var batchSize: Int?

    @Option(help: "Optimizer: sgd, adam, adamw, rmsprop. Default: adamw.")
    var optimizer: String?

    @Option(help: "Learning rate. Default: 0.001.")
    var lr: Double?

    @Option(help: "Weight decay. Default: 0.0001.")
    var weightDecay: Double?

    @Option(help: "Schedule: none, cosine, onecycle. Default: cosine.")
    var schedule: String?

    @Flag(help: "Turn off training augmentation (flip, crop, colour jitter).")
    var noAugment = false

    @Option(help: ArgumentHelp("Colour-jitter strength of the training augmentation: brightness, contrast and saturation "
        + "each scaled by 1 ± S; 0 turns it off (flip and crop only). Default: 0 for the UTKFace recipe, 0.2 otherwise."))
    var colorJitter: Double?

    @Option(help: "Random seed (data order, augmentation, initialisation).")
    var seed: UInt64 = 0

    @Option(help: "Baseline metrics (JSON of \"task/metric\": value) for Δm.")
    var baseline: String?

    @Option(help: "Resume from a training state (state.safetensors of an earlier run with the same settings).")
    var resume: String?

    @Option(help: "Output folder for checkpoints and logs (default: runs/latest; finetune: runs/finetune).")
    var output: String?

    @Flag(help: "Print only errors and the final summary (no progress, no epoch lines).")
    var quiet = false

    @Option(help: "When output is not a terminal (no progress bar): a progress line every N steps (0: none).")
    var logEvery = 50

    @Option(help: ArgumentHelp("Folder for TensorBoard event files (default: <output>/tensorboard; 'off': none).",
                               valueName: "dir"))
    var tensorboard: String?

    @Option(help: "On a non-finite loss or gradient: stop (default) or skip the step (counted in the epoch line).")
    var onNonfinite = "stop"

    /// Sets the options given on `c` (whose values are the defaults for the others;
    /// `defaultOutput` when no --output is given).
    func apply(to c: inout RunConfiguration, defaultOutput: String = "runs/latest") throws {
        if let weighting { c.weighting = weighting }
        if let gradientSource {
            guard let source = GradientSource(rawValue: gradientSource) else {
                throw ValidationError("unknown gradient source '\(gradientSource)': use exact or features")
            }
            c.gradientSource = source
        }
        if let weights {
            let values = weights.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ $0 != nil }) else { throw ValidationError("--weights must be numbers, e.g. 1,0.5,2") }
            c.staticWeights = values.map { $0! }
        }
        if let optimizer {
            guard let opt = OptimizerKind(rawValue: optimizer) else { throw ValidationError("unknown optimizer '\(optimizer)'") }
            c.training.optimizer = opt
        }
        if let timeBudget {
            if timeBudget.lowercased() == "off" {
                c.timeBudget = nil
            } else {
                guard let seconds = EpochBudget.parse(timeBudget) else {
                    throw ValidationError("--time-budget must be a positive time such as 90s, 20m or 1.5h (or 'off'), "
                        + "got '\(timeBudget)'")
                }
                c.timeBudget = seconds
            }
        }
        if let epochs {
            guard timeBudget == nil || timeBudget?.lowercased() == "off" else {
                throw ValidationError("give --epochs or --time-budget, not both")
            }
            c.training.epochs = epochs
            c.timeBudget = nil
        }
        if let lr { c.training.learningRate = lr }
        if let weightDecay { c.training.weightDecay = weightDecay }
        c.training.seed = seed
        if let batchSize { c.batchSize = batchSize }
        if noAugment { c.augment = false }
        if let colorJitter { c.colorJitter = colorJitter }
        c.baselineFile = baseline
        c.outputDirectory = output ?? defaultOutput
        c.resumeFrom = resume
        if let schedule {
            guard let scheduleKind = RunConfiguration.ScheduleKind(rawValue: schedule) else {
                throw ValidationError("unknown schedule '\(schedule)': use none, cosine or onecycle")
            }
            c.schedule = scheduleKind
        }
        guard logEvery >= 0 else { throw ValidationError("--log-every must be ≥ 0, got \(logEvery)") }
        c.logEvery = quiet ? 0 : logEvery
        c.progress = quiet ? .never : .auto
        if tensorboard == "off" {
            c.writesTensorBoard = false
        } else {
            c.tensorboardDirectory = tensorboard
        }
        guard let policy = NonFinitePolicy(rawValue: onNonfinite) else {
            throw ValidationError("unknown --on-nonfinite '\(onNonfinite)': use stop or skip")
        }
        c.training.onNonFinite = policy
    }
}

/// The loss options of a new model's classification tasks (`train`): label smoothing and
/// class balancing.
struct NewTaskLossOptions: ParsableArguments {
    @Option(help: "Label smoothing of every multiclass task's cross-entropy. Default: 0.1 for the UTKFace recipe, 0 otherwise.")
    var labelSmoothing: Double?

    @Option(help: ArgumentHelp("Class weights of every multiclass task's cross-entropy, from the training split's class counts: "
        + "none, sqrt (inverse square-root frequency) or inverse (inverse frequency). Default: sqrt for the UTKFace "
        + "recipe, none otherwise."))
    var classBalance: String?

    func apply(to c: inout RunConfiguration) throws {
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let classBalance {
            guard let balance = ClassBalance(rawValue: classBalance) else {
                throw ValidationError("unknown --class-balance '\(classBalance)': use none, sqrt or inverse")
            }
            c.classBalance = balance
        }
    }
}

/// Comma-separated names (`--freeze-heads age,gender`), trimmed, empty parts dropped.
func commaList(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
