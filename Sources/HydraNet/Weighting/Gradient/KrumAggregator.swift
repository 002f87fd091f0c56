import Torch

/// (Multi-)Krum (Blanchard et al., "Machine Learning with Adversaries: Byzantine Tolerant
/// Gradient Descent", NeurIPS 2017; torchjd's `Krum`): each gradient is scored by the sum of
/// its distances to its T − f − 2 nearest other gradients (f = `byzantine`), and the mean of
/// the `selected` lowest-scoring gradients is returned. Distances come from G:
/// ‖gᵢ − gⱼ‖² = Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ.
///
/// Choices: f = 1 and m = 1 by default (torchjd has no default). Krum needs T ≥ f + 3; with
/// fewer present tasks f is lowered to T − 3, and for T < 3 (where Krum is undefined) the
/// aggregator returns the mean, so that missing tasks never break a step. Ties go to the lower
/// row index.
public final class KrumAggregator: GradientAggregator {
    public let name = "krum"
    public var byzantine: Int
    public var selected: Int

    public init(byzantine: Int = 1, selected: Int = 1) {
        precondition(byzantine >= 0 && selected >= 1, "KrumAggregator: byzantine ≥ 0 and selected ≥ 1")
        self.byzantine = byzantine
        self.selected = selected
    }

    /// The Krum weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        let t = g.count
        guard t >= 3 else { return [Double](repeating: 1 / Double(max(t, 1)), count: t) }
        let f = min(byzantine, t - 3)
        let closest = t - f - 2
        var scores = SmallLinalg.zeros(t)
        for i in 0..<t {
            let distances = (0..<t).map { j in max(g[i][i] + g[j][j] - 2 * g[i][j], 0).squareRoot() }.sorted()
            scores[i] = distances[1...closest].reduce(0, +)
        }
        let m = min(selected, t)
        let chosen = (0..<t).sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(m)
        var w = SmallLinalg.zeros(t)
        for i in chosen { w[i] = 1 / Double(m) }
        return w
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }
}
