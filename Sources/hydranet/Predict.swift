import ArgumentParser
import Foundation
import HydraData
import HydraNet
import Torch

/// `hydranet predict`: a trained model's answers for image files.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict every task for images: files, folders (searched recursively) or '-' for image bytes on stdin.")

    @OptionGroup var engine: EngineOptions

    @Option(help: "The model: a checkpoint (best.safetensors of a run).")
    var model: String

    @Argument(help: "Image files, folders, or '-' for one image read from standard input.")
    var paths: [String]

    @Option(help: "Classes shown per multiclass task, most likely first.")
    var topK = 1

    @Flag(help: "Print JSON (one object per image).")
    var json = false

    @Flag(help: "Print CSV (one row per image).")
    var csv = false

    @Option(help: "Images per forward pass.")
    var batchSize = 64

    @OptionGroup var expected: ModelCheckOptions


    func validate() throws {
        guard !(json && csv) else { throw ValidationError("choose one of --json and --csv") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard paths.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("'-' (standard input) can be given once") }
    }

    func run() throws {
        let device = try engine.apply()
        let predictor = try Predictor(checkpoint: model, device: device)
        try engine.configure(predictor)
        try expected.check(predictor.spec, path: model)
        var inputs: [(name: String, load: @Sendable () throws -> [UInt8])] = []
        for path in paths {
            if path == "-" {
                let bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
                inputs.append((name: "-", load: { bytes }))
                continue
            }
            // A missing file is reported in its row like any unreadable one; the rest go on.
            let files = FileManager.default.fileExists(atPath: path) ? try ImageFiles.list(path) : [path]
            for file in files {
                inputs.append((name: file, load: { try ImageCodec.readFile(file) }))
            }
        }
        let outcomes = predictor.predict(inputs: inputs, batchSize: batchSize)
        let format = PredictionFormat(tasks: predictor.model.tasks, topK: topK)
        if json {
            print(String(decoding: try format.json(outcomes), as: UTF8.self))
        } else if csv {
            print(format.csv(outcomes), terminator: "")
        } else if outcomes.contains(where: { $0.predictions != nil }) {
            print(format.table(outcomes.filter { $0.predictions != nil }))
        }
        let failed = outcomes.filter { $0.predictions == nil }
        for f in failed { printError("error: \(f.error ?? "failed")") }
        if !failed.isEmpty {
            printError("\(failed.count) of \(outcomes.count) images could not be scored")
            throw ExitCode(1)
        }
    }
}
