import ArgumentParser
import Foundation
import HydraNet

/// How to train: the flags `train` and `finetune` share (weighting, optimizer, schedule,
/// epochs, batches, seed, output folder).
struct TrainingOptions: ParsableArguments {
    @Option(help: "Weighting method: \(WeightingFactory.allNames.joined(separator: ", ")).")
    var weighting = "uncertainty"

    @Option(help: "Gradient source for gradient methods: exact or features.")
    var gradientSource: String?

    @Option(help: "Weights for --weighting static, comma-separated, one per task.")
    var weights: String?

    @Option(help: "Epochs.")
    var epochs = 3

    @Option(help: "Batch size.")
    var batchSize = 64

    @Option(help: "Optimizer: sgd, adam, adamw, rmsprop.")
    var optimizer = "adamw"

    @Option(help: "Learning rate.")
    var lr = 1e-3

    @Option(help: "Weight decay.")
    var weightDecay = 1e-4

    @Option(help: "Schedule: none, cosine, onecycle.")
    var schedule = "cosine"

    @Flag(help: "Turn off training augmentation (flip, crop).")
    var noAugment = false

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

    /// Sets these options on `c` (`defaultOutput` when no --output is given).
    func apply(to c: inout RunConfiguration, defaultOutput: String = "runs/latest") throws {
        c.weighting = weighting
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
        guard let opt = OptimizerKind(rawValue: optimizer) else { throw ValidationError("unknown optimizer '\(optimizer)'") }
        c.training.optimizer = opt
        c.training.epochs = epochs
        c.training.learningRate = lr
        c.training.weightDecay = weightDecay
        c.training.seed = seed
        c.batchSize = batchSize
        c.augment = !noAugment
        c.baselineFile = baseline
        c.outputDirectory = output ?? defaultOutput
        c.resumeFrom = resume
        guard let scheduleKind = RunConfiguration.ScheduleKind(rawValue: schedule) else {
            throw ValidationError("unknown schedule '\(schedule)': use none, cosine or onecycle")
        }
        c.schedule = scheduleKind
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

/// Comma-separated names (`--freeze-heads age,gender`), trimmed, empty parts dropped.
func commaList(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
