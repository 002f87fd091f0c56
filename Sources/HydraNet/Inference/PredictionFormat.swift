import Foundation

/// Writes ``Predictor/Outcome``s for people (an aligned table), for programs (JSON) and for
/// spreadsheets (CSV), in user units: regression values as they are (e.g. years), classes
/// by name with their probability, the `topK` most likely classes of multiclass tasks.
public struct PredictionFormat: Sendable {
    public var tasks: [HydraTask]
    /// Classes listed per multiclass task (1: the predicted one).
    public var topK: Int

    public init(tasks: [HydraTask], topK: Int = 1) {
        self.tasks = tasks
        self.topK = max(1, topK)
    }

    /// The `k` most likely classes of a probability row, best first (ties by index).
    static func top(_ probabilities: [Double], _ k: Int) -> [Int] {
        Array(probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || probabilities[$0] == probabilities[$1] && $0 < $1 }
            .prefix(k))
    }

    /// One task's prediction as a JSON object.
    public func jsonObject(_ prediction: HydraNetModel.Prediction, task: HydraTask) -> [String: Any] {
        switch prediction {
        case let .value(v):
            return ["value": v]
        case let .binary(p, label):
            return ["label": label, "probability": label == task.className(1) ? p : 1 - p,
                    "probabilities": [task.className(0): 1 - p, task.className(1): p]]
        case let .multiclass(probabilities, label):
            var object: [String: Any] = [
                "label": label, "probability": probabilities.max() ?? 0,
                "probabilities": Dictionary(uniqueKeysWithValues: probabilities.enumerated().map { (task.className($0), $1) }),
            ]
            if topK > 1 {
                object["top_k"] = PredictionFormat.top(probabilities, topK).map {
                    ["label": task.className($0), "probability": probabilities[$0]] as [String: Any]
                }
            }
            return object
        case let .multilabel(probabilities, labels):
            return ["labels": labels,
                    "probabilities": Dictionary(uniqueKeysWithValues: probabilities.enumerated().map { (task.className($0), $1) })]
        }
    }

    /// One outcome as a JSON object: `{"image": …, "predictions": {task: …}}` or `{"image": …, "error": …}`.
    public func jsonObject(_ outcome: Predictor.Outcome) -> [String: Any] {
        guard let predictions = outcome.predictions else { return ["image": outcome.name, "error": outcome.error ?? "failed"] }
        var tasksObject: [String: Any] = [:]
        for task in tasks { if let p = predictions[task.name] { tasksObject[task.name] = jsonObject(p, task: task) } }
        return ["image": outcome.name, "predictions": tasksObject]
    }

    /// All outcomes as a pretty-printed JSON array.
    public func json(_ outcomes: [Predictor.Outcome]) throws -> Data {
        try JSONSerialization.data(withJSONObject: outcomes.map(jsonObject), options: [.prettyPrinted, .sortedKeys])
    }

    /// The CSV header: `image`, then per task its value (regression), label and probability
    /// (binary, multiclass, with `_2`, `_3`… for the top-k), or labels and per-label
    /// probabilities (multilabel); `error` last.
    public var csvHeader: [String] {
        var header = ["image"]
        for task in tasks {
            switch task.kind {
            case .regression: header.append(task.name)
            case .binary: header += [task.name, "\(task.name)_probability"]
            case .multiclass:
                header += [task.name, "\(task.name)_probability"]
                for k in stride(from: 2, through: topK, by: 1) { header += ["\(task.name)_\(k)", "\(task.name)_\(k)_probability"] }
            case let .multilabel(n):
                header.append(task.name)
                header += (0..<n).map { "\(task.name)_\(task.className($0))" }
            }
        }
        return header + ["error"]
    }

    /// One outcome's CSV cells (aligned with ``csvHeader``).
    public func csvRow(_ outcome: Predictor.Outcome) -> [String] {
        var row = [outcome.name]
        for task in tasks {
            let p = outcome.predictions?[task.name]
            switch (task.kind, p) {
            case let (_, .value(v)?): row.append(number(v))
            case let (_, .binary(prob, label)?):
                row += [label, number(label == task.className(1) ? prob : 1 - prob)]
            case let (_, .multiclass(probs, _)?):
                for i in PredictionFormat.top(probs, topK) { row += [task.className(i), number(probs[i])] }
                row += Array(repeating: "", count: 2 * (topK - min(topK, probs.count)))
            case let (_, .multilabel(probs, labels)?):
                row.append(labels.joined(separator: ";"))
                row += probs.map(number)
            case (.regression, nil): row.append("")
            case (.binary, nil): row += ["", ""]
            case (.multiclass, nil): row += Array(repeating: "", count: 2 * topK)
            case let (.multilabel(n), nil): row += Array(repeating: "", count: n + 1)
            }
        }
        return row + [outcome.error ?? ""]
    }

    /// All outcomes as CSV text (RFC 4180 quoting).
    public func csv(_ outcomes: [Predictor.Outcome]) -> String {
        ([csvHeader] + outcomes.map(csvRow)).map { $0.map(PredictionFormat.quoted).joined(separator: ",") }
            .joined(separator: "\n") + "\n"
    }

    /// A table for the terminal: one row per image, one column per task.
    public func table(_ outcomes: [Predictor.Outcome]) -> String {
        var rows = [["image"] + tasks.map(\.name)]
        var errors: [String] = []
        for outcome in outcomes {
            guard let predictions = outcome.predictions else {
                errors.append("error: \(outcome.error ?? "failed")")
                continue
            }
            rows.append([outcome.name] + tasks.map { task in predictions[task.name].map { cell($0, task: task) } ?? "" })
        }
        var widths = rows[0].map(\.count)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        let lines = rows.map { row in
            row.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return (lines + errors).joined(separator: "\n")
    }

    private func cell(_ p: HydraNetModel.Prediction, task: HydraTask) -> String {
        switch p {
        case let .value(v): return String(format: "%.1f", v)
        case let .binary(prob, label):
            return String(format: "%@ %.2f", label, label == task.className(1) ? prob : 1 - prob)
        case let .multiclass(probs, _):
            return PredictionFormat.top(probs, topK).map { String(format: "%@ %.2f", task.className($0), probs[$0]) }
                .joined(separator: ", ")
        case let .multilabel(_, labels): return labels.isEmpty ? "(none)" : labels.joined(separator: ";")
        }
    }

    private func number(_ v: Double) -> String { String(format: "%.6g", v) }

    static func quoted(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }
}
