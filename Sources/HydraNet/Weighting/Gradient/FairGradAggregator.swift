import Torch

/// FairGrad (Ban & Ji, "Fair Resource Allocation in Multi-Task Learning", ICML 2024,
/// Equation 4 and Algorithm 1; torchjd's `FairGrad`): α-fair task weights, the w ≥ 0 that
/// solve Gw = w^(−1/α); update d = Jᵀw. α = 0 is linear scalarisation (w = 1/T); α = 1 has
/// the same fixed point as Nash-MTL (without its normalisation and clipping).
///
/// Choices: α = 1 (LibMTL's default and the known answer). The official code and
/// torchjd run scipy's `least_squares` on Gw − w^(−1/α) from w = 1/T; we minimise the convex
/// ½wᵀGw − Σ h(wᵢ) with h′(w) = w^(−1/α) (whose stationarity condition is exactly that
/// system) by damped Newton to a relative residual of 1e-12. Zero gradients are left out
/// (weight 0: the system has no solution for them, and their weight cannot change the
/// update), and a relative ridge (Gᵢᵢ += 1e-10·Gᵢᵢ) keeps the problem solvable for singular G
/// (e.g. opposite gradients, for which the exact system has no solution).
public final class FairGradAggregator: GradientAggregator {
    public let name = "fairgrad"
    public var alpha: Double
    public var ridge: Double

    public init(alpha: Double = 1, ridge: Double = 1e-10) {
        precondition(alpha >= 0 && ridge >= 0, "FairGradAggregator: alpha and ridge must be non-negative")
        self.alpha = alpha
        self.ridge = ridge
    }

    /// The FairGrad weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        let t = g.count
        guard t > 0 else { return [] }
        if alpha == 0 { return [Double](repeating: 1 / Double(t), count: t) }
        let norm = SmallLinalg.frobenius(g)
        guard norm > 0, norm.isFinite else { return SmallLinalg.zeros(t) }
        let maxDiagonal = SmallLinalg.diagonal(g).max()!
        let live = (0..<t).filter { g[$0][$0] > 1e-24 * maxDiagonal }
        var q = live.map { i in live.map { j in g[i][j] } }
        for (k, i) in live.enumerated() { q[k][k] += ridge * g[i][i] }
        let (x, _) = SmallQP.powerFixedPoint(q, p: 1 / alpha)
        var w = SmallLinalg.zeros(t)
        for (k, i) in live.enumerated() { w[i] = x[k] }
        return w
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }
}
