import Foundation
import HydraData
import Torch

/// Losses and metrics of a model on a dataset split.
public struct EvaluationReport: Sendable, Codable {
    /// Mean loss per task over its labelled samples.
    public var losses: [String: Double]
    /// All metrics of all tasks.
    public var metrics: [MetricValue]
    /// Labelled samples per task.
    public var labelled: [String: Int]

    /// The value of `task/metric`, if present.
    public subscript(key: String) -> Double? { metrics.first { $0.key == key }?.value }
}

extension Trainer {
    /// Evaluates the model (eval mode, no gradients) on every batch of `loader`.
    public func evaluate(_ loader: DataLoader) throws -> EvaluationReport {
        try evaluateInDetail(loader).report
    }

    /// ``evaluate(_:)`` and, from the same pass, every task's details (confusion matrix,
    /// per-class scores, error by decade, calibration) for the tasks with labelled samples.
    public func evaluateInDetail(_ loader: DataLoader) throws -> (report: EvaluationReport, details: [TaskEvaluation]) {
        let columns = try columns(for: loader.dataset.tasks)
        let accumulators = model.tasks.map { MetricAccumulator(task: $0) }
        try model.score(loader, columns: columns, into: accumulators)
        var losses: [String: Double] = [:], labelled: [String: Int] = [:]
        for a in accumulators {
            losses[a.task.name] = a.meanLoss
            labelled[a.task.name] = a.sampleCount
        }
        let report = EvaluationReport(losses: losses, metrics: accumulators.flatMap { $0.compute() }, labelled: labelled)
        return (report, accumulators.filter { $0.sampleCount > 0 }.map { $0.details() })
    }
}

extension HydraNetModel {
    /// Runs the model over every batch of `loader` (eval mode, no gradients; a model in
    /// training mode returns to it after, its frozen parts staying in eval mode), adding each task's labelled outputs and mean loss to its accumulator
    /// (`columns[t]`: the batch label column of task `t`, nil when the data has none).
    /// `onOutputs` sees each batch with the heads' outputs. A non-finite loss throws.
    public func score(_ loader: DataLoader, columns: [Int?], into accumulators: [MetricAccumulator],
                      onOutputs: ((Batch, [Tensor]) -> Void)? = nil) throws {
        precondition(columns.count == tasks.count && accumulators.count == tasks.count, "one column and accumulator per task")
        let wasTraining = isTraining
        eval()
        defer { if wasTraining { enterTrainingMode() } }
        try withNoGrad {
            for batch in loader.epoch(0) {
                let outputs = self.outputs(batch.images)
                for (t, task) in tasks.enumerated() {
                    guard let column = columns[t] else { continue }
                    let target = batch.labels[column], mask = batch.masks[column]
                    let n = mask.to(dtype: .int64).sum().itemInt()
                    guard n > 0 else { continue }
                    let loss = task.maskedLoss(output: outputs[t], target: target, mask: mask).item()
                    guard loss.isFinite else {
                        throw HydraError.invalidData("task '\(task.name)': the loss is not finite on rows \(batch.indices.prefix(4))…")
                    }
                    accumulators[t].addLoss(loss, count: n)
                    accumulators[t].add(output: outputs[t], target: target, mask: mask)
                }
                onOutputs?(batch, outputs)
            }
        }
    }
}
