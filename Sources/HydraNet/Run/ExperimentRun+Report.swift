import Foundation
import Torch

extension ExperimentRun {
    /// The run's settings for people, in display order (the "Run configuration" table of
    /// `report.html`).
    public var configurationSummary: [(String, String)] {
        let c = configuration
        let spec = ModelSpec(describing: model, input: input)
        var rows: [(String, String)] = []
        switch c.data {
        case let .synthetic(count, size): rows.append(("data", "\(count) generated faces (\(size)×\(size) px)"))
        case let .utkface(folder): rows.append(("data", "UTKFace folder \(folder)"))
        case let .csv(path, _, _): rows.append(("data", "CSV manifest \(path)"))
        }
        rows += [
            ("images", "\(splits.train.count) train / \(splits.validation.count) validation / \(splits.test.count) test, "
                + "input \(spec.inputSummary)"),
            ("tasks", model.tasks.map(\.description).joined(separator: "; ")),
            ("model", "\(spec.backbone.summary) backbone (\(model.featureCount) features), heads \(c.headHidden.map(String.init).joined(separator: "×")) hidden; "
                + "\(model.parameterCount()) parameters"),
            ("weighting", trainer.weighting.name + {
                if case let .gradient(_, source) = trainer.weighting { return " (\(source.rawValue) gradients)" }
                return ""
            }()),
            ("optimizer", "\(c.training.optimizer.rawValue), learning rate \(c.training.learningRate), weight decay "
                + "\(c.training.weightDecay), schedule \(c.schedule.rawValue)"),
            ("epochs × batch size", "\(c.training.epochs) × \(c.batchSize)"),
            ("augmentation", c.augmentationDescription),
            ("seed", "\(c.training.seed)"),
            ("device", "\(c.device)"),
            ("Δm reference", deltaReferenceDescription),
            ("output", c.outputDirectory),
        ]
        if let p = c.pretrainedWeights { rows.append(("pretrained weights", p)) }
        if let m = c.initialModel { rows.append(("fine-tuned from", m)) }
        if c.freezeBackbone { rows.append(("frozen", "backbone")) }
        if let r = c.resumeFrom { rows.append(("resumed from", r)) }
        return rows
    }

    var deltaReferenceDescription: String {
        configuration.baselineFile.map { "the baseline file \($0)" } ?? "the first epoch's validation results"
    }

    /// The page for the run so far (`history`: its metrics log), with the test results once
    /// there are some.
    func report(_ history: RunHistory, test: RunReport.TestResults?) -> RunReport {
        var gradient = false
        if case .gradient = trainer.weighting { gradient = true }
        return RunReport(title: configuration.outputDirectory,
                         configuration: configurationSummary,
                         tasks: model.tasks.map { (name: $0.name, kind: $0.kindName) },
                         totalEpochs: configuration.training.epochs, history: history, test: test,
                         deltaReference: deltaReferenceDescription, gradientMethod: gradient)
    }
}
