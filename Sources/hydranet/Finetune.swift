import ArgumentParser
import Foundation
import HydraData
import HydraNet
import Torch

/// `hydranet finetune`: continues training a checkpoint, with any part frozen, and adds tasks.
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue training a trained model (any heads or the backbone frozen) into a new run folder, "
            + "or add a task with its own head on the shared backbone.")

    @OptionGroup var engine: EngineOptions

    @OptionGroup var configFile: ConfigFileOption

    @Option(help: "The model to start from: a checkpoint (best.safetensors of a run).")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "Train only these heads, comma-separated (the others stay fixed).")
    var heads: String?

    @Flag(help: "Keep the backbone fixed (its BatchNorm statistics too).")
    var freezeBackbone = false

    @Option(name: .customLong("add-task"),
            help: ArgumentHelp("Add a task with a new head, its labels from the CSV column NAME, repeated: "
                + "NAME:regression, NAME:binary[:NEG,POS], NAME:multiclass[:A,B,C], NAME:multilabel[:A,B,C].",
                valueName: "name:kind[:classes]"))
    var addTasks: [String] = []

    @OptionGroup var expected: ModelCheckOptions

    @Option(help: "Hidden sizes of added heads, comma-separated (empty for a linear head).")
    var headHidden = "256"

    @OptionGroup var training: TrainingOptions

    func run() throws {
        let device = try engine.apply()
        let spec = try Checkpoint.spec(at: model)
        try expected.check(spec, path: model)
        var c = RunConfiguration.general
        let added = try addTasks.map { declaration in
            do {
                return try CSVManifest.Column(declaration: declaration).name
            } catch {
                throw ValidationError("--add-task: \(error)")
            }
        }
        if let clash = added.first(where: { name in spec.tasks.contains { $0.name == name } }) {
            throw ValidationError("--add-task \(clash): the model already has a task '\(clash)' (its tasks: "
                + spec.tasks.map(\.name).joined(separator: ", ") + "); fine-tune it with --heads \(clash)")
        }
        var dataOptions = data
        dataOptions.tasks += addTasks
        c.data = try dataOptions.source(modelTasks: spec.tasks)
        c.addTasks = added
        c.initialModel = model
        c.device = device
        try engine.apply(to: &c)
        c.freezeBackbone = freezeBackbone
        c.trainHeads = heads.map { commaList($0) }
        let hidden = commaList(headHidden).map { Int($0) }
        guard hidden.allSatisfy({ $0 != nil }) else { throw ValidationError("--head-hidden must be integers, e.g. 256,128") }
        c.headHidden = hidden.map { $0! }
        try training.apply(to: &c, defaultOutput: "runs/finetune")
        do {
            try c.validate()
        } catch let error as HydraError {
            throw ValidationError(error.description)
        }
        let own = URL(fileURLWithPath: model).deletingLastPathComponent().standardizedFileURL.path
        if URL(fileURLWithPath: c.outputDirectory).standardizedFileURL.path == own {
            throw ValidationError("--output \(c.outputDirectory) is the model's own run folder: fine-tuning writes a new run")
        }
        // Errors from here on (data, training) are reported as they are, without usage text.
        try runTraining(c, quiet: training.quiet, device: device)
    }
}
