import Foundation
import Torch

/// ExcessMTL (He et al., "Robust Multi-Task Learning with Excess Risks", ICML 2024;
/// torchjd's `ExcessMTL`): task weights follow an exponentiated-gradient step driven by each
/// task's estimated excess risk, Êᵢ = Σₖ gᵢₖ²/√(Sᵢₖ + 1e-7) with Sᵢ the running sum of gᵢ∘gᵢ
/// (an AdaGrad-style diagonal Hessian, Equations 6–7); Êᵢ is divided by the task's baseline
/// excess risk (Section 3.2), and w ← softmax(log w + η·Ê) (Equation 9); update d = Jᵀw.
///
/// Choices as in torchjd: η = `robustStepSize` = 1, weights start at 1/T, no warm-up by
/// default (the first step's raw Ê is the baseline, as the official code and LibMTL do; with
/// `warmupSteps` > 0 the weights stay uniform while the baseline is averaged). State is kept
/// **per task id**: the log-weights (so a step missing a task leaves its weight's logit
/// untouched and the present tasks' weights are the softmax over the present logits), Sᵢ (a
/// length-P tensor per task, in the Jacobian's dtype — reset if P changes), the baseline and
/// the warm-up sums and counts.
public final class ExcessMTLAggregator: GradientAggregator {
    public let name = "excess-mtl"
    public var robustStepSize: Double
    public var warmupSteps: Int
    public private(set) var logits: [Int: Double] = [:]
    public private(set) var baselines: [Int: Double] = [:]
    private var warmupSums: [Int: Double] = [:]
    private var counts: [Int: Double] = [:]
    private var squaredSums: [Int: Tensor] = [:]

    public init(robustStepSize: Double = 1, warmupSteps: Int = 0) {
        precondition(robustStepSize > 0 && warmupSteps >= 0, "ExcessMTLAggregator: robustStepSize > 0, warmupSteps ≥ 0")
        self.robustStepSize = robustStepSize
        self.warmupSteps = warmupSteps
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let ids = input.taskIds
        let excess: [Double] = withNoGrad {
            let j = input.jacobian.detached()
            return ids.enumerated().map { k, id in
                let sq = j.select(dim: 0, index: k).square()
                var sum = squaredSums[id]
                if sum == nil || sum!.shape != sq.shape || sum!.dtype != sq.dtype || sum!.device != sq.device {
                    sum = Tensor.zeros(sq.shape, dtype: sq.dtype, device: sq.device)
                }
                let updated = sum! + sq
                squaredSums[id] = updated
                return (sq / (updated + 1e-7).sqrt()).sum().to(dtype: .float64).item()
            }
        }
        for (k, id) in ids.enumerated() {
            if logits[id] == nil { logits[id] = 0 }
            let n = counts[id] ?? 0
            counts[id] = n + 1
            if n < Double(warmupSteps) {
                warmupSums[id, default: 0] += excess[k]
                continue
            }
            var e = excess[k]
            if let base = baselines[id] {
                e /= base + 1e-7
            } else if warmupSteps > 0 {
                let base = (warmupSums[id] ?? 0) / Double(warmupSteps)
                baselines[id] = base
                e /= base + 1e-7
            } else {
                baselines[id] = e
            }
            logits[id]! += robustStepSize * e
        }
        // softmax over the present tasks' logits; renormalise the stored logits (log-weights).
        let present = ids.map { logits[$0]! }
        let top = present.max() ?? 0
        let lse = top + Foundation.log(present.reduce(0) { $0 + Foundation.exp($1 - top) })
        for id in ids { logits[id]! -= lse }
        let w = ids.map { Foundation.exp(logits[$0]!) }
        return input.aggregation(w)
    }

    /// Forgets all state.
    public func reset() {
        logits = [:]; baselines = [:]; warmupSums = [:]; counts = [:]; squaredSums = [:]
    }

    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        AggregatorState.put(logits, "logits", into: &d)
        AggregatorState.put(baselines, "baselines", into: &d)
        AggregatorState.put(warmupSums, "warmupSums", into: &d)
        AggregatorState.put(counts, "counts", into: &d)
        AggregatorState.put(squaredSums, "squaredSums", into: &d)
        return d
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        logits = try AggregatorState.get(state, "logits") ?? [:]
        baselines = try AggregatorState.get(state, "baselines") ?? [:]
        warmupSums = try AggregatorState.get(state, "warmupSums") ?? [:]
        counts = try AggregatorState.get(state, "counts") ?? [:]
        squaredSums = try AggregatorState.getTensors(state, "squaredSums")
    }
}
