import Foundation
import Torch

/// One evaluation number of a task, e.g. age MAE or race macro-F1.
public struct MetricValue: Sendable, Codable, Hashable {
    public var task: String
    public var name: String
    public var value: Double
    /// Whether a larger value is better (accuracy) or worse (MAE).
    public var higherIsBetter: Bool

    public init(task: String, name: String, value: Double, higherIsBetter: Bool) {
        self.task = task
        self.name = name
        self.value = value
        self.higherIsBetter = higherIsBetter
    }

    /// `task/name`, the key used in reports and baseline files.
    public var key: String { "\(task)/\(name)" }
}

/// Collects one task's predictions over an epoch (present labels only) and computes its
/// metrics: MAE and RMSE in original units (regression); accuracy, F1 and AUROC (binary);
/// accuracy, macro-F1 and the confusion matrix (multiclass); per-label F1 and mean F1
/// (multilabel).
public final class MetricAccumulator {
    public let task: HydraTask
    /// Regression predictions/targets in original units; binary probabilities; multiclass
    /// predicted classes; multilabel probabilities (flattened, n per sample).
    private(set) var predictions: [Double] = []
    private(set) var targets: [Double] = []
    /// Multiclass only: class probabilities (flattened, `classes` per sample), for calibration.
    private(set) var probabilities: [Double] = []
    private(set) var lossSum = 0.0
    private(set) var lossCount = 0

    public init(task: HydraTask) { self.task = task }

    /// Adds a batch: `output` B×outputs, `target` and `mask` as for the loss.
    public func add(output: Tensor, target: Tensor, mask: Tensor) {
        let rows = mask.nonzero().reshaped([-1])
        guard rows.count > 0 else { return }
        let out = output.detached().indexSelect(dim: 0, index: rows).to(device: .cpu)
        let y = target.detached().indexSelect(dim: 0, index: rows).to(device: .cpu)
        switch task.kind {
        case .regression:
            let p = out.reshaped([-1]).to(dtype: .float64)
            predictions += (task.standardize ? p * task.targetStd + task.targetMean : p).scalars(as: Double.self)
            targets += y.to(dtype: .float64).scalars(as: Double.self)
        case .binary, .multilabel:
            predictions += out.sigmoid().to(dtype: .float64).reshaped([-1]).scalars(as: Double.self)
            targets += y.to(dtype: .float64).reshaped([-1]).scalars(as: Double.self)
        case .multiclass:
            predictions += out.argmax(dim: 1).to(dtype: .float64).scalars(as: Double.self)
            probabilities += out.to(dtype: .float64).softmax(dim: 1).scalars(as: Double.self)
            targets += y.to(dtype: .float64).scalars(as: Double.self)
        }
    }

    /// Adds a batch loss value weighted by its number of labelled samples.
    public func addLoss(_ value: Double, count: Int) {
        guard count > 0 else { return }
        lossSum += value * Double(count)
        lossCount += count
    }

    /// The mean loss over the labelled samples seen (nil if none).
    public var meanLoss: Double? { lossCount > 0 ? lossSum / Double(lossCount) : nil }

    /// Number of labelled samples seen.
    public var sampleCount: Int {
        if case let .multilabel(n) = task.kind { return targets.count / n }
        return targets.count
    }

    /// The task's metrics over everything added (empty if no labelled sample was seen).
    public func compute() -> [MetricValue] {
        guard !targets.isEmpty else { return [] }
        func metric(_ name: String, _ value: Double, higher: Bool) -> MetricValue {
            MetricValue(task: task.name, name: name, value: value, higherIsBetter: higher)
        }
        switch task.kind {
        case .regression:
            let errors = zip(predictions, targets).map { $0 - $1 }
            let mae = errors.map(Swift.abs).reduce(0, +) / Double(errors.count)
            let rmse = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
            return [metric("mae", mae, higher: false), metric("rmse", rmse, higher: false)]
        case .binary:
            let predicted = predictions.map { $0 >= 0.5 ? 1.0 : 0.0 }
            let accuracy = zip(predicted, targets).filter { $0 == $1 }.count
            return [metric("accuracy", Double(accuracy) / Double(targets.count), higher: true),
                    metric("f1", Self.f1(predicted: predicted, targets: targets), higher: true),
                    metric("auroc", Self.auroc(scores: predictions, targets: targets), higher: true)]
        case let .multiclass(n):
            let matrix = confusionMatrix(classes: n)
            let correct = (0..<n).reduce(0) { $0 + matrix[$1][$1] }
            var f1s: [Double] = []
            for c in 0..<n {
                let tp = Double(matrix[c][c])
                let fp = Double((0..<n).reduce(0) { $0 + matrix[$1][c] }) - tp
                let fn = Double(matrix[c].reduce(0, +)) - tp
                // Classes absent from both targets and predictions are left out of the mean.
                if tp + fp + fn > 0 { f1s.append(2 * tp / (2 * tp + fp + fn)) }
            }
            return [metric("accuracy", Double(correct) / Double(targets.count), higher: true),
                    metric("macro_f1", f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count), higher: true)]
        case let .multilabel(n):
            var values: [MetricValue] = []
            var f1s: [Double] = []
            for label in 0..<n {
                let p = stride(from: label, to: predictions.count, by: n).map { predictions[$0] >= 0.5 ? 1.0 : 0.0 }
                let t = stride(from: label, to: targets.count, by: n).map { targets[$0] }
                let f1 = Self.f1(predicted: p, targets: t)
                f1s.append(f1)
                values.append(metric("f1_\(task.className(label))", f1, higher: true))
            }
            return [metric("mean_f1", f1s.reduce(0, +) / Double(n), higher: true)] + values
        }
    }

    /// Multiclass confusion matrix: rows are true classes, columns predictions.
    public func confusionMatrix(classes n: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: n), count: n)
        for (p, t) in zip(predictions, targets) {
            let pi = Int(p), ti = Int(t)
            if (0..<n).contains(pi), (0..<n).contains(ti) { m[ti][pi] += 1 }
        }
        return m
    }

    /// F1 of the positive class (0 when there are no positives and no positive predictions).
    static func f1(predicted: [Double], targets: [Double]) -> Double {
        var tp = 0.0, fp = 0.0, fn = 0.0
        for (p, t) in zip(predicted, targets) {
            if p == 1 && t == 1 { tp += 1 } else if p == 1 { fp += 1 } else if t == 1 { fn += 1 }
        }
        return tp + fp + fn == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
    }

    /// Area under the ROC curve via the rank statistic (ties count ½); 0.5 if one class is
    /// absent.
    static func auroc(scores: [Double], targets: [Double]) -> Double {
        let positives = targets.filter { $0 == 1 }.count, negatives = targets.count - positives
        guard positives > 0, negatives > 0 else { return 0.5 }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            i = j + 1
        }
        let positiveRankSum = zip(ranks, targets).filter { $0.1 == 1 }.map(\.0).reduce(0, +)
        return (positiveRankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }
}
