import Torch

/// What one training step did, for logs.
public struct StepResult: Sendable {
    /// Each task's masked mean loss (nil when the batch had none of its labels).
    public var losses: [Double?]
    /// Each task's effective weight in the update (nil when absent or not defined).
    public var weights: [Double?]
    /// Pairwise cosines of the per-task gradients (gradient methods; present tasks only,
    /// indexed by task, nil entries for absent tasks).
    public var cosines: [[Double?]]?
    /// The condition number of the Gram matrix of the present tasks' gradients.
    public var gramCondition: Double?
    /// Number of labelled samples per task in the batch.
    public var labelled: [Int]
    /// The step's loss or gradient was not finite and the step was skipped
    /// (``NonFinitePolicy/skip``): nothing was applied, `losses` and `weights` are nil.
    public var skipped: NonFiniteValue? = nil
}
