import Torch

/// Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022,
/// Algorithm 1; torchjd's `NashMTL`): the Nash bargaining solution d = Jᵀα with α > 0 solving
/// (Gα)ᵢ = 1/αᵢ for every task, G normalised by its Frobenius norm (as the official code and
/// torchjd do), followed by gradient clipping: when ‖Jᵀα‖ > `maxNorm` (1, the official
/// trainers' clip), α is scaled so that ‖Jᵀα‖ = `maxNorm` (torchjd's rule; 0 disables it).
///
/// Solver: (Gα)ᵢ = 1/αᵢ is the stationarity condition of the strictly convex
/// ½αᵀGα − Σ log αᵢ, minimised here by damped Newton to a relative residual of 1e-12 (the
/// official code runs up to 20 ECOS-solved convex-concave iterations and stops at a
/// residual of 1e-3). Robustness: zero gradients are left out of the problem (weight 0), and a
/// ridge of 1e-8·I is added to the normalised G so that a solution exists for singular G
/// too (e.g. opposite gradients, where the exact problem has none and the ridge's solution
/// has a zero update).
///
/// State (by task id): the last α of each task, reused on the `updateWeightsEvery − 1` steps
/// between solves (a task seen for the first time forces a solve) and as the Newton start;
/// and the step counter.
public final class NashMTLAggregator: GradientAggregator {
    public let name = "nash-mtl"
    public var maxNorm: Double
    public var updateWeightsEvery: Int
    public var ridge: Double
    public private(set) var alphas: [Int: Double] = [:]
    public private(set) var step = 0

    public init(maxNorm: Double = 1, updateWeightsEvery: Int = 1, ridge: Double = 1e-8) {
        precondition(maxNorm >= 0 && updateWeightsEvery > 0 && ridge >= 0,
                     "NashMTLAggregator: maxNorm ≥ 0, updateWeightsEvery > 0, ridge ≥ 0")
        self.maxNorm = maxNorm
        self.updateWeightsEvery = updateWeightsEvery
        self.ridge = ridge
    }

    /// The unclipped Nash weights for a Gram matrix (α of the Frobenius-normalised problem).
    public func solve(gram g: [[Double]], start: [Double]? = nil) -> [Double] {
        let t = g.count
        let norm = SmallLinalg.frobenius(g)
        guard t > 0, norm > 0, norm.isFinite else { return [Double](repeating: 1, count: t) }
        let maxDiagonal = SmallLinalg.diagonal(g).max()!
        let live = (0..<t).filter { g[$0][$0] > 1e-24 * maxDiagonal }
        var q = live.map { i in live.map { j in g[i][j] / norm } }
        for k in q.indices { q[k][k] += ridge }
        let warm = start.map { s in live.map { s[$0] } }
        let (x, _) = SmallQP.powerFixedPoint(q, p: 1, start: warm)
        var alpha = SmallLinalg.zeros(t)
        for (k, i) in live.enumerated() { alpha[i] = x[k] }
        return alpha
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let g = input.gram()
        let ids = input.taskIds
        var alpha: [Double]
        if step % updateWeightsEvery == 0 || ids.contains(where: { alphas[$0] == nil }) {
            let start = ids.allSatisfy({ (alphas[$0] ?? 0) > 0 }) ? ids.map { alphas[$0]! } : nil
            alpha = solve(gram: g, start: start)
            for (k, id) in ids.enumerated() {
                if alpha[k] > 0 { alphas[id] = alpha[k] } else if alphas[id] == nil { alphas[id] = 1 }
            }
        } else {
            alpha = ids.map { alphas[$0]! }
        }
        step += 1
        if maxNorm > 0 {
            let norm = max(SmallLinalg.quadratic(g, alpha), 0).squareRoot()
            if norm > maxNorm { alpha = alpha.map { $0 / norm * maxNorm } }
        }
        return input.aggregation(alpha)
    }

    /// Forgets α and the step counter.
    public func reset() {
        alphas = [:]
        step = 0
    }

    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = ["step": Tensor(scalar: Int64(step))]
        AggregatorState.put(alphas, "alpha", into: &d)
        return d
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let a = try AggregatorState.get(state, "alpha") { alphas = a }
        if let s = try AggregatorState.scalar(state, "step") { step = Int(s) }
    }
}
