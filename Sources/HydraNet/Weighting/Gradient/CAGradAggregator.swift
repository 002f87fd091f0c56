import Torch

/// CAGrad, "conflict-averse gradient descent" (Liu et al., "Conflict-Averse Gradient Descent
/// for Multi-task Learning", NeurIPS 2021, Algorithm 1): the update maximises the worst
/// task's improvement within a ball around the average gradient g₀,
/// max_d minᵢ gᵢᵀd s.t. ‖d − g₀‖ ≤ c‖g₀‖. Its dual: w* = argmin_{w∈Δ} g_wᵀg₀ + c‖g₀‖‖g_w‖
/// (g_w = Jᵀw), and d = g₀ + (c‖g₀‖/‖g_w*‖) g_w*.
///
/// Choices: c = 0.5 (the paper's and LibMTL's default; the known answer). As in
/// torchjd, the problem is solved on the trace-normalised Gram matrix and d is returned
/// without LibMTL's 1/(1+c²) rescaling (`rescale: true` applies it); when ‖g_w*‖ < 1e-4 (in
/// normalised units: the gradients are nearly Pareto-stationary) the weights are zero, as in
/// torchjd. The dual is solved exactly in Swift (``SmallQP/cagrad(_:c:)``) instead of with
/// scipy (LibMTL) or Clarabel (torchjd).
///
/// Deviation: torchjd zeroes G (and so the update) when tr(G) < 1e-4; the method is
/// scale-invariant, so we only do that for tr(G) ≤ `traceEpsilon` = 0. Set it to 1e-4 to
/// reproduce torchjd for tiny gradients.
public final class CAGradAggregator: GradientAggregator {
    public let name = "cagrad"
    public var c: Double
    public var rescale: Bool
    public var normEpsilon: Double
    public var traceEpsilon: Double

    public init(c: Double = 0.5, rescale: Bool = false, normEpsilon: Double = 1e-4, traceEpsilon: Double = 0) {
        precondition(c >= 0 && normEpsilon >= 0 && traceEpsilon >= 0, "CAGradAggregator: c and epsilons must be non-negative")
        self.c = c
        self.rescale = rescale
        self.normEpsilon = normEpsilon
        self.traceEpsilon = traceEpsilon
    }

    /// The CAGrad weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        let t = g.count
        guard t > 0 else { return [] }
        let normalized = SmallLinalg.traceNormalized(g, epsilon: traceEpsilon)
        let (w, gwNorm, phi) = SmallQP.cagrad(normalized, c: c)
        guard gwNorm >= normEpsilon else { return SmallLinalg.zeros(t) }
        let scale = rescale ? 1 / (1 + c * c) : 1
        return (0..<t).map { (1 / Double(t) + phi / gwNorm * w[$0]) * scale }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }
}
