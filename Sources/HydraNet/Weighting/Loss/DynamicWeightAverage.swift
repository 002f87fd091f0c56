import Foundation
import Torch

/// Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019, "End-to-End Multi-Task
/// Learning with Attention"): λₖ(t) = K·exp(wₖ(t−1)/T) / Σᵢ exp(wᵢ(t−1)/T), with
/// wₖ(t−1) = L̄ₖ(t−1)/L̄ₖ(t−2) the ratio of **epoch-mean training losses**, temperature
/// T = 2, and λ = 1 during the first two epochs (as mtan, LibMTL and torchjd). Weights are
/// fixed within an epoch. A task without a mean loss in either of the last two epochs (no
/// labels seen) gets ratio 1.
public final class DynamicWeightAverage: LossWeighting {
    public let name = "dwa"
    public let temperature: Double
    public let taskCount: Int
    /// Epoch-mean training losses, oldest first (at most the last two are used).
    public private(set) var history: [[Double?]] = []
    public private(set) var weights: [Double]
    public private(set) var lastWeights: [Double?] = []

    public init(taskCount: Int, temperature: Double = 2) throws {
        guard temperature > 0 else { throw HydraError.invalidConfiguration("DWA temperature must be positive") }
        self.taskCount = taskCount
        self.temperature = temperature
        weights = Array(repeating: 1, count: taskCount)
    }

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        lastWeights = zip(losses, weights).map { $0 == nil ? nil : $1 }
        return weightedSum(losses, weights)
    }

    public func epochEnded(meanTrainLosses: [Double?]) {
        history.append(meanTrainLosses)
        if history.count > 2 { history.removeFirst(history.count - 2) }
        weights = Self.weights(history: history, temperature: temperature, taskCount: taskCount)
    }

    /// The DWA weights for the next epoch from the last two epochs' mean losses.
    static func weights(history: [[Double?]], temperature: Double, taskCount: Int) -> [Double] {
        guard history.count >= 2 else { return Array(repeating: 1, count: taskCount) }
        let previous = history[history.count - 2], last = history[history.count - 1]
        let ratios = (0..<taskCount).map { k -> Double in
            guard let a = last[k], let b = previous[k], b > 0 else { return 1 }
            return a / b
        }
        let exps = ratios.map { Foundation.exp($0 / temperature) }
        let total = exps.reduce(0, +)
        return exps.map { Double(taskCount) * $0 / total }
    }

    public func stateDict() -> [String: Tensor] {
        var state = ["weights": tensor(weights)]
        for (i, h) in history.enumerated() { state["history.\(i)"] = tensor(h.map { $0 ?? .nan }) }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let w = try doubles(state, "weights", count: taskCount) { weights = w }
        history = try (0..<2).compactMap { try doubles(state, "history.\($0)", count: taskCount) }
            .map { $0.map { $0.isNaN ? nil : $0 } }
    }
}
