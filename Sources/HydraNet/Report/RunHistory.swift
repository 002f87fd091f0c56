import Foundation

/// What a run's `metrics.jsonl` says, typed for the report: the step lines (losses,
/// weights, gradient geometry every few steps) and the epoch reports.
public struct RunHistory {
    public struct Step {
        /// The position in epochs: epoch − 1 + step/of (1.5 is the middle of epoch 2).
        public var position: Double
        public var losses: [String: Double]
        public var weights: [String: Double]
        /// Gram-matrix condition number of the task gradients (gradient methods).
        public var gramCondition: Double?
        /// cos(gᵢ, gⱼ) by task pair `"a,b"` (gradient methods).
        public var cosines: [String: Double]
    }

    public var steps: [Step] = []
    public var epochs: [EpochReport] = []

    public init(steps: [Step] = [], epochs: [EpochReport] = []) {
        self.steps = steps
        self.epochs = epochs
    }

    /// From the lines of a metrics log (``MetricsLog/entries``); lines of unknown types are
    /// ignored, malformed epoch reports throw.
    public init(entries: [[String: Any]]) throws {
        for entry in entries {
            switch entry["type"] as? String {
            case "step":
                guard let epoch = entry["epoch"] as? Int, let step = (entry["step"] as? NSNumber)?.doubleValue,
                      let of = (entry["of"] as? NSNumber)?.doubleValue, of > 0 else { continue }
                steps.append(Step(position: Double(epoch - 1) + step / of, losses: Self.numbers(entry["losses"]),
                                  weights: Self.numbers(entry["weights"]),
                                  gramCondition: (entry["gram_condition"] as? NSNumber)?.doubleValue,
                                  cosines: Self.numbers(entry["cosines"])))
            case "epoch":
                guard let report = entry["report"] else { continue }
                epochs.append(try JSONDecoder().decode(EpochReport.self, from: JSONSerialization.data(withJSONObject: report)))
            default: continue
            }
        }
    }

    /// Reads a `metrics.jsonl` file.
    public init(metricsFile path: String) throws {
        try self.init(entries: MetricsLog.read(path))
    }

    private static func numbers(_ value: Any?) -> [String: Double] {
        guard let object = value as? [String: Any] else { return [:] }
        var out: [String: Double] = [:]
        for (k, v) in object { if let n = v as? NSNumber { out[k] = n.doubleValue } }
        return out
    }

    /// The task pairs with logged cosines, in the order of `tasks`.
    public func cosinePairs(tasks: [String]) -> [String] {
        let logged = Set(steps.flatMap(\.cosines.keys))
        var pairs: [String] = []
        for (i, a) in tasks.enumerated() {
            for b in tasks[(i + 1)...] where logged.contains("\(a),\(b)") { pairs.append("\(a),\(b)") }
        }
        return pairs + logged.subtracting(pairs).sorted()
    }
}
