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
    /// Steps skipped for a non-finite loss or gradient (``NonFinitePolicy/skip``).
    public var skippedSteps: Int? = nil
}

extension Trainer {
    /// Trains one epoch (the rest of it, for a trainer resumed inside an epoch); `onStep`
    /// sees every step's result with its 1-based step number and the epoch's step count.
    ///
    /// - Throws: ``TrainingInterrupted`` when ``stopRequest`` is set (checked before each
    ///   step; ``epochProgress`` then records where the epoch stands), ``NonFiniteError`` for
    ///   a non-finite loss or gradient under ``NonFinitePolicy/stop``.
    public func trainEpoch(_ loader: DataLoader, onStep: ((Int, Int, StepResult) -> Void)? = nil) throws
        -> (losses: [Double?], weights: [Double?]) {
        let columns = try columns(for: loader.dataset.tasks)
        model.enterTrainingMode()
        let taskCount = model.tasks.count
        let total = loader.batchCount
        if epochProgress.stepsDone > 0, epochProgress.stepsPerEpoch != total {
            throw HydraError.invalidConfiguration("the training state was stopped after step \(epochProgress.stepsDone) of "
                + "\(epochProgress.stepsPerEpoch) in epoch \(epoch + 1); this run's epochs have \(total) steps (other data "
                + "or batch size): resume with the settings it was started with")
        }
        if epochProgress.lossSums.count != taskCount || epochProgress.stepsDone > total {
            epochProgress = EpochProgress(taskCount: taskCount)
        }
        epochProgress.stepsPerEpoch = total
        for (i, batch) in zip(epochProgress.stepsDone..., loader.epoch(epoch, startingAt: epochProgress.stepsDone)) {
            if try anyRankStopping() {
                throw TrainingInterrupted(epoch: epoch + 1, stepsDone: i, stepsPerEpoch: total, globalStep: globalStep)
            }
            let r: StepResult
            do {
                r = try step(batch, columns: columns)
            } catch let value as NonFiniteValue {
                throw NonFiniteError(value: value, epoch: epoch + 1, step: i + 1, stepsPerEpoch: total, globalStep: globalStep + 1)
            }
            if r.skipped != nil { epochProgress.skipped += 1 }
            for t in 0..<taskCount {
                if let l = r.losses[t] {
                    epochProgress.lossSums[t] += l * Double(r.labelled[t])
                    epochProgress.lossCounts[t] += r.labelled[t]
                }
                if let w = r.weights[t] {
                    epochProgress.weightSums[t] += w
                    epochProgress.weightCounts[t] += 1
                }
            }
            epochProgress.stepsDone = i + 1
            onStep?(i + 1, total, r)
        }
        let means = epochProgress.meanLosses, weights = epochProgress.meanWeights
        if case let .loss(method) = weighting { method.epochEnded(meanTrainLosses: means) }
        lastEpochSkipped = epochProgress.skipped
        epochProgress = EpochProgress(taskCount: taskCount)
        epoch += 1
        return (means, weights)
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
                learningRate: optimizer.learningRates.first ?? 0, skippedSteps: lastEpochSkipped)
            if let validation {
                try synchronizeBuffers()
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
