import Foundation
import HydraData

/// One training step as a run reports it to observers (``ExperimentRun/onStep``): where the
/// run stands, the step's result, and the epoch's running means so far.
public struct TrainingStepEvent: Sendable {
    /// The epoch under way (1-based) of `epochs`.
    public var epoch: Int
    public var epochs: Int
    /// The step of the epoch (1-based) of `steps`.
    public var step: Int
    public var steps: Int
    /// Optimizer steps of the whole run so far (this one included).
    public var globalStep: Int
    public var result: StepResult
    /// The task names, in the order of `result`'s arrays.
    public var tasks: [String]
    /// The epoch's running mean loss and weight per task (steps seen so far).
    public var runningLosses: [String: Double]
    public var runningWeights: [String: Double]
    /// Steps skipped in the epoch so far (non-finite loss or gradient).
    public var skippedSteps: Int
    /// Training images per second in this epoch (since the epoch, or the resume, began) and
    /// the estimated seconds left in the epoch.
    public var imagesPerSecond: Double
    public var secondsLeft: Double
    /// The learning rate of the first parameter group (the backbone's) after the step.
    public var learningRate: Double
}

/// Shows training progress: on a terminal (``ProgressMode``), a bar per epoch redrawn in
/// place (step/total, ETA, images per second, running per-task loss, current task weights),
/// erased before the epoch's summary line; otherwise, with `logEvery` > 0, a plain line every
/// `logEvery` steps through `log`.
public final class TrainingProgress {
    public let mode: ProgressMode
    public let logEvery: Int
    private let log: (String) -> Void
    private var bar: ProgressBar?
    private var barEpoch = 0

    public init(mode: ProgressMode = .auto, logEvery: Int = 0, log: @escaping (String) -> Void) {
        self.mode = mode
        self.logEvery = logEvery
        self.log = log
    }

    /// The text after the bar (and in a plain line): rate, running losses, weights, skips.
    public static func detail(_ e: TrainingStepEvent) -> String {
        var parts = [String(format: "%.0f img/s", e.imagesPerSecond)]
        let losses = e.tasks.compactMap { t in e.runningLosses[t].map { String(format: "%@ %.3f", t, $0) } }
        if !losses.isEmpty { parts.append("loss " + losses.joined(separator: " ")) }
        let weights = e.result.weights.compactMap { $0.map { String(format: "%.2f", $0) } }
        if !weights.isEmpty { parts.append("w " + weights.joined(separator: "/")) }
        if e.skippedSteps > 0 { parts.append("skipped \(e.skippedSteps)") }
        return parts.joined(separator: " | ")
    }

    /// Shows one step.
    public func step(_ e: TrainingStepEvent) {
        if mode.isActive {
            if bar == nil || barEpoch != e.epoch {
                bar?.clear()
                bar = ProgressBar("epoch \(e.epoch)/\(e.epochs)", total: e.steps, mode: mode, initial: e.step - 1,
                                  showsRate: false)
                barEpoch = e.epoch
            }
            bar?.advance(by: 1, detail: TrainingProgress.detail(e))
        } else if logEvery > 0, e.step % logEvery == 0 {
            log("epoch \(e.epoch)/\(e.epochs) step \(e.step)/\(e.steps) | " + TrainingProgress.detail(e)
                + String(format: " | ETA %.0fs", e.secondsLeft))
        }
    }

    /// Erases the bar (before the epoch's summary line, or an error message).
    public func clear() {
        bar?.clear()
        bar = nil
    }
}
