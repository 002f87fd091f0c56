import Foundation
import HydraData
import Torch

/// One epoch's results.
public struct EpochReport: Sendable, Codable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Epoch-mean training loss per task (over labelled samples).
    public var trainLosses: [String: Double]
    /// Epoch-mean task weight per task.
    public var weights: [String: Double]
    /// Validation results, when a validation loader was given.
    public var validation: EvaluationReport?
    /// Δm% against the baseline (lower is better) and LibMTL's Δp (higher is better).
    public var deltaM: Double?
    public var deltaP: Double?
    /// Whether this epoch is the best so far (selection on validation Δm).
    public var isBest: Bool
    public var seconds: Double
    /// The learning rate of the first parameter group (the backbone's) at the epoch's end.
    public var learningRate: Double
}

extension Trainer {
    /// Trains one epoch; `onStep` sees every step's result.
    public func trainEpoch(_ loader: DataLoader, onStep: ((Int, Int, StepResult) -> Void)? = nil) throws
        -> (losses: [Double?], weights: [Double?]) {
        let columns = try columns(for: loader.dataset.tasks)
        model.enterTrainingMode()
        let taskCount = model.tasks.count
        var lossSums = [Double](repeating: 0, count: taskCount), counts = [Int](repeating: 0, count: taskCount)
        var weightSums = [Double](repeating: 0, count: taskCount), weightCounts = [Int](repeating: 0, count: taskCount)
        let total = loader.batchCount
        for (i, batch) in loader.epoch(epoch).enumerated() {
            let r = try step(batch, columns: columns)
            for t in 0..<taskCount {
                if let l = r.losses[t] {
                    guard l.isFinite else {
                        throw HydraError.invalidData("task '\(model.tasks[t].name)': the training loss became \(l) at step "
                            + "\(globalStep); lower the learning rate or check the labels")
                    }
                    lossSums[t] += l * Double(r.labelled[t])
                    counts[t] += r.labelled[t]
                }
                if let w = r.weights[t] {
                    weightSums[t] += w
                    weightCounts[t] += 1
                }
            }
            onStep?(i + 1, total, r)
        }
        let means = (0..<taskCount).map { counts[$0] > 0 ? lossSums[$0] / Double(counts[$0]) : nil }
        if case let .loss(method) = weighting { method.epochEnded(meanTrainLosses: means) }
        epoch += 1
        return (means, (0..<taskCount).map { weightCounts[$0] > 0 ? weightSums[$0] / Double(weightCounts[$0]) : nil })
    }

    /// Trains for the configured epochs, evaluating on `validation` after each. With a
    /// `baseline` (task/metric → value, e.g. single-task results), reports Δm and selects
    /// the best epoch on validation Δm; without one, the first epoch's validation results
    /// serve as the baseline (as LibMTL does), so selection is on improvement over epoch 1.
    public func fit(train: DataLoader, validation: DataLoader? = nil, baseline: [String: Double]? = nil,
                    onStep: ((Int, Int, StepResult) -> Void)? = nil,
                    onEpoch: ((EpochReport) throws -> Void)? = nil) throws -> [EpochReport] {
        var reports: [EpochReport] = []
        // A resumed trainer continues with the reference and best Δm of the earlier epochs.
        if let baseline { deltaReference = baseline }
        while epoch < configuration.epochs {
            let start = Date()
            let (losses, weights) = try trainEpoch(train, onStep: onStep)
            var report = EpochReport(
                epoch: epoch,
                trainLosses: Dictionary(uniqueKeysWithValues: zip(model.tasks, losses).compactMap { t, l in l.map { (t.name, $0) } }),
                weights: Dictionary(uniqueKeysWithValues: zip(model.tasks, weights).compactMap { t, w in w.map { (t.name, $0) } }),
                validation: nil, deltaM: nil, deltaP: nil, isBest: false, seconds: 0,
                learningRate: optimizer.learningRates.first ?? 0)
            if let validation {
                let evaluation = try evaluate(validation)
                report.validation = evaluation
                if deltaReference == nil {
                    deltaReference = Dictionary(uniqueKeysWithValues: evaluation.metrics.map { ($0.key, $0.value) })
                }
                if let reference = deltaReference, let dm = try? DeltaM.percent(evaluation.metrics, baseline: reference) {
                    report.deltaM = dm
                    report.deltaP = try? DeltaM.libMTL(evaluation.metrics, baseline: reference)
                    if dm < (bestDeltaM ?? .infinity) {
                        bestDeltaM = dm
                        report.isBest = true
                    }
                }
            }
            report.seconds = Date().timeIntervalSince(start)
            reports.append(report)
            try onEpoch?(report)
        }
        return reports
    }
}
