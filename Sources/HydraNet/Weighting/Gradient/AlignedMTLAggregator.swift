import Torch

/// Aligned-MTL (Senushkin et al., "Independent Component Alignment for Multi-Task
/// Learning", CVPR 2023, Algorithm 1; torchjd's `AlignedMTL`): the task gradients are
/// aligned so that the condition number of their system becomes 1. With G = VΛVᵀ restricted
/// to its rank r (eigenvalues > λ_max·T·ε), B = √s·VΛ^(−1/2)Vᵀ and w = B·u, where u is the
/// preference vector (1/T by default, torchjd's convention; LibMTL uses 1) and s the scale.
///
/// `scaleMode` (the official code's three): `.min` — s = λ_min (the paper's default, every
/// singular value becomes σ_min); `.median` — the median eigenvalue (the lower middle one
/// for an even rank, as torch.median); `.rmse` — the mean eigenvalue. G of rank 0 (all
/// gradients zero) gives B = I. `preference` is indexed by task id. The eigen-decomposition
/// is Jacobi's method in float64 (torch.linalg.eigh in torchjd).
public final class AlignedMTLAggregator: GradientAggregator {
    public enum ScaleMode: String, Sendable, CaseIterable { case min, median, rmse }

    public let name = "aligned-mtl"
    public var scaleMode: ScaleMode
    public var preference: [Double]?

    public init(scaleMode: ScaleMode = .min, preference: [Double]? = nil) {
        self.scaleMode = scaleMode
        self.preference = preference
    }

    /// The Aligned-MTL weights for a Gram matrix and preference u.
    public func weights(gram g: [[Double]], preference u: [Double]) -> [Double] {
        let t = g.count
        guard t > 0 else { return [] }
        let (values, vectors) = SmallLinalg.symmetricEigen(g)
        let tol = (values.max() ?? 0) * Double(t) * Double.ulpOfOne
        let kept = (0..<t).filter { values[$0] > tol }.sorted { values[$0] > values[$1] }
        guard !kept.isEmpty else { return u }
        let lambdas = kept.map { values[$0] }
        let scale: Double
        switch scaleMode {
        case .min: scale = lambdas.last!
        case .median: scale = lambdas.sorted()[(lambdas.count - 1) / 2]
        case .rmse: scale = lambdas.reduce(0, +) / Double(lambdas.count)
        }
        let root = scale.squareRoot()
        var w = SmallLinalg.zeros(t)
        for k in kept {
            let vk = (0..<t).map { vectors[$0][k] }
            let coefficient = root / values[k].squareRoot() * SmallLinalg.dot(vk, u)
            for i in 0..<t { w[i] += coefficient * vk[i] }
        }
        return w
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let u = preferenceWeights(preference, input.taskIds, method: name, default: 1 / Double(max(input.count, 1)))
        return input.aggregation(weights(gram: input.gram(), preference: u))
    }
}
