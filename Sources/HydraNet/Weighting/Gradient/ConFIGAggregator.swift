import Torch

/// ConFIG, "conflict-free" updates (Liu et al., "ConFIG: Towards Conflict-free Training of
/// Physics Informed Neural Networks", ICLR 2025, Equation 2; torchjd's `ConFIG`): with the
/// unit gradients uᵢ = gᵢ/‖gᵢ‖ (0 for a zero gradient), the direction is
/// d̂ = normalise(pinv(U)·p) — the vector with equal (preference-weighted) cosine to every
/// task — and its length is Σᵢ gᵢᵀd̂: d = (Σᵢ gᵢᵀd̂)·d̂.
///
/// Written on the Gram matrix: pinv(U)·p = Uᵀ·(UUᵀ)⁺p, so d is a combination of the rows
/// and its weights are reported. Choices as in torchjd: p = 1 (the Sum preference; by task
/// id when given), normalise divides by max(‖·‖, 1e-12). Deviation: torch's pinv of U cuts
/// singular values at max(T, P)·ε·σ_max; on the Gram matrix we cut eigenvalues of UUᵀ at
/// T·ε·λ_max (its own rounding level), which differs only for nearly dependent gradients.
public final class ConFIGAggregator: GradientAggregator {
    public let name = "config"
    public var preference: [Double]?

    public init(preference: [Double]? = nil) { self.preference = preference }

    /// The ConFIG weights for a Gram matrix and preference p.
    public func weights(gram g: [[Double]], preference p: [Double]) -> [Double] {
        let t = g.count
        let norms = SmallLinalg.diagonal(g).map { max($0, 0).squareRoot() }
        let inv = norms.map { $0 > 0 ? 1 / $0 : 0 }
        let cos = (0..<t).map { i in (0..<t).map { j in g[i][j] * inv[i] * inv[j] } }
        let y = SmallLinalg.matvec(SmallLinalg.symmetricPinv(cos), p)
        let bestNorm = max(SmallLinalg.quadratic(cos, y), 0).squareRoot()
        let divisor = max(bestNorm, 1e-12)
        let scaled = (0..<t).map { y[$0] * inv[$0] }         // D⁻¹y: best direction = Jᵀ·scaled
        let length = SmallLinalg.matvec(g, scaled).reduce(0, +) / divisor
        return scaled.map { $0 * length / divisor }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let p = preferenceWeights(preference, input.taskIds, method: name, default: 1)
        return input.aggregation(weights(gram: input.gram(), preference: p))
    }
}
