import Torch

/// CR-MOGM weight smoothing (Zhou et al., "On the Convergence of Stochastic Multi-Objective
/// Gradient Manipulation and Beyond", NeurIPS 2022; torchjd's `CRMOGMWeighting`): wraps a
/// weighting aggregator and replaces its weights λ̂ₖ by their moving average
/// λₖ = α·λₖ₋₁ + (1 − α)·λ̂ₖ, then returns d = Jᵀλₖ. λ₀ = λ̂₁ (the first output is the wrapped
/// method's own), so α = 0 disables the smoothing and α = 1 freezes the first weights.
///
/// Choices as in torchjd: α = 0.9 (the paper's Corollary 1 suggests raising α towards 1 as the
/// learning rate decays: set ``alpha`` between steps, e.g. 1 − lr/lr₀). The wrapped aggregator
/// must report weights (e.g. MGDA, UPGrad, CAGrad — not GradDrop or TrimmedMean). The average
/// is kept **per task id** (a task seen for the first time starts from its own λ̂; absent
/// tasks keep theirs); the wrapped aggregator's state is saved under `inner.`.
public final class CRMOGMAggregator: GradientAggregator {
    public var name: String { "cr-mogm(\(inner.name))" }
    public let inner: any GradientAggregator
    public var alpha: Double
    public private(set) var averages: [Int: Double] = [:]

    public init(wrapping inner: any GradientAggregator, alpha: Double = 0.9) {
        precondition((0...1).contains(alpha), "CRMOGMAggregator: alpha must be in [0, 1]")
        self.inner = inner
        self.alpha = alpha
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: "cr-mogm")
        let raw = inner.aggregate(jacobian, context: context)
        guard let weights = raw.weights else {
            preconditionFailure("CRMOGMAggregator: \(inner.name) reports no weights, so it cannot be smoothed")
        }
        let smoothed = input.taskIds.enumerated().map { k, id -> Double in
            let previous = averages[id] ?? weights[k]
            let value = alpha * previous + (1 - alpha) * weights[k]
            averages[id] = value
            return value
        }
        return input.aggregation(smoothed)
    }

    /// Forgets the averages (and the wrapped aggregator's state is left as it is).
    public func reset() { averages = [:] }

    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        AggregatorState.put(averages, "averages", into: &d)
        for (k, v) in inner.stateDict() { d["inner.\(k)"] = v }
        return d
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        averages = try AggregatorState.get(state, "averages") ?? [:]
        var innerState: [String: Tensor] = [:]
        for (k, v) in state where k.hasPrefix("inner.") { innerState[String(k.dropFirst("inner.".count))] = v }
        try inner.loadStateDict(innerState)
    }
}
