import Foundation
import Torch

/// PCD, priority-constrained descent (Varam et al., "Not All Objectives Are Born Equal:
/// Priority-Constrained Descent for Hierarchical Multi-Objective Optimization", TMLR 2026;
/// torchjd's `PCD`): follow the primary task's gradient as closely as possible while every
/// other task gets at least a fraction τ of the first-order progress of its own normalised
/// gradient: d̃ = argmin ½‖d − g̃₁‖² s.t. g̃ⱼᵀd ≥ τ‖g̃ⱼ‖², with g̃ᵢ = sᵢgᵢ normalised by
/// sᵢ = 1/√(v̂ᵢ + ε) (v̂ the bias-corrected EMA of ‖gᵢ‖², decay β); the output is d̃ rescaled to
/// ‖g₁‖. Infeasible constraints are dropped (output g₁); g₁ = 0 gives a zero update.
///
/// Choices as in torchjd: τ = 0.02, β = 0.999, ε = 1e-8, the QP solved exactly by the dual
/// active-set method of Goldfarb & Idnani on the Gram matrix. The primary objective is the
/// task with id `primaryTask` (0 by default) wherever its row is; when it is absent from a
/// step, its gradient counts as zero and so does the update (PCD follows the primary
/// gradient). The EMA and its step count are kept **per task id**.
public final class PCDAggregator: GradientAggregator {
    public let name = "pcd"
    public var primaryTask: Int
    public var tau: Double
    public var beta: Double
    public var epsilon: Double
    public private(set) var averages: [Int: Double] = [:]
    public private(set) var steps: [Int: Double] = [:]

    public init(primaryTask: Int = 0, tau: Double = 0.02, beta: Double = 0.999, epsilon: Double = 1e-8) {
        precondition((0...1).contains(tau) && beta >= 0 && beta < 1 && epsilon >= 0,
                     "PCDAggregator: tau in [0, 1], beta in [0, 1), epsilon ≥ 0")
        self.primaryTask = primaryTask
        self.tau = tau
        self.beta = beta
        self.epsilon = epsilon
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let t = input.count
        guard t > 0 else { return input.aggregation([]) }
        let g = input.gram()
        guard g.allSatisfy({ $0.allFinite }) else {
            return input.aggregation([Double](repeating: .nan, count: t))
        }
        // Scales from the per-task EMA of the squared norms.
        var scales = SmallLinalg.zeros(t)
        for (k, id) in input.taskIds.enumerated() {
            let ema = beta * (averages[id] ?? 0) + (1 - beta) * g[k][k]
            let n = (steps[id] ?? 0) + 1
            averages[id] = ema
            steps[id] = n
            let denominator = (ema / (1 - Foundation.pow(beta, n)) + epsilon).squareRoot()
            scales[k] = denominator > 0 ? 1 / denominator : 0
        }
        guard let primary = input.taskIds.firstIndex(of: primaryTask) else {
            return input.aggregation(SmallLinalg.zeros(t))
        }
        let order = [primary] + (0..<t).filter { $0 != primary }
        let sq0 = g[primary][primary]
        var weights = SmallLinalg.zeros(t)
        let precision = 10 * PCDAggregator.epsilon(of: input.jacobian.dtype)
        if sq0 > 0 {
            let normalized = order.map { i in order.map { j in g[i][j] * scales[i] * scales[j] } }
            let w = SmallQP.priorityConstrained(normalized, taus: [Double](repeating: tau, count: t - 1),
                                                dependenceTol: max(1e-9, precision))
            let directionSq = SmallLinalg.quadratic(normalized, w)
            let magnitude = Foundation.pow(zip(w, SmallLinalg.diagonal(normalized)).reduce(0) { $0 + abs($1.0) * max($1.1, 0).squareRoot() }, 2)
            if directionSq > precision * magnitude {
                let rescale = (sq0 / directionSq).squareRoot()
                for (k, i) in order.enumerated() { weights[i] = w[k] * scales[i] * rescale }
            }
        }
        return input.aggregation(weights)
    }

    static func epsilon(of dtype: DType) -> Double {
        switch dtype {
        case .float64: Double.ulpOfOne
        case .float16: 9.765625e-4
        case .bfloat16: 7.8125e-3
        default: Double(Float.ulpOfOne)
        }
    }

    /// Forgets the moving averages.
    public func reset() { averages = [:]; steps = [:] }

    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        AggregatorState.put(averages, "averages", into: &d)
        AggregatorState.put(steps, "steps", into: &d)
        return d
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        averages = try AggregatorState.get(state, "averages") ?? [:]
        steps = try AggregatorState.get(state, "steps") ?? [:]
    }
}
