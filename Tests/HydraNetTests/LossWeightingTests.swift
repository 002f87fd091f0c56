import Foundation
import HydraNet
import Testing
import Torch
import TorchNN

/// Each loss-level method against a direct transcription of its paper's equations.
@Suite("loss weightings")
struct LossWeightingTests {
    static func losses(_ v: [Double?]) -> [Tensor?] { v.map { $0.map { Tensor(Float($0)).requiringGrad() } } }

    @Test("uncertainty weighting: ½e^{−s}L + ½s (and the paper's classification form); s trains toward log L")
    func uncertainty() throws {
        let tasks = [HydraTask(name: "age", kind: .regression), HydraTask(name: "race", kind: .multiclass(5))]
        let uw = UncertaintyWeighting(tasks: tasks)
        withNoGrad { uw.logVariance.copy_(Tensor([Float(0.3), Float(-0.2)])) }
        let total = uw.combine(Self.losses([2.0, 0.5]), epoch: 0, step: 0)
        let expected = 0.5 * exp(-0.3) * 2 + 0.15 + 0.5 * exp(0.2) * 0.5 - 0.1
        #expect(Swift.abs(total.item() - expected) < 1e-5)
        let paper = UncertaintyWeighting(tasks: tasks, form: .paper)
        withNoGrad { paper.logVariance.copy_(Tensor([Float(0.3), Float(-0.2)])) }
        let p = paper.combine(Self.losses([2.0, 0.5]), epoch: 0, step: 0).item()
        #expect(Swift.abs(p - (0.5 * exp(-0.3) * 2 + 0.15 + exp(0.2) * 0.5 - 0.1)) < 1e-5)
        // ∂/∂s = ½(1 − e^{−s}L) = 0 at s = log L: a few SGD steps on s move it there.
        let opt = try SGD(uw.parameters, lr: 0.5)
        for _ in 0..<200 {
            opt.zeroGrad()
            try uw.combine(Self.losses([2.0, 0.5]), epoch: 0, step: 0).backward()
            opt.step()
        }
        let s = uw.logVariance.scalars(as: Float.self)
        #expect(Swift.abs(Double(s[0]) - log(2.0)) < 1e-3 && Swift.abs(Double(s[1]) - log(0.5)) < 1e-3)
        // Absent task: no term, its s untouched by gradients.
        let partial = UncertaintyWeighting(tasks: tasks)
        try partial.combine(Self.losses([1.0, nil]), epoch: 0, step: 0).backward()
        #expect(partial.logVariance.grad!.scalars(as: Float.self)[1] == 0)
    }

    @Test("DWA: λ = 1 for two epochs, then K·softmax(ratio/T) of epoch-mean losses")
    func dwa() throws {
        let dwa = try DynamicWeightAverage(taskCount: 3)
        #expect(dwa.weights == [1, 1, 1])
        dwa.epochEnded(meanTrainLosses: [2.0, 1.0, 4.0])
        #expect(dwa.weights == [1, 1, 1])
        dwa.epochEnded(meanTrainLosses: [1.0, 1.0, 2.0])
        let r = [0.5, 1.0, 0.5].map { exp($0 / 2) }
        let expected = r.map { 3 * $0 / r.reduce(0, +) }
        for (a, b) in zip(dwa.weights, expected) { #expect(Swift.abs(a - b) < 1e-12) }
        let total = dwa.combine(Self.losses([1, 2, nil]), epoch: 2, step: 0).item()
        #expect(Swift.abs(total - (expected[0] + 2 * expected[1])) < 1e-5)
        // Saved and restored exactly.
        let copy = try DynamicWeightAverage(taskCount: 3)
        try copy.loadStateDict(dwa.stateDict())
        #expect(copy.weights == dwa.weights)
        copy.epochEnded(meanTrainLosses: [0.5, 1.0, 1.0])
        dwa.epochEnded(meanTrainLosses: [0.5, 1.0, 1.0])
        #expect(copy.weights == dwa.weights)
    }

    @Test("RLW: softmax of Gaussian draws, same seed same weights, absent tasks weigh 0")
    func rlw() {
        let a = RandomLossWeighting(seed: 5), b = RandomLossWeighting(seed: 5)
        for _ in 0..<5 {
            _ = a.combine(Self.losses([1, 1, nil]), epoch: 0, step: 0)
            _ = b.combine(Self.losses([1, 1, nil]), epoch: 0, step: 0)
            #expect(a.lastWeights == b.lastWeights)
            let w = a.lastWeights.compactMap { $0 }
            #expect(w.count == 2 && Swift.abs(w.reduce(0, +) - 1) < 1e-12 && w.allSatisfy { $0 > 0 })
            #expect(a.lastWeights[2] == nil)
        }
    }

    @Test("FAMO: gradient weights zᵢ/(c·Dᵢ) and the logit update equal a transcription of the paper")
    func famo() throws {
        let famo = try FAMO(taskCount: 3)
        // Transcription: w logits, Adam(lr 0.025, L2 1e-3) on the softmax-Jacobian gradient.
        var w = [0.0, 0.0, 0.0], m = [0.0, 0.0, 0.0], v = [0.0, 0.0, 0.0]
        let (lr, b1, b2, eps, wd) = (0.025, 0.9, 0.999, 1e-8, 1e-3)
        let trajectory: [([Double], [Double])] = [([2, 1, 0.5], [1.5, 0.9, 0.5]), ([1.5, 0.9, 0.5], [1.0, 0.8, 0.45]),
                                                   ([1.0, 0.8, 0.45], [0.9, 0.5, 0.44])]
        for (step, (before, after)) in trajectory.enumerated() {
            let lossTensors = Self.losses(before)
            let total = famo.combine(lossTensors, epoch: 0, step: step)
            let z = w.map { exp($0) }.map { $0 / w.map { exp($0) }.reduce(0, +) }
            let d = before.map { $0 + 1e-8 }
            let c = zip(z, d).map { $0 / $1 }.reduce(0, +)
            try total.backward()
            for i in 0..<3 {
                #expect(Swift.abs(Double(lossTensors[i]!.grad!.item()) - z[i] / (c * d[i])) < 1e-6)
                // Losses are float32 tensors: their values carry float rounding (~1e-8 relative).
                #expect(Swift.abs(famo.lastWeights[i]! - z[i] / (c * d[i])) < 1e-6)
            }
            famo.afterStep(lossesAfter: after)
            let delta = zip(before, after).map { log($0 + 1e-8) - log($1 + 1e-8) }
            let dot = zip(z, delta).map { $0 * $1 }.reduce(0, +)
            var g = (0..<3).map { z[$0] * (delta[$0] - dot) }
            g = zip(g, w).map { $0 + wd * $1 }
            let t = Double(step + 1)
            for i in 0..<3 {
                m[i] = m[i] + (g[i] - m[i]) * (1 - b1)
                v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i]
                let denom = (v[i].squareRoot() / (1 - pow(b2, t)).squareRoot()) + eps
                w[i] -= lr / (1 - pow(b1, t)) * m[i] / denom
            }
            let logits = famo.logits.scalars(as: Double.self)
            for i in 0..<3 { #expect(Swift.abs(logits[i] - w[i]) < 1e-9, "step \(step) logit \(i)") }
        }
    }

    @Test("geometric mean: (ΠLᵢ)^{1/T}, scale-invariant weights")
    func geometric() throws {
        let gm = GeometricMeanWeighting()
        let l = Self.losses([2, 8, nil])
        let total = gm.combine(l, epoch: 0, step: 0)
        #expect(Swift.abs(total.item() - 4) < 1e-5)
        try total.backward()
        #expect(Swift.abs(Double(l[0]!.grad!.item()) - 4 / (2 * 2)) < 1e-5)
        #expect(Swift.abs(Double(l[1]!.grad!.item()) - 4 / (2 * 8)) < 1e-5)
    }
}
