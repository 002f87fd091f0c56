import Torch

/// Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022,
/// Algorithm 1; torchjd's `NashMTL`): the Nash bargaining solution d = Jᵀα with α > 0 solving
/// αᵢ(Gα)ᵢ = 1 for every task (each task's gain ∝ 1/αᵢ), followed by gradient clipping: when
/// ‖Jᵀα‖ > `maxNorm` (1, the official trainers' clip), α is scaled so that ‖Jᵀα‖ = `maxNorm`
/// (torchjd's rule; 0 disables it). Since αᵀGα = T at the solution, the clipped update has
/// norm `maxNorm` whenever T ≥ 2.
///
/// Solver: αᵢ(Gα)ᵢ = 1 is the stationarity condition of the strictly convex
/// ½αᵀGα − Σ log αᵢ, minimised here by damped Newton to a relative residual of 1e-12. The
/// official code (and torchjd) divides G by its Frobenius norm ‖G‖_F but multiplies the
/// constraint back by it, so its up-to-20 ECOS-solved convex-concave iterations converge to
/// this same α for the unnormalised G (they stop when α moves less than 1e-6); we solve for
/// that α. Robustness: zero gradients are left out of the problem (weight 0), and a relative
/// ridge (Gᵢᵢ += 1e-10·Gᵢᵢ) keeps a solution in existence for singular G too (e.g. opposite gradients,
/// where the exact problem has none and the ridge's solution has a near-zero update). An
/// all-zero Jacobian gives a zero update (torchjd fails on it).
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

    public init(maxNorm: Double = 1, updateWeightsEvery: Int = 1, ridge: Double = 1e-10) {
        precondition(maxNorm >= 0 && updateWeightsEvery > 0 && ridge >= 0,
                     "NashMTLAggregator: maxNorm ≥ 0, updateWeightsEvery > 0, ridge ≥ 0")
        self.maxNorm = maxNorm
        self.updateWeightsEvery = updateWeightsEvery
        self.ridge = ridge
    }

    /// The unclipped Nash weights for a Gram matrix: α with αᵢ(Gα)ᵢ = 1 (0 for zero gradients).
    public func solve(gram g: [[Double]], start: [Double]? = nil) -> [Double] {
        let t = g.count
        let norm = SmallLinalg.frobenius(g)
        guard t > 0, norm > 0, norm.isFinite else { return SmallLinalg.zeros(t) }
        let maxDiagonal = SmallLinalg.diagonal(g).max()!
        let live = (0..<t).filter { g[$0][$0] > 1e-24 * maxDiagonal }
        var q = live.map { i in live.map { j in g[i][j] } }
        for (k, i) in live.enumerated() { q[k][k] += ridge * g[i][i] }
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
        if let s = try AggregatorState.scalar(state, "step") {
            guard s.isFinite, s >= 0, s <= 0x1p53, s == s.rounded() else {
                throw HydraError.checkpoint("nash-mtl state 'step' is \(s), not a step count")
            }
            step = Int(s)
        }
    }
}
