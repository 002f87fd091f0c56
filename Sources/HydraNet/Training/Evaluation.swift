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
        let columns = try columns(for: loader.dataset.tasks)
        let accumulators = model.tasks.map { MetricAccumulator(task: $0) }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        try withNoGrad {
            for batch in loader.epoch(0) {
                let outputs = model.outputs(batch.images)
                for (t, task) in model.tasks.enumerated() {
                    let target = batch.labels[columns[t]], mask = batch.masks[columns[t]]
                    let n = mask.to(dtype: .int64).sum().itemInt()
                    guard n > 0 else { continue }
                    let loss = task.maskedLoss(output: outputs[t], target: target, mask: mask).item()
                    guard loss.isFinite else {
                        throw HydraError.invalidData("task '\(task.name)': the loss is not finite on batch \(batch.indices.prefix(4))…")
                    }
                    accumulators[t].addLoss(loss, count: n)
                    accumulators[t].add(output: outputs[t], target: target, mask: mask)
                }
            }
        }
        var losses: [String: Double] = [:], labelled: [String: Int] = [:]
        for a in accumulators {
            losses[a.task.name] = a.meanLoss
            labelled[a.task.name] = a.sampleCount
        }
        return EvaluationReport(losses: losses, metrics: accumulators.flatMap { $0.compute() }, labelled: labelled)
    }
}
