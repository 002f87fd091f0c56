import Torch

/// A loss-level multi-task method: combines the per-task losses into the one scalar that is
/// backpropagated (one backward per step).
public protocol LossWeighting: AnyObject {
    /// A short identifier, e.g. `dwa`.
    var name: String { get }
    /// Learnable tensors of the method (e.g. uncertainty weighting's log-variances). The
    /// trainer optimizes them with the model but without weight decay.
    var parameters: [Tensor] { get }
    /// The combined loss. `losses[i]` is task i's masked mean loss, or nil when no sample of
    /// the batch has task i's label (the task then contributes nothing).
    func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor
    /// The effective weight of each task in the last ``combine(_:epoch:step:)`` (∂L/∂Lᵢ),
    /// nil for absent tasks; for logs and reports.
    var lastWeights: [Double?] { get }
    /// Whether ``afterStep(lossesAfter:)`` needs the losses recomputed on the same batch
    /// after the optimizer step (FAMO: one extra no-grad forward).
    var needsLossesAfterStep: Bool { get }
    /// Called after the optimizer step, with the recomputed losses when requested.
    func afterStep(lossesAfter: [Double?])
    /// Called at the end of each training epoch with the epoch-mean training losses (DWA).
    func epochEnded(meanTrainLosses: [Double?])
    /// State for checkpoints (learnable values, histories, optimizer moments).
    func stateDict() -> [String: Tensor]
    func loadStateDict(_ state: [String: Tensor]) throws
}

extension LossWeighting {
    public var parameters: [Tensor] { [] }
    public var needsLossesAfterStep: Bool { false }
    public func afterStep(lossesAfter: [Double?]) {}
    public func epochEnded(meanTrainLosses: [Double?]) {}
    public func stateDict() -> [String: Tensor] { [:] }
    public func loadStateDict(_ state: [String: Tensor]) throws {}
}

/// Σ wᵢLᵢ over the present tasks (a zero scalar when none is present).
func weightedSum(_ losses: [Tensor?], _ weights: [Double]) -> Tensor {
    var total: Tensor?
    for (l, w) in zip(losses, weights) {
        guard let l else { continue }
        total = total.map { $0 + l * w } ?? l * w
    }
    return total ?? Tensor(Float(0))
}

/// A Double array saved as a float64 tensor (for checkpoint state).
func tensor(_ values: [Double]) -> Tensor { Tensor(values) }

/// Reads a float64 state tensor of exactly `count` values.
func doubles(_ state: [String: Tensor], _ key: String, count: Int) throws -> [Double]? {
    guard let t = state[key] else { return nil }
    let v = t.scalars(as: Double.self)
    guard v.count == count else {
        throw HydraError.checkpoint("weighting state '\(key)' has \(v.count) values, expected \(count)")
    }
    return v
}
