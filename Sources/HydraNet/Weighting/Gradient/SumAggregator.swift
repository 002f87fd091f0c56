import Torch

/// The sum of the task gradients, w = 1 (torchjd's `Sum`; LibMTL's EW, which weights every
/// task by 1). Identical to one backward of Σᵢ Lᵢ.
public final class SumAggregator: GradientAggregator {
    public let name = "sum"

    public init() {}

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation([Double](repeating: 1, count: input.count))
    }
}
