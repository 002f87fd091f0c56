import Torch

/// DualProj: the preference-weighted mean of the task gradients projected onto the dual
/// cone of the task gradients — the solution of Equation 11 of Lopez-Paz & Ranzato,
/// "Gradient Episodic Memory for Continual Learning" (NeurIPS 2017), as torchjd's
/// `DualProj`: w = argmin_v vᵀG'v s.t. v ≥ u (u = 1/T by default), update d = Jᵀw.
///
/// Same regularisation and exact QP as ``UPGradAggregator`` (G' = G/tr(G) + 1e-4·I; see
/// ``DualConeProjector`` for the small-trace deviation). `preference` is indexed by task id.
public final class DualProjAggregator: GradientAggregator {
    public let name = "dualproj"
    public var preference: [Double]?
    public var normEpsilon: Double
    public var regularization: Double

    public init(preference: [Double]? = nil, normEpsilon: Double = 0, regularization: Double = 1e-4) {
        precondition(normEpsilon >= 0 && regularization >= 0, "DualProjAggregator: epsilons must be non-negative")
        self.preference = preference
        self.normEpsilon = normEpsilon
        self.regularization = regularization
    }

    /// The DualProj weights for a Gram matrix and preference vector u.
    public func weights(gram g: [[Double]], preference u: [Double]) -> [Double] {
        let projector = DualConeProjector(normEpsilon: normEpsilon, regularization: regularization)
        return projector.project(u, projector.regularized(g))
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let u = preferenceWeights(preference, input.taskIds, method: name, default: 1 / Double(max(input.count, 1)))
        return input.aggregation(weights(gram: input.gram(), preference: u))
    }
}
