import Torch

/// Fixed, pre-determined weights (torchjd's `Constant`): update = Σᵢ wᵢgᵢ.
///
/// `weights` is indexed by **task id** (``AggregationContext/taskIndices``), not by row, so
/// that a batch missing some tasks still gives every present task its own weight.
public final class ConstantAggregator: GradientAggregator {
    public let name = "constant"
    /// One weight per task id.
    public let weights: [Double]

    public init(weights: [Double]) {
        precondition(weights.allSatisfy { $0.isFinite }, "ConstantAggregator: weights must be finite")
        self.weights = weights
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let w = input.taskIds.map { id -> Double in
            precondition(id < weights.count, "ConstantAggregator: no weight for task \(id) (\(weights.count) weights)")
            return weights[id]
        }
        return input.aggregation(w)
    }
}
