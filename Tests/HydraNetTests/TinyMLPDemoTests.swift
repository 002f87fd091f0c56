import HydraNet
import Testing
import Torch

@Suite("demo")
struct TinyMLPDemoTests {
    @Test("the smoke demo fits its data: loss falls well below the target variance")
    func lossGoesDown() throws {
        var demo = TinyMLPDemo()
        demo.steps = 200
        let report = try demo.run()
        #expect(report.finalLoss < report.initialLoss)
        #expect(report.finalLoss < 0.25 * report.targetVariance, "\(report)")
    }

    @Test("the same seed gives the same losses")
    func deterministic() throws {
        var demo = TinyMLPDemo()
        demo.steps = 20
        // The demo draws from its own generator: other tests drawing meanwhile change nothing.
        let first = try demo.run()
        _ = Tensor.randn([100])
        let second = try demo.run()
        #expect(first.initialLoss == second.initialLoss && first.finalLoss == second.finalLoss,
                "the same seed must give the same losses: \(first) vs \(second)")
        demo.seed += 1
        #expect(try demo.run().initialLoss != first.initialLoss, "another seed gives other data")
    }

    @Test("invalid settings throw")
    func invalid() {
        var demo = TinyMLPDemo()
        demo.learningRate = 0
        #expect(throws: TorchError.self) { try demo.run() }
    }
}
