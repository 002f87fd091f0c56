import ArgumentParser
import Foundation
import HydraNet
import Torch

/// `hydranet train`: the main job. With no options it trains a ResNet-18 HydraNet (age,
/// gender, race) on generated UTKFace-style faces; every choice is a flag.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a multi-task HydraNet (default: ResNet-18 on generated faces, uncertainty weighting).")

    @OptionGroup var engine: EngineOptions

    @OptionGroup var configFile: ConfigFileOption

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Input size: images are resized to N×N.")
    var imageSize = 32

    @Option(help: "Backbone: \(RunConfiguration.BackboneKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var backbone = "resnet18"

    @Flag(help: "ResNet 3×3 stride-1 stem without max-pool (small images).")
    var smallStem = false

    @Option(help: "torchvision weights for the backbone (.pth or .safetensors).")
    var pretrained: String?

    @Flag(help: "Train only the heads: the backbone stays fixed.")
    var freezeBackbone = false

    @Option(help: "Heads to keep fixed, comma-separated (e.g. fine-tune one head at a time).")
    var freezeHeads: String?

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

    @Option(help: "Output folder for checkpoints and logs.")
    var output = "runs/latest"

    func run() throws {
        let device = try engine.apply()
        var c = RunConfiguration()
        c.data = try dataOptions.source()
        c.imageSize = imageSize
        guard let kind = RunConfiguration.BackboneKind(rawValue: backbone) else {
            throw ValidationError("unknown backbone '\(backbone)'")
        }
        c.backbone = kind
        c.smallImageStem = smallStem
        c.pretrainedWeights = pretrained
        c.freezeBackbone = freezeBackbone
        c.frozenHeads = freezeHeads.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
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
        c.device = device
        c.baselineFile = baseline
        c.outputDirectory = output
        c.resumeFrom = resume
        guard let scheduleKind = RunConfiguration.ScheduleKind(rawValue: schedule) else {
            throw ValidationError("unknown schedule '\(schedule)': use none, cosine or onecycle")
        }
        c.schedule = scheduleKind
        do {
            try c.validate()
        } catch let error as HydraError {
            throw ValidationError(error.description)
        }
        print(engineSummary(device: device))
        // Errors from here on (data, training) are reported as they are, without usage text.
        let run = try ExperimentRun(c)
        try run.run()
    }
}
