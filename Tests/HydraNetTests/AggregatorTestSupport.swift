import HydraNet
import Testing
import Torch

/// Helpers shared by the Aggregator* test files.
enum AggregatorTesting {
    /// A float64 T×P tensor from rows.
    static func matrix(_ rows: [[Double]]) -> Tensor {
        Tensor(rows.flatMap { $0 }, shape: [rows.count, rows.first?.count ?? 0])
    }

    static func values(_ t: Tensor) -> [Double] { t.to(dtype: .float64).contiguous().scalars(as: Double.self) }

    static func context(_ t: Int, tasks: [Int]? = nil, losses: [Double]? = nil, epoch: Int = 0, step: Int = 0)
        -> AggregationContext
    {
        AggregationContext(taskIndices: tasks ?? Array(0..<t), losses: losses ?? [Double](repeating: 1, count: t),
                           epoch: epoch, step: step)
    }

    static func maxAbs(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    static func norm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    /// Every aggregator with its defaults (fresh instances), by name.
    static func all(seed: UInt64 = 0) -> [any GradientAggregator] {
        GradientAggregators.names.map { try! GradientAggregators.make($0, seed: seed) }
            + [ConstantAggregator(weights: [0.5] + (1..<64).map { Double($0) }),
               CRMOGMAggregator(wrapping: UPGradAggregator())]
    }
}
