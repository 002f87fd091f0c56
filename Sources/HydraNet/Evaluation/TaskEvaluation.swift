import Foundation

/// Everything `hydranet evaluate` reports about one task beyond its headline metrics:
/// regression error by decade of the true value, the confusion matrix and per-class
/// precision/recall/F1 of classification, and calibration (expected calibration error over
/// equal-width confidence bins) of predicted probabilities.
public struct TaskEvaluation: Sendable, Codable, Equatable {
    /// Error over the samples whose true value lies in `[lower, upper)` (e.g. ages 20–29).
    public struct RangeError: Sendable, Codable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        public var mae: Double
        /// Mean signed error (prediction − truth): positive means over-estimated.
        public var bias: Double
    }

    /// One class's scores (support: its true samples).
    public struct ClassScores: Sendable, Codable, Equatable {
        public var name: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    /// Predictions whose confidence lies in `[lower, upper)`: their mean confidence and accuracy.
    public struct CalibrationBin: Sendable, Codable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        public var confidence: Double
        public var accuracy: Double
    }

    public var task: String
    public var kind: String
    public var labelled: Int
    public var metrics: [String: Double]
    public var byDecade: [RangeError]?
    public var classes: [String]?
    /// Rows: true classes; columns: predicted classes.
    public var confusion: [[Int]]?
    public var perClass: [ClassScores]?
    /// Expected calibration error: Σ (bin count / total) · |accuracy − confidence|.
    public var ece: Double?
    public var calibration: [CalibrationBin]?

    /// Confidence bins used for calibration.
    public static let calibrationBins = 10

    enum CodingKeys: String, CodingKey {
        case task, kind, labelled, metrics, classes, confusion, ece, calibration
        case byDecade = "by_decade", perClass = "per_class"
    }
}

extension MetricAccumulator {
    /// The detailed evaluation of everything added (nil fields where they do not apply).
    public func details() -> TaskEvaluation {
        var e = TaskEvaluation(task: task.name, kind: task.kindName, labelled: sampleCount,
                               metrics: Dictionary(compute().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
        switch task.kind {
        case .regression:
            e.byDecade = TaskEvaluation.byDecade(predictions: predictions, targets: targets)
        case .binary:
            let names = [task.className(0), task.className(1)]
            let predicted = predictions.map { $0 >= 0.5 ? 1 : 0 }
            let matrix = TaskEvaluation.confusion(predicted: predicted, targets: targets.map { Int($0) }, classes: 2)
            e.classes = names
            e.confusion = matrix
            e.perClass = TaskEvaluation.perClass(matrix, names: names)
            let confidence = predictions.map { max($0, 1 - $0) }
            let correct = zip(predicted, targets).map { Double($0) == $1 }
            (e.ece, e.calibration) = TaskEvaluation.calibration(confidence: confidence, correct: correct)
        case let .multiclass(n):
            let names = (0..<n).map(task.className)
            let matrix = confusionMatrix(classes: n)
            e.classes = names
            e.confusion = matrix
            e.perClass = TaskEvaluation.perClass(matrix, names: names)
            if probabilities.count == targets.count * n {
                let confidence = (0..<targets.count).map { i in probabilities[i * n..<(i + 1) * n].max() ?? 0 }
                let correct = zip(predictions, targets).map { $0 == $1 }
                (e.ece, e.calibration) = TaskEvaluation.calibration(confidence: confidence, correct: correct)
            }
        case .multilabel:
            // Every (sample, label) decision is one binary prediction.
            let confidence = predictions.map { max($0, 1 - $0) }
            let correct = zip(predictions, targets).map { ($0 >= 0.5 ? 1.0 : 0.0) == $1 }
            (e.ece, e.calibration) = TaskEvaluation.calibration(confidence: confidence, correct: correct)
        }
        if let ece = e.ece { e.metrics["ece"] = ece }
        return e
    }
}

extension TaskEvaluation {
    /// MAE and bias per decade of the true value (0–9, 10–19, …; negative values in the first).
    static func byDecade(predictions: [Double], targets: [Double]) -> [RangeError] {
        var groups: [Int: [(Double, Double)]] = [:]
        for (p, t) in zip(predictions, targets) where t.isFinite && abs(t) < 1e12 {
            groups[max(0, Int((t / 10).rounded(.down))), default: []].append((p, t))
        }
        return groups.keys.sorted().map { d in
            let pairs = groups[d]!
            let errors = pairs.map { $0.0 - $0.1 }
            return RangeError(lower: Double(d * 10), upper: Double(d * 10 + 10), count: pairs.count,
                              mae: errors.map(abs).reduce(0, +) / Double(pairs.count),
                              bias: errors.reduce(0, +) / Double(pairs.count))
        }
    }

    /// Confusion matrix (rows true, columns predicted) of class indices in `0..<classes`.
    static func confusion(predicted: [Int], targets: [Int], classes n: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: n), count: n)
        for (p, t) in zip(predicted, targets) where (0..<n).contains(p) && (0..<n).contains(t) { m[t][p] += 1 }
        return m
    }

    /// Precision, recall and F1 per class from a confusion matrix (0 where undefined).
    static func perClass(_ m: [[Int]], names: [String]) -> [ClassScores] {
        names.indices.map { c in
            let tp = Double(m[c][c])
            let predicted = Double(m.indices.reduce(0) { $0 + m[$1][c] })
            let actual = Double(m[c].reduce(0, +))
            let precision = predicted > 0 ? tp / predicted : 0
            let recall = actual > 0 ? tp / actual : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return ClassScores(name: names[c], precision: precision, recall: recall, f1: f1, support: Int(actual))
        }
    }

    /// Expected calibration error over ``calibrationBins`` equal-width bins of confidence
    /// (the last bin includes 1), and the non-empty bins.
    static func calibration(confidence: [Double], correct: [Bool]) -> (Double?, [CalibrationBin]?) {
        guard !confidence.isEmpty else { return (nil, nil) }
        let k = calibrationBins
        var count = [Int](repeating: 0, count: k), conf = [Double](repeating: 0, count: k)
        var right = [Double](repeating: 0, count: k)
        for (c, ok) in zip(confidence, correct) {
            let b = min(k - 1, max(0, Int(c * Double(k))))
            count[b] += 1
            conf[b] += c
            right[b] += ok ? 1 : 0
        }
        var ece = 0.0
        var bins: [CalibrationBin] = []
        for b in 0..<k where count[b] > 0 {
            let n = Double(count[b])
            ece += n / Double(confidence.count) * abs(right[b] / n - conf[b] / n)
            bins.append(CalibrationBin(lower: Double(b) / Double(k), upper: Double(b + 1) / Double(k), count: count[b],
                                       confidence: conf[b] / n, accuracy: right[b] / n))
        }
        return (ece, bins)
    }
}
