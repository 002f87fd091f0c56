import Foundation
import HydraData
import Torch

/// A trained model scored on labelled data: every task's metrics and details
/// (``TaskEvaluation``), what `hydranet evaluate` prints and writes to `evaluation.json`.
public struct ModelEvaluation: Sendable, Codable {
    /// The checkpoint (or a caller-given name).
    public var model: String
    /// The data's name and which rows were scored (`all`, `train`, `validation`, `test`).
    public var data: String
    public var split: String
    /// Images scored, and images of the source left out because they could not be decoded.
    public var images: Int
    public var skipped: Int
    /// Headline metrics as `task/metric` (the keys of `test-metrics.json` and baselines).
    public var metrics: [String: Double]
    /// Mean loss per task over its labelled samples.
    public var losses: [String: Double]
    public var tasks: [TaskEvaluation]
    /// Model tasks the data has no labels for (not scored).
    public var unlabelledTasks: [String]
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case model, data, split, images, skipped, metrics, losses, tasks, seconds
        case unlabelledTasks = "unlabelled_tasks"
    }

    /// Scores `predictor`'s model on `rows` of `data` (all rows when nil) in batches of
    /// `batchSize`. With `keepPredictions`, every image's predictions come back too (the same
    /// values ``Predictor`` gives for the image's file).
    public static func run(_ predictor: Predictor, data: DecodedDataset, rows: [Int]? = nil, split: String = "all",
                           batchSize: Int = 256, keepPredictions: Bool = false, name: String = "model")
        throws -> (evaluation: ModelEvaluation, predictions: [Predictor.Outcome]) {
        let start = Date()
        let model = predictor.model
        guard data.transform.height == predictor.input.transform.height, data.transform.width == predictor.input.transform.width else {
            throw HydraError.invalidData("the data is decoded at \(data.transform.height)×\(data.transform.width), the model "
                + "takes \(predictor.spec.inputSummary)")
        }
        let columns = try model.tasks.map { try $0.column(in: data.tasks) }
        guard columns.contains(where: { $0 != nil }) else {
            throw HydraError.invalidData("the data has labels for none of the model's tasks (data: "
                + "\(data.tasks.map(\.name).joined(separator: ", ")); model: \(model.tasks.map(\.name).joined(separator: ", ")))")
        }
        let options = LoaderOptions(batchSize: batchSize, shuffle: false, dropLast: false, augmentation: nil,
                                    normalization: predictor.input.normalization, device: predictor.device)
        let loader = try DataLoader(data, rows: rows, options: options)
        let accumulators = model.tasks.map { MetricAccumulator(task: $0) }
        var outcomes: [Predictor.Outcome] = []
        try model.score(loader, columns: columns, into: accumulators) { batch, outputs in
            guard keepPredictions else { return }
            for (i, p) in model.predictions(fromOutputs: outputs).enumerated() {
                outcomes.append(Predictor.Outcome(name: data.names[batch.indices[i]], predictions: p, error: nil))
            }
        }
        model.eval()
        var metrics: [String: Double] = [:], losses: [String: Double] = [:]
        var details: [TaskEvaluation] = []
        for a in accumulators where a.sampleCount > 0 {
            for m in a.compute() { metrics[m.key] = m.value }
            losses[a.task.name] = a.meanLoss
            details.append(a.details())
        }
        let unlabelled = zip(model.tasks, accumulators).filter { $0.1.sampleCount == 0 }.map(\.0.name)
        let evaluation = ModelEvaluation(model: name, data: data.name, split: split, images: loader.rows.count,
                                         skipped: data.skipped.count, metrics: metrics, losses: losses, tasks: details,
                                         unlabelledTasks: unlabelled, seconds: Date().timeIntervalSince(start))
        return (evaluation, outcomes)
    }

    /// The evaluation as pretty-printed JSON (sorted keys).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// A report for people: a metric table, then per task the details.
    public var table: String {
        var lines = ["\(model) on \(data) (\(split)): \(images) images"
            + (skipped > 0 ? ", \(skipped) undecodable files left out" : "") + String(format: " in %.1f s", seconds)]
        if !unlabelledTasks.isEmpty { lines.append("no labels for: \(unlabelledTasks.joined(separator: ", "))") }
        lines.append("")
        let keyWidth = max(12, metrics.keys.map(\.count).max() ?? 0)
        lines.append("metric".padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  value")
        for key in metrics.keys.sorted(by: metricOrder) {
            lines.append(key.padding(toLength: keyWidth, withPad: " ", startingAt: 0) + "  " + String(format: "%.4f", metrics[key]!))
        }
        for t in tasks {
            lines.append("")
            lines.append("\(t.task) (\(t.kind), \(t.labelled) labelled)")
            if let decades = t.byDecade {
                lines.append("  true value   count     MAE    bias")
                for d in decades {
                    lines.append(String(format: "  %4.0f–%-4.0f %8d %7.2f %+7.2f", d.lower, d.upper - 1, d.count, d.mae, d.bias))
                }
            }
            if let classes = t.classes, let confusion = t.confusion, let perClass = t.perClass {
                let w = max(8, classes.map(\.count).max() ?? 0)
                func pad(_ s: String) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
                lines.append("  " + pad("class") + "  precision  recall      f1  support")
                for c in perClass {
                    lines.append("  " + pad(c.name) + String(format: "  %9.3f  %6.3f  %6.3f  %7d", c.precision, c.recall, c.f1, c.support))
                }
                lines.append("  confusion (rows true, columns predicted):")
                lines.append("  " + pad("") + " " + classes.map { String($0.prefix(7)).padding(toLength: 8, withPad: " ", startingAt: 0) }
                    .joined())
                for (name, row) in zip(classes, confusion) {
                    lines.append("  " + pad(name) + " " + row.map { String($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
                }
            }
            if let ece = t.ece { lines.append(String(format: "  calibration: ECE %.4f (%d confidence bins)", ece, TaskEvaluation.calibrationBins)) }
        }
        return lines.joined(separator: "\n")
    }

    private func metricOrder(_ a: String, _ b: String) -> Bool {
        let order = tasks.map(\.task)
        let ta = order.firstIndex { a.hasPrefix($0 + "/") } ?? order.count
        let tb = order.firstIndex { b.hasPrefix($0 + "/") } ?? order.count
        return ta != tb ? ta < tb : a < b
    }
}
