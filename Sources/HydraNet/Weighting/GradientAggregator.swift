import Torch

/// What a gradient-level method knows about the current step besides the gradients.
public struct AggregationContext: Sendable {
    /// For each row of the Jacobian, the index of its task among all of the model's tasks.
    /// Tasks with no labelled sample in the batch have no row: they drop out of this
    /// step's Gram matrix, and stateful methods keep their state for them unchanged.
    public var taskIndices: [Int]
    /// The present tasks' current (unweighted) losses, in row order.
    public var losses: [Double]
    /// Zero-based epoch and global step, for methods with warm-up or schedules.
    public var epoch: Int
    public var step: Int

    public init(taskIndices: [Int], losses: [Double], epoch: Int = 0, step: Int = 0) {
        self.taskIndices = taskIndices
        self.losses = losses
        self.epoch = epoch
        self.step = step
    }
}

/// The result of combining per-task gradients.
public struct Aggregation {
    /// The combined update direction (length P, same dtype/device as the Jacobian).
    public var update: Tensor
    /// Task weights w with update = Σ wᵢ gᵢ, for methods whose update is such a
    /// combination (nil for e.g. GradDrop). Used for logs and reports.
    public var weights: [Double]?

    public init(update: Tensor, weights: [Double]?) {
        self.update = update
        self.weights = weights
    }
}

/// A gradient-level multi-task method: combines the T per-task gradients of the shared
/// part (rows of a T×P Jacobian) into one update.
///
/// The same aggregator serves every gradient source: rows are gradients w.r.t. all shared
/// parameters (exact mode) or w.r.t. the shared representation, flattened (features mode).
/// Implementations that only need the Gram matrix G = JJᵀ compute it once and solve the
/// small T×T problem in Swift (no Python, no external solver at run time).
public protocol GradientAggregator: AnyObject {
    /// A short identifier, e.g. `upgrad`.
    var name: String { get }
    /// Combines the rows of `jacobian` (T×P, T ≥ 1).
    func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation
    /// State to save in checkpoints (e.g. Nash-MTL's α, GradVac's EMA targets).
    func stateDict() -> [String: Tensor]
    /// Restores state from ``stateDict()``.
    func loadStateDict(_ state: [String: Tensor]) throws
}

extension GradientAggregator {
    public func stateDict() -> [String: Tensor] { [:] }
    public func loadStateDict(_ state: [String: Tensor]) throws {}
}
