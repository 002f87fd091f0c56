import Torch

/// The order in which a projection method visits the other tasks for row `row` of a
/// Jacobian with `taskCount` rows: a permutation of 0..<taskCount (`row` itself, wherever it
/// appears, is skipped). Injectable for tests; by default drawn from the aggregator's seeded
/// generator.
public typealias ProjectionOrder = (_ row: Int, _ taskCount: Int) -> [Int]

/// PCGrad, "projecting conflicting gradients" (Yu et al., "Gradient Surgery for Multi-Task
/// Learning", NeurIPS 2020, Algorithm 1; torchjd's `PCGrad`): for every task i, start from
/// g̃ᵢ = gᵢ and, for each other task j in random order, if g̃ᵢ·gⱼ < 0 remove the conflicting
/// component, g̃ᵢ ← g̃ᵢ − (g̃ᵢ·gⱼ/‖gⱼ‖²)gⱼ. The update is the **sum** d = Σᵢ g̃ᵢ (as in the paper,
/// LibMTL and torchjd).
///
/// Computed on the Gram matrix only (torchjd's formulation): g̃ᵢ = Σₖ cᵢₖgₖ, so g̃ᵢ·gⱼ = (Gcᵢ)ⱼ
/// and the projection is cᵢⱼ −= (Gcᵢ)ⱼ/Gⱼⱼ. Choices: a fresh random order per task i and
/// step (the paper's "random order", like torchjd's `randperm` per i), drawn from a seeded
/// Swift generator whose state is saved in ``stateDict()``; zero gradients never project.
public final class PCGradAggregator: GradientAggregator {
    public let name = "pcgrad"
    public var generator: AggregatorGenerator
    /// Overrides the random order (tests, or a fixed schedule).
    public var order: ProjectionOrder?

    public init(seed: UInt64 = 0, order: ProjectionOrder? = nil) {
        generator = AggregatorGenerator(seed: seed)
        self.order = order
    }

    /// The PCGrad weights for a Gram matrix.
    public func weights(gram g: [[Double]]) -> [Double] {
        let t = g.count
        var total = SmallLinalg.zeros(t)
        for i in 0..<t {
            let visit = t > 1 ? (order?(i, t) ?? generator.permutation(t)) : []
            var c = SmallLinalg.zeros(t)
            c[i] = 1
            for j in visit where j != i {
                let inner = SmallLinalg.dot(g[j], c)
                if inner < 0, g[j][j] > 0 { c[j] -= inner / g[j][j] }
            }
            for k in 0..<t { total[k] += c[k] }
        }
        return total
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram()))
    }

    public func stateDict() -> [String: Tensor] { ["generator": generator.tensor] }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let t = state["generator"] { generator = try AggregatorGenerator(checkpoint: t, key: "generator") }
    }
}
