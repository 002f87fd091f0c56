import Torch

/// The plain average of the task gradients, w = 1/T (torchjd's `Mean`; equal weighting on
/// gradients). With missing tasks, T is the number of present tasks.
public final class MeanAggregator: GradientAggregator {
    public let name = "mean"

    public init() {}

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        return input.aggregation([Double](repeating: 1 / Double(max(input.count, 1)), count: input.count))
    }
}
