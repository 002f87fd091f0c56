import Torch

/// IMTL-G, the gradient half of "Towards Impartial Multi-task Learning" (Liu et al., ICLR
/// 2021): the update has equal projections on every task's unit gradient. torchjd's
/// generalised closed form (Quinton & Rey 2024), which also covers linearly dependent
/// gradients: w = pinv(G)·√diag(G), normalised to sum to 1 (w = 0 when the sum is below
/// 1e-12); update d = Jᵀw.
///
/// Choices: pinv drops eigenvalues ≤ T·ε·λ_max (torch.linalg.pinv's default cut-off); the
/// loss-scale half of IMTL (IMTL-L) is not part of this aggregator.
public final class IMTLGAggregator: GradientAggregator {
    public let name = "imtl-g"
    public var rcond: Double?

    public init(rcond: Double? = nil) { self.rcond = rcond }

    /// The IMTL-G weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        let d = SmallLinalg.diagonal(g).map { max($0, 0).squareRoot() }
        let v = SmallLinalg.matvec(SmallLinalg.symmetricPinv(g, rtol: rcond), d)
        let sum = v.reduce(0, +)
        return abs(sum) < 1e-12 ? SmallLinalg.zeros(g.count) : v.map { $0 / sum }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }
}
