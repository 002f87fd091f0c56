import Torch

/// Coordinate-wise trimmed mean (Yin et al., "Byzantine-Robust Distributed Learning:
/// Towards Optimal Statistical Rates", ICML 2018; torchjd's `TrimmedMean`): in every
/// coordinate the `trim` largest and `trim` smallest task values are dropped and the rest
/// averaged. Not a weighting of rows (``Aggregation/weights`` is nil).
///
/// Choices: trim = 1 by default (torchjd has no default); with fewer than 2·trim + 1 present
/// tasks the trim is lowered to ⌊(T − 1)/2⌋ so that missing tasks never break a step.
public final class TrimmedMeanAggregator: GradientAggregator {
    public let name = "trimmed-mean"
    public var trim: Int

    public init(trim: Int = 1) {
        precondition(trim >= 0, "TrimmedMeanAggregator: trim must be non-negative")
        self.trim = trim
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        guard input.count > 0 else { return Aggregation(update: input.zeroUpdate(), weights: nil) }
        let k = min(trim, (input.count - 1) / 2)
        let update = withNoGrad {
            input.jacobian64.sorted(dim: 0).values.narrow(dim: 0, start: k, length: input.count - 2 * k).mean(dim: 0)
        }
        return Aggregation(update: update.to(dtype: input.jacobian.dtype), weights: nil)
    }
}
