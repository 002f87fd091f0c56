import Torch

/// Σᵢ Lᵢ: every task weighs 1 (LibMTL's EW; the article's `loss_1 + loss_2 + loss_3`).
public final class EqualWeighting: LossWeighting {
    public let name = "equal"
    public private(set) var lastWeights: [Double?] = []

    public init() {}

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        lastWeights = losses.map { $0 == nil ? nil : 1 }
        return weightedSum(losses, Array(repeating: 1, count: losses.count))
    }
}

/// Σᵢ wᵢLᵢ with fixed user-chosen weights.
public final class StaticWeighting: LossWeighting {
    public let name = "static"
    public let weights: [Double]
    public private(set) var lastWeights: [Double?] = []

    public init(weights: [Double]) throws {
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw HydraError.invalidConfiguration("static weights must be finite and ≥ 0: \(weights)")
        }
        self.weights = weights
    }

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        precondition(losses.count == weights.count, "static weighting: \(weights.count) weights for \(losses.count) tasks")
        lastWeights = zip(losses, weights).map { $0 == nil ? nil : $1 }
        return weightedSum(losses, weights)
    }
}

/// The geometric mean (Πᵢ Lᵢ)^{1/T} of the present tasks' losses (GLS; Chennupati et al.
/// 2019): scale-invariant, since ∂/∂Lᵢ = GM/(T·Lᵢ). Losses are clamped at 1e-8 before the
/// logarithm so that a zero loss cannot produce NaN.
public final class GeometricMeanWeighting: LossWeighting {
    public let name = "geometric"
    public private(set) var lastWeights: [Double?] = []

    public init() {}

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        let present = losses.compactMap { $0 }
        guard !present.isEmpty else {
            lastWeights = losses.map { _ in nil }
            return Tensor(Float(0))
        }
        let logs = present.map { $0.clamped(min: 1e-8).log() }
        let gm = (Tensor.stack(logs).sum() / Double(present.count)).exp()
        let g = gm.item()
        lastWeights = losses.map { l in l.map { g / (Double(present.count) * Swift.max($0.item(), 1e-8)) } }
        return gm
    }
}
