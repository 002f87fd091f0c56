import Foundation
import Torch
import TorchNN

/// Fast Adaptive Multitask Optimization (Liu et al., NeurIPS 2023), O(1) per step in the
/// number of tasks. With z = softmax(w) and Dᵢ = Lᵢ − Lᵢ* + ε (L* = 0):
/// loss = Σ zᵢ log Dᵢ / c with c = sg(Σ zᵢ/Dᵢ), so the backbone sees Σ (zᵢ/(c·Dᵢ)) gᵢ.
/// After the optimizer step the losses are **recomputed on the same batch** (one extra
/// no-grad forward, which the trainer does), δᵢ = log Dᵢ(before) − log Dᵢ(after), and the
/// logits w take an Adam step (lr 0.025, weight decay γ = 1e-3 as LibMTL/torchjd) with
/// gradient (∂softmax/∂w)ᵀδ. Absent tasks are left out of the softmax and get a zero
/// gradient that step (Adam's momentum and weight decay still act on their logit, as for any
/// zero gradient).
public final class FAMO: LossWeighting {
    public let name = "famo"
    public let logits: Tensor
    private let optimizer: Adam
    private let epsilon = 1e-8
    private var before: [Double?] = []
    public private(set) var lastWeights: [Double?] = []

    public init(taskCount: Int, learningRate: Double = 0.025, weightDecay: Double = 1e-3) throws {
        logits = Tensor.zeros([taskCount], dtype: .float64).requiringGrad()
        optimizer = try Adam([logits], .init(lr: learningRate, weightDecay: weightDecay))
    }

    public var needsLossesAfterStep: Bool { true }

    private func present(_ losses: [Double?]) -> [Int] { losses.indices.filter { losses[$0] != nil } }

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        let idx = losses.indices.filter { losses[$0] != nil }
        lastWeights = Array(repeating: nil, count: losses.count)
        guard !idx.isEmpty else { return Tensor(Float(0)) }
        let values = losses.map { $0?.item() }
        before = values
        let w = logits.detached().scalars(as: Double.self)
        let m = idx.map { w[$0] }.max()!
        let exps = idx.map { Foundation.exp(w[$0] - m) }
        let z = exps.map { $0 / exps.reduce(0, +) }
        let d = idx.map { values[$0]! + epsilon }
        let c = zip(z, d).map { $0 / $1 }.reduce(0, +)
        var total: Tensor?
        for (j, i) in idx.enumerated() {
            let term = (losses[i]! + epsilon).log() * (z[j] / c)
            lastWeights[i] = z[j] / (c * d[j])
            total = total.map { $0 + term } ?? term
        }
        return total!
    }

    public func afterStep(lossesAfter: [Double?]) {
        let idx = present(before).filter { lossesAfter[$0] != nil }
        guard !idx.isEmpty else { return }
        let delta = idx.map { Foundation.log(before[$0]! + epsilon) - Foundation.log(lossesAfter[$0]! + epsilon) }
        // Gradient of softmax over the present logits: Jᵀδ = z ⊙ (δ − zᵀδ).
        let w = logits.detached().scalars(as: Double.self)
        let m = idx.map { w[$0] }.max()!
        let exps = idx.map { Foundation.exp(w[$0] - m) }
        let z = exps.map { $0 / exps.reduce(0, +) }
        let dot = zip(z, delta).map { $0 * $1 }.reduce(0, +)
        var grad = [Double](repeating: 0, count: w.count)
        for (j, i) in idx.enumerated() { grad[i] = z[j] * (delta[j] - dot) }
        logits.grad = Tensor(grad)
        optimizer.step()
        logits.zeroGrad()
    }

    public func stateDict() -> [String: Tensor] {
        var state = ["logits": logits.detached().clone()]
        for (k, v) in optimizer.stateDict() { state["adam.\(k)"] = v }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let l = state["logits"] {
            guard l.shape == logits.shape else { throw HydraError.checkpoint("FAMO logits have shape \(l.shape)") }
            withNoGrad { logits.copy_(l) }
        }
        var adam = StateDict()
        for (k, v) in state where k.hasPrefix("adam.") { adam[String(k.dropFirst(5))] = v }
        if adam.count > 0 { try optimizer.loadStateDict(adam) }
    }
}
