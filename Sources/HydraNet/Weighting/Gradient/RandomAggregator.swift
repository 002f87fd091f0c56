import Foundation
import Torch

/// Random weighting on gradients (Lin et al., "Reasonable Effectiveness of Random Weighting:
/// A Litmus Test for Multi-Task Learning", TMLR 2022, Algorithm 2; torchjd's `Random`):
/// w = softmax(ε) with ε ~ N(0, I_T) drawn afresh at every step.
///
/// Choice: ε comes from a seeded Swift generator (``AggregatorGenerator``) owned by the
/// aggregator, not from libtorch's global generator, so runs are reproducible and the
/// generator state is saved in ``stateDict()``.
public final class RandomAggregator: GradientAggregator {
    public let name = "random"
    public var generator: AggregatorGenerator

    public init(seed: UInt64 = 0) { generator = AggregatorGenerator(seed: seed) }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let eps = (0..<input.count).map { _ in generator.normal() }
        let top = eps.max() ?? 0
        let e = eps.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return input.aggregation(e.map { $0 / total })
    }

    public func stateDict() -> [String: Tensor] { ["generator": generator.tensor] }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let t = state["generator"] { generator = try AggregatorGenerator(checkpoint: t, key: "generator") }
    }
}
