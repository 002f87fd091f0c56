import ArgumentParser
import Foundation
import HydraData
import HydraNet
import Torch

/// `hydranet evaluate`: scores a checkpoint on labelled data.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a trained model on labelled data: every task's metrics, errors by decade, confusion "
            + "matrices, per-class precision/recall/F1 and calibration.")

    @OptionGroup var engine: EngineOptions

    @OptionGroup var configFile: ConfigFileOption

    @Option(help: "The model: a checkpoint (best.safetensors of a run).")
    var model: String

    @OptionGroup var data: DataOptions

    @Option(help: "Seed of the generated faces (synthetic data; the training run's --seed gives its data).")
    var seed: UInt64 = 0

    @Option(help: "Rows to score: all, train, validation or test (the deterministic split training uses).")
    var split = "all"

    @OptionGroup var expected: ModelCheckOptions

    @Option(help: "Batch size.")
    var batchSize = 256

    @Flag(help: "Print the evaluation as JSON instead of a table (progress goes to standard error).")
    var json = false

    @Option(help: "Also write the evaluation as JSON to this file (e.g. evaluation.json).")
    var output: String?

    @Option(help: "Write every image's predictions (as `predict --json` prints them) to this JSON file.")
    var predictions: String?

    func run() throws {
        let device = try engine.apply()
        guard let split = ["all", "train", "validation", "test"].first(where: { $0 == self.split }) else {
            throw ValidationError("--split must be all, train, validation or test, got '\(self.split)'")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let json = self.json
        let log: (String) -> Void = { line in if json { printError(line) } else { print(line) } }
        let predictor = try Predictor(checkpoint: model, device: device)
        try engine.configure(predictor)
        try expected.check(predictor.spec, path: model)
        log("model: \(model) (\(predictor.spec.backbone.summary), input \(predictor.spec.inputSummary), tasks "
            + predictor.model.tasks.map(\.name).joined(separator: ", ") + ")")
        let files = try data.source(modelTasks: predictor.model.tasks).files(seed: seed, cacheDirectory: DecodedCache.defaultDirectory, log: log)
        var options = DecodeOptions()
        options.progress = .auto
        let decoded = try DecodedCache().load(files, transform: predictor.input.transform, options: options)
        log("decoded \(decoded.count) images at \(predictor.spec.inputSummary) (\(decoded.cacheStatus))"
            + (decoded.skipped.isEmpty ? "" : "; \(decoded.skipped.count) files could not be decoded and are left out"))
        let rows: [Int]? = split == "all" ? nil : try decoded.splits()[Split(rawValue: split)!]
        if let rows, rows.isEmpty { throw ValidationError("the \(split) split of this data is empty") }
        let (evaluation, outcomes) = try ModelEvaluation.run(predictor, data: decoded, rows: rows, split: split,
                                                             batchSize: batchSize, keepPredictions: predictions != nil,
                                                             name: model)
        let encoded = try evaluation.json()
        if let output { try AtomicFile.write(encoded, to: output) }
        if let predictions {
            try AtomicFile.write(try PredictionFormat(tasks: predictor.model.tasks).json(outcomes), to: predictions)
        }
        if json {
            print(String(decoding: encoded, as: UTF8.self))
        } else {
            print("")
            print(evaluation.table)
            if let output { print("\nwrote \(output)") }
            if let predictions { print("wrote per-image predictions to \(predictions)") }
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
