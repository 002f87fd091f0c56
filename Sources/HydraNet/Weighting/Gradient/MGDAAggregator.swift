import Torch

/// MGDA, the multiple-gradient descent algorithm (Désidéri 2012), as cast for multi-task
/// learning by Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization"
/// (NeurIPS 2018): w* = argmin_{w∈Δ} ‖Σᵢ wᵢgᵢ‖² = argmin_{w∈Δ} wᵀGw, update d = Jᵀw*, the
/// min-norm element of the convex hull of the task gradients.
///
/// **MGDA-UB** (the paper's "upper bound" variant) is this same aggregator fed with the
/// gradients w.r.t. the shared representation instead of the shared parameters: run it with
/// the trainer's `features` gradient source. (Like torchjd, we keep the full per-sample
/// feature Jacobian rather than LibMTL's batch-summed one.)
///
/// Choices: the default solver is the paper's Frank–Wolfe (Algorithm 2) exactly as torchjd
/// runs it (start at 1/T, stop when the step γ < `epsilon` = 1e-3 or after 100 iterations),
/// so results match torchjd; `.exact` solves the simplex QP exactly with an active-set method
/// instead. No gradient normalisation (LibMTL's `mgda_gn` default is none as well).
public final class MGDAAggregator: GradientAggregator {
    public enum Solver: String, Sendable { case frankWolfe, exact }

    public let name = "mgda"
    public var solver: Solver
    public var epsilon: Double
    public var maxIterations: Int

    public init(solver: Solver = .frankWolfe, epsilon: Double = 1e-3, maxIterations: Int = 100) {
        precondition(epsilon > 0 && maxIterations > 0, "MGDAAggregator: epsilon and maxIterations must be positive")
        self.solver = solver
        self.epsilon = epsilon
        self.maxIterations = maxIterations
    }

    /// The MGDA weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        guard !g.isEmpty else { return [] }
        switch solver {
        case .frankWolfe: return SmallQP.frankWolfe(g, epsilon: epsilon, maxIterations: maxIterations)
        case .exact: return SmallQP.simplexQP(g, SmallLinalg.zeros(g.count))
        }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }
}
