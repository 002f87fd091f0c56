import Foundation

/// A request to stop training, safe to set from any thread (a signal handler's queue, a UI):
/// the ``Trainer`` checks it between steps, so the step under way finishes first.
///
/// ```swift
/// let stop = StopRequest()
/// trainer.stopRequest = stop
/// // elsewhere: stop.request()
/// ```
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    /// Asks the trainer to stop after the current step.
    public func request() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    public var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }

    /// Withdraws the request (e.g. before training again).
    public func reset() {
        lock.lock()
        requested = false
        lock.unlock()
    }
}

/// Thrown by ``Trainer/fit(train:validation:baseline:onStep:onEpoch:)`` (and
/// ``Trainer/trainEpoch(_:onStep:)``) when a ``StopRequest`` was seen between steps. The
/// trainer's state is consistent at that point: ``Trainer/saveTrainingState(to:)`` saves it
/// (with the position inside the epoch), and a trainer that loads it continues exactly where
/// this one stopped.
public struct TrainingInterrupted: Error, CustomStringConvertible, Sendable {
    /// The epoch under way (1-based) and the steps of it already done.
    public var epoch: Int
    public var stepsDone: Int
    public var stepsPerEpoch: Int
    public var globalStep: Int
    /// The training state saved at the stop (set by ``ExperimentRun``).
    public var statePath: String?

    public var description: String {
        "training interrupted in epoch \(epoch) after step \(stepsDone)/\(stepsPerEpoch) (global step \(globalStep))"
            + (statePath.map { "; the training state is saved in \($0): continue with the same flags and --resume \($0)" } ?? "")
    }
}

/// What to do when a step's loss or gradient is not finite (NaN or ±∞).
public enum NonFinitePolicy: String, Sendable, Codable, CaseIterable {
    /// Stop training with a ``NonFiniteError`` (nothing of the step is applied).
    case stop
    /// Skip the step: no optimizer update, BatchNorm statistics restored; the step is counted
    /// (``EpochReport/skippedSteps``) and training goes on.
    case skip
}

/// A step whose loss or gradient was not finite.
public struct NonFiniteValue: Error, Sendable, CustomStringConvertible {
    public enum Quantity: String, Sendable { case loss, gradient }
    /// The task whose loss or gradient it was; nil for the gradient of the combined loss of
    /// a loss-level weighting (which mixes every task).
    public var task: String?
    public var quantity: Quantity
    /// The offending value (for a gradient: its norm).
    public var value: Double

    public var description: String {
        switch (quantity, task) {
        case let (.loss, task?): "task '\(task)': the training loss became \(value)"
        case let (.gradient, task?): "task '\(task)': the gradient became non-finite (norm \(value))"
        case (_, nil): "the gradient of the weighted loss became non-finite (norm \(value))"
        }
    }
}

/// Training stopped on a non-finite loss or gradient (``NonFinitePolicy/stop``). Nothing of
/// the offending step was applied; checkpoints already written are kept as they were.
public struct NonFiniteError: Error, CustomStringConvertible, Sendable {
    public var value: NonFiniteValue
    /// The epoch (1-based) and its step (1-based) where it happened.
    public var epoch: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var globalStep: Int

    public var description: String {
        "\(value) in epoch \(epoch), step \(step)/\(stepsPerEpoch) (global step \(globalStep)): training stopped; "
            + "lower the learning rate or check the labels, or skip such steps (--on-nonfinite skip)"
    }
}

/// The part of an epoch already trained: its position and its running sums (saved in the
/// training state, so a run interrupted inside an epoch resumes exactly there).
public struct EpochProgress: Sendable, Equatable {
    /// Steps of the epoch done (skipped ones included).
    public var stepsDone = 0
    /// Steps skipped for a non-finite loss or gradient.
    public var skipped = 0
    /// The epoch's number of steps (0 until training starts it): a state stopped inside an
    /// epoch resumes only into an epoch of as many steps (the same data and batch size).
    public var stepsPerEpoch = 0
    /// Per task: sum of (loss × labelled samples), labelled samples, sum of weights, steps with a weight.
    public var lossSums: [Double]
    public var lossCounts: [Int]
    public var weightSums: [Double]
    public var weightCounts: [Int]

    public init(taskCount: Int) {
        lossSums = Array(repeating: 0, count: taskCount)
        lossCounts = Array(repeating: 0, count: taskCount)
        weightSums = Array(repeating: 0, count: taskCount)
        weightCounts = Array(repeating: 0, count: taskCount)
    }

    /// Running per-task mean losses (nil for tasks without labels so far).
    public var meanLosses: [Double?] {
        lossSums.indices.map { lossCounts[$0] > 0 ? lossSums[$0] / Double(lossCounts[$0]) : nil }
    }

    public var meanWeights: [Double?] {
        weightSums.indices.map { weightCounts[$0] > 0 ? weightSums[$0] / Double(weightCounts[$0]) : nil }
    }
}
