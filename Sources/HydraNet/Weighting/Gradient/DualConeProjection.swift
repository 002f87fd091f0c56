import Torch

/// The projection onto the dual cone of the task gradients, in weight space (Quinton &
/// Rey, "Jacobian Descent for Multi-Objective Optimization", 2024, Proposition 1): for a
/// vector Jᵀu, its projection onto {x : Jx ≥ 0} is Jᵀv with v = argmin_v vᵀGv s.t. v ≥ u.
///
/// As in torchjd, G is first normalised by its trace and regularised:
/// G' = G/tr(G) + ε·I with ε = `regularization` = 1e-4 (making G' positive definite, so the
/// QP has one solution even for linearly dependent gradients). The QP is solved exactly by
/// ``SmallQP/boxQP(_:_:lower:total:)`` (torchjd uses quadprog; both are exact).
///
/// Deviation: torchjd replaces G by zeros when tr(G) < 1e-4 — so that UPGrad and DualProj
/// silently become the plain mean for small gradients (‖J‖²_F < 1e-4, common late in
/// training or with feature gradients). The projection is scale-invariant, so we only do
/// that for tr(G) ≤ `normEpsilon` = 0 (an all-zero Jacobian); set `normEpsilon` to 1e-4 to
/// reproduce torchjd exactly.
struct DualConeProjector {
    var normEpsilon: Double
    var regularization: Double

    func regularized(_ g: [[Double]]) -> [[Double]] {
        var q = SmallLinalg.traceNormalized(g, epsilon: normEpsilon)
        for i in q.indices { q[i][i] += regularization }
        return q
    }

    /// v = argmin vᵀG'v s.t. v ≥ u.
    func project(_ u: [Double], _ regularizedGram: [[Double]]) -> [Double] {
        SmallQP.boxQP(regularizedGram, SmallLinalg.zeros(u.count), lower: u)
    }
}

/// The preference vector u of the present tasks: `preference[taskId]` when given, else 1/T.
func preferenceWeights(_ preference: [Double]?, _ taskIds: [Int], method: String, default value: Double) -> [Double] {
    guard let preference else { return [Double](repeating: value, count: taskIds.count) }
    return taskIds.map { id in
        precondition(id < preference.count, "\(method): no preference for task \(id) (\(preference.count) given)")
        return preference[id]
    }
}

/// UPGrad, "unconflicting projection of gradients" (Quinton & Rey, "Jacobian Descent for
/// Multi-Objective Optimization", 2024; torchjd's `UPGrad`): each task gradient, scaled by
/// its preference uᵢ (1/T by default), is projected onto the dual cone of all task gradients
/// (the directions that conflict with none of them), and the projections are summed:
/// w = Σᵢ vⁱ with vⁱ = argmin_v vᵀG'v s.t. v ≥ uᵢeᵢ; update d = Jᵀw.
///
/// Choices as in torchjd: G' = G/tr(G) + 1e-4·I, exact QP solves (T of them, one per task);
/// see ``DualConeProjector`` for the one deviation (the small-trace threshold).
/// `preference`, when given, is indexed by task id.
public final class UPGradAggregator: GradientAggregator {
    public let name = "upgrad"
    public var preference: [Double]?
    public var normEpsilon: Double
    public var regularization: Double

    public init(preference: [Double]? = nil, normEpsilon: Double = 0, regularization: Double = 1e-4) {
        precondition(normEpsilon >= 0 && regularization >= 0, "UPGradAggregator: epsilons must be non-negative")
        self.preference = preference
        self.normEpsilon = normEpsilon
        self.regularization = regularization
    }

    /// The UPGrad weights for a Gram matrix and preference vector u.
    public func weights(gram g: [[Double]], preference u: [Double]) -> [Double] {
        let projector = DualConeProjector(normEpsilon: normEpsilon, regularization: regularization)
        let q = projector.regularized(g)
        var w = SmallLinalg.zeros(g.count)
        for i in g.indices {
            var lower = SmallLinalg.zeros(g.count)
            lower[i] = u[i]
            let v = projector.project(lower, q)
            for k in w.indices { w[k] += v[k] }
        }
        return w
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let u = preferenceWeights(preference, input.taskIds, method: name, default: 1 / Double(max(input.count, 1)))
        return input.aggregation(weights(gram: input.gram(), preference: u))
    }
}
