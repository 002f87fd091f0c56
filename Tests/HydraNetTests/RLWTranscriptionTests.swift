import Foundation
@testable import HydraNet
import Testing

@Suite("RLW transcription")
struct RLWTranscriptionTests {
    @Test("a few steps equal Lin et al.'s RLW: w = softmax(ε), ε ~ N(0, I) per step, loss Σ wᵢLᵢ")
    func transcription() throws {
        let rlw = RandomLossWeighting(seed: 42)
        var draws = SplitMix64(seed: 42)  // the method's documented generator, same seed
        let losses: [[Double]] = [[1.0, 2.0, 0.5], [0.9, 1.5, 0.4], [0.8, 1.2, 0.35]]
        for (step, l) in losses.enumerated() {
            let tensors = l.map { Tensor(Float($0)).requiringGrad() }
            let total = rlw.combine(tensors, epoch: 0, step: step)
            let eps = l.map { _ in draws.nextGaussian() }
            let exps = eps.map { exp($0) }
            let w = exps.map { $0 / exps.reduce(0, +) }
            let expected = zip(w, l).map { $0 * $1 }.reduce(0, +)
            #expect(Swift.abs(total.item() - expected) < 1e-5, "step \(step)")
            try total.backward()
            for i in 0..<3 { #expect(Swift.abs(Double(tensors[i].grad!.item()) - w[i]) < 1e-6, "step \(step) task \(i)") }
        }
    }
}
