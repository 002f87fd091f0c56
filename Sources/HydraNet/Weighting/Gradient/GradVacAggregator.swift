import Torch

/// GradVac, "Gradient Vaccine" (Wang et al., "Gradient Vaccine: Investigating and Improving
/// Multi-task Optimization in Massively Multilingual Models", ICLR 2021; torchjd's
/// `GradVac`): for every task i and each other task j in random order, the cosine φᵢⱼ between
/// the (already modified) g̃ᵢ and gⱼ is compared with an EMA target φ̂ᵢⱼ; when φᵢⱼ < φ̂ᵢⱼ,
/// g̃ᵢ += ‖g̃ᵢ‖(φ̂ᵢⱼ√(1−φᵢⱼ²) − φᵢⱼ√(1−φ̂ᵢⱼ²)) / (‖gⱼ‖√(1−φ̂ᵢⱼ²)) · gⱼ, then
/// φ̂ᵢⱼ ← (1−β)φ̂ᵢⱼ + βφᵢⱼ. The update is the sum of the modified gradients.
///
/// Choices as in torchjd (and LibMTL): β = 0.5, ε = 1e-8 in the denominators, targets start
/// at 0 (so the first step is PCGrad), one target per ordered pair of tasks, the whole model
/// as one group. Targets are kept by **task id** pair: a step missing a task leaves that
/// task's targets untouched. Random order from a seeded generator saved in ``stateDict()``.
public final class GradVacAggregator: GradientAggregator {
    public let name = "gradvac"
    public var beta: Double
    public var epsilon: Double
    public var generator: AggregatorGenerator
    public var order: ProjectionOrder?
    /// φ̂ per ordered pair of task ids.
    public private(set) var targets: [TaskPair: Double] = [:]

    public struct TaskPair: Hashable, Sendable {
        public var i: Int, j: Int
        public init(_ i: Int, _ j: Int) { self.i = i; self.j = j }
    }

    public init(beta: Double = 0.5, epsilon: Double = 1e-8, seed: UInt64 = 0, order: ProjectionOrder? = nil) {
        precondition((0...1).contains(beta) && epsilon >= 0, "GradVacAggregator: beta must be in [0, 1], epsilon ≥ 0")
        self.beta = beta
        self.epsilon = epsilon
        generator = AggregatorGenerator(seed: seed)
        self.order = order
    }

    /// The GradVac weights for a Gram matrix whose rows belong to `taskIds` (updates the targets).
    public func weights(gram g: [[Double]], taskIds: [Int]) -> [Double] {
        let t = g.count
        var coefficients = SmallLinalg.zeros(t, t)
        for i in 0..<t {
            coefficients[i][i] = 1
            var cg = g[i]  // (g̃ᵢ·gₖ)ₖ
            let visit = t > 1 ? (order?(i, t) ?? generator.permutation(t)) : []
            for j in visit where j != i {
                let pair = TaskPair(taskIds[i], taskIds[j])
                let dot = cg[j]
                let normI = max(SmallLinalg.dot(cg, coefficients[i]), 0).squareRoot()
                let normJ = max(g[j][j], 0).squareRoot()
                let phi = dot / (normI * normJ + epsilon)
                let target = targets[pair] ?? 0
                if phi < target {
                    let s1 = max(1 - phi * phi, 0).squareRoot(), s2 = max(1 - target * target, 0).squareRoot()
                    let w = normI * (target * s1 - phi * s2) / (normJ * s2 + epsilon)
                    coefficients[i][j] += w
                    for k in 0..<t { cg[k] += w * g[j][k] }
                }
                targets[pair] = (1 - beta) * target + beta * phi
            }
        }
        return (0..<t).map { k in (0..<t).reduce(0) { $0 + coefficients[$1][k] } }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation(weights(gram: input.gram(), taskIds: input.taskIds))
    }

    /// Forgets the targets (they restart at 0).
    public func reset() { targets = [:] }

    public func stateDict() -> [String: Tensor] {
        let pairs = targets.keys.sorted { ($0.i, $0.j) < ($1.i, $1.j) }
        return [
            "generator": generator.tensor,
            "targets.pairs": Tensor(pairs.flatMap { [Int64($0.i), Int64($0.j)] }, shape: [pairs.count, 2]),
            "targets.values": Tensor(pairs.map { targets[$0]! }),
        ]
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let t = state["generator"] { generator = try AggregatorGenerator(checkpoint: t, key: "generator") }
        if let p = state["targets.pairs"], let v = state["targets.values"] {
            let ids = p.to(dtype: .int64).scalars(as: Int64.self)
            let values = v.to(dtype: .float64).scalars(as: Double.self)
            guard ids.count == 2 * values.count else {
                throw HydraError.checkpoint("gradvac state: \(ids.count / 2) task pairs for \(values.count) targets")
            }
            var map: [TaskPair: Double] = [:]
            for (k, value) in values.enumerated() { map[TaskPair(Int(ids[2 * k]), Int(ids[2 * k + 1]))] = value }
            targets = map
        }
    }
}
