import Foundation
import Torch

/// GradNorm (Chen et al., "GradNorm: Gradient Normalization for Adaptive Loss Balancing in
/// Deep Multitask Networks", ICML 2018): learnable task weights wᵢ, kept summing to T, are
/// trained so that the weighted gradient norms Gᵢ = ‖wᵢgᵢ‖ move towards a common norm scaled by
/// each task's relative inverse training rate: L_grad = Σᵢ |Gᵢ − sg(Ḡ·rᵢ^α)|, with Ḡ = meanᵢ Gᵢ,
/// L̃ᵢ = Lᵢ(t)/Lᵢ(0) and rᵢ = L̃ᵢ/meanⱼ L̃ⱼ. The model's update is d = Σᵢ sg(wᵢ)gᵢ.
///
/// Choices:
/// - α = 1.5 (the paper's NYUv2 value and LibMTL's default).
/// - w = T·softmax(s) with s learnable (LibMTL's parametrisation; keeps Σw = T, the paper's
///   renormalisation, automatically). With missing tasks, T and the softmax are over the
///   present tasks; absent tasks' s and optimiser state are untouched.
/// - s takes its own Adam step (lr 0.025, β = (0.9, 0.999), ε = 1e-8, PyTorch's update rule)
///   from the analytic gradient ∂L_grad/∂sₖ = T·pₖ(aₖ − Σᵢpᵢaᵢ), aᵢ = sign(Gᵢ − targetᵢ)·‖gᵢ‖,
///   after d is formed with the current weights (LibMTL's order). The paper and LibMTL train s
///   with the model's optimiser; a separate step keeps s out of the model's optimiser and
///   weight decay.
/// - ‖gᵢ‖ = √Gᵢᵢ, from the Gram matrix of whatever gradient source the trainer uses (the paper
///   uses the last shared layer; LibMTL all shared parameters or, with rep_grad, the
///   representation — here, `exact` or `features`).
/// - Lᵢ(0), `initialLoss`: `.firstStep` (default, the paper's "loss at t = 0") is the task's
///   loss the first time it is present; `.firstEpochMean` (LibMTL) is the task's mean loss over
///   the first epoch it appears in, during which GradNorm uses equal weights (w = 1) and does
///   not train s. Lᵢ(0) ≤ 0 or non-finite counts as L̃ᵢ = 1.
/// Needs ``AggregationContext/losses`` (one per row).
public final class GradNormAggregator: GradientAggregator {
    public enum InitialLoss: String, Sendable { case firstStep, firstEpochMean }

    public let name = "gradnorm"
    public var alpha: Double
    public var learningRate: Double
    public var betas: (Double, Double)
    public var adamEpsilon: Double
    public var initialLoss: InitialLoss
    /// Logits s by task id.
    public private(set) var logits: [Int: Double] = [:]
    /// Lᵢ(0) by task id.
    public private(set) var initialLosses: [Int: Double] = [:]
    private var firstMoment: [Int: Double] = [:]
    private var secondMoment: [Int: Double] = [:]
    private var adamSteps: [Int: Double] = [:]
    private var epochSums: [Int: Double] = [:]
    private var epochCounts: [Int: Double] = [:]
    private var firstEpochs: [Int: Double] = [:]
    /// L_grad of the last step (for logs).
    public private(set) var lastGradLoss: Double = 0

    public init(alpha: Double = 1.5, learningRate: Double = 0.025, betas: (Double, Double) = (0.9, 0.999),
                adamEpsilon: Double = 1e-8, initialLoss: InitialLoss = .firstStep) {
        precondition(alpha >= 0 && learningRate >= 0 && (0..<1).contains(betas.0) && (0..<1).contains(betas.1),
                     "GradNormAggregator: alpha, learningRate ≥ 0; betas in [0, 1)")
        self.alpha = alpha
        self.learningRate = learningRate
        self.betas = betas
        self.adamEpsilon = adamEpsilon
        self.initialLoss = initialLoss
    }

    /// The current weights of the given tasks: T·softmax(s) over them.
    public func weights(tasks ids: [Int]) -> [Double] {
        let s = ids.map { logits[$0] ?? 0 }
        let top = s.max() ?? 0
        let e = s.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { Double(ids.count) * $0 / total }
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        let ids = input.taskIds
        let t = input.count
        precondition(context.losses.count == t, "GradNormAggregator needs one loss per row (\(context.losses.count) for \(t) rows)")
        guard t > 0 else { return input.aggregation([]) }
        // Lᵢ(0).
        var warm = true
        for (k, id) in ids.enumerated() where initialLosses[id] == nil {
            switch initialLoss {
            case .firstStep:
                initialLosses[id] = context.losses[k]
            case .firstEpochMean:
                let epoch = Double(context.epoch)
                if firstEpochs[id] == nil { firstEpochs[id] = epoch }
                if epoch == firstEpochs[id]! {
                    epochSums[id, default: 0] += context.losses[k]
                    epochCounts[id, default: 0] += 1
                    warm = false
                } else {
                    initialLosses[id] = epochSums[id]! / epochCounts[id]!
                }
            }
        }
        guard warm else { return input.aggregation([Double](repeating: 1, count: t)) }
        for id in ids where logits[id] == nil { logits[id] = 0 }

        let g = input.gram()
        let w = weights(tasks: ids)
        let p = w.map { $0 / Double(t) }
        let norms = (0..<t).map { max(g[$0][$0], 0).squareRoot() }
        let gi = (0..<t).map { w[$0] * norms[$0] }
        let mean = gi.reduce(0, +) / Double(t)
        let ratios = ids.enumerated().map { k, id -> Double in
            let l0 = initialLosses[id]!
            return l0 > 0 && l0.isFinite && context.losses[k].isFinite ? context.losses[k] / l0 : 1
        }
        let meanRatio = ratios.reduce(0, +) / Double(t)
        let r = ratios.map { meanRatio > 0 ? $0 / meanRatio : 1 }
        let targets = r.map { mean * Foundation.pow($0, alpha) }
        lastGradLoss = (0..<t).reduce(0) { $0 + abs(gi[$1] - targets[$1]) }
        let a = (0..<t).map { k -> Double in
            let diff = gi[k] - targets[k]
            return (diff > 0 ? 1 : diff < 0 ? -1 : 0) * norms[k]
        }
        let pa = (0..<t).reduce(0) { $0 + p[$1] * a[$1] }
        for (k, id) in ids.enumerated() {
            let grad = Double(t) * p[k] * (a[k] - pa)
            let m = betas.0 * (firstMoment[id] ?? 0) + (1 - betas.0) * grad
            let v = betas.1 * (secondMoment[id] ?? 0) + (1 - betas.1) * grad * grad
            let n = (adamSteps[id] ?? 0) + 1
            firstMoment[id] = m
            secondMoment[id] = v
            adamSteps[id] = n
            let bias1 = 1 - Foundation.pow(betas.0, n), bias2 = 1 - Foundation.pow(betas.1, n)
            let denominator = v.squareRoot() / bias2.squareRoot() + adamEpsilon
            logits[id]! -= learningRate / bias1 * m / denominator
        }
        return input.aggregation(w)
    }

    /// Forgets all state.
    public func reset() {
        logits = [:]; initialLosses = [:]; firstMoment = [:]; secondMoment = [:]; adamSteps = [:]
        epochSums = [:]; epochCounts = [:]; firstEpochs = [:]; lastGradLoss = 0
    }

    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        AggregatorState.put(logits, "logits", into: &d)
        AggregatorState.put(initialLosses, "initialLosses", into: &d)
        AggregatorState.put(firstMoment, "adam.m", into: &d)
        AggregatorState.put(secondMoment, "adam.v", into: &d)
        AggregatorState.put(adamSteps, "adam.steps", into: &d)
        AggregatorState.put(epochSums, "epochSums", into: &d)
        AggregatorState.put(epochCounts, "epochCounts", into: &d)
        AggregatorState.put(firstEpochs, "firstEpochs", into: &d)
        return d
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        logits = try AggregatorState.get(state, "logits") ?? [:]
        initialLosses = try AggregatorState.get(state, "initialLosses") ?? [:]
        firstMoment = try AggregatorState.get(state, "adam.m") ?? [:]
        secondMoment = try AggregatorState.get(state, "adam.v") ?? [:]
        adamSteps = try AggregatorState.get(state, "adam.steps") ?? [:]
        epochSums = try AggregatorState.get(state, "epochSums") ?? [:]
        epochCounts = try AggregatorState.get(state, "epochCounts") ?? [:]
        firstEpochs = try AggregatorState.get(state, "firstEpochs") ?? [:]
    }
}
