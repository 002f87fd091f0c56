import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport
import Torch
import TorchNN

/// Flip test-time augmentation (``HydraNetModel/testTimeFlip``) and class balancing
/// (``ClassBalance``), the parts of the UTKFace recipe that are not flags of libtorch.
@Suite("test-time flip and class balance")
struct TestTimeFlipTests {
    static func maxAbs(_ t: Tensor) -> Double { t.abs().max().item() }

    @Test("eval outputs are the mean of the image's and its mirror's; training forwards are untouched")
    func flipAverages() throws {
        let model = try FusedInferenceTests.model(.convnet, size: 16)
        let x = Tensor.randn([5, 3, 16, 16], generator: Generator(seed: 21))
        let (plain, mirrored) = withNoGrad { (model.outputs(x), model.outputs(x.flipped([3]))) }
        model.testTimeFlip = true
        let averaged = withNoGrad { model.outputs(x) }
        for (t, (a, (p, m))) in zip(averaged, zip(plain, mirrored)).enumerated() {
            let expected = (p + m) * 0.5
            let scale = max(1, Self.maxAbs(expected))
            #expect(Self.maxAbs(a - expected) <= 1e-5 * scale, "head \(t): max |Δ| \(Self.maxAbs(a - expected))")
            // The model is not mirror-symmetric: averaging must change the outputs.
            #expect(Self.maxAbs(a - p) > 1e-4, "head \(t): averaged outputs equal the plain ones")
        }
        // Training mode: one plain forward, with or without the flag.
        model.train()
        let withFlip = withNoGrad { model.outputs(x) }
        model.testTimeFlip = false
        let without = withNoGrad { model.outputs(x) }
        for (a, b) in zip(withFlip, without) { #expect(Self.maxAbs(a - b) == 0) }
    }

    @Test("flip TTA travels in the checkpoint to the fused predictor")
    func flipInCheckpoint() throws {
        let scratch = try ScratchFolder("tta-checkpoint")
        defer { scratch.cleanUp() }
        let model = try FusedInferenceTests.model(.convnet, size: 16)
        let input = ModelSpec.InputSpec(size: 16)
        let plainPath = scratch.path("plain.safetensors"), flipPath = scratch.path("flip.safetensors")
        try Checkpoint.save(model, input: input, to: plainPath)
        model.testTimeFlip = true
        try Checkpoint.save(model, input: input, to: flipPath)
        #expect(!(try Checkpoint.spec(at: plainPath)).testTimeFlip)
        #expect(try Checkpoint.spec(at: flipPath).testTimeFlip)
        let (loaded, _) = try Checkpoint.loadModel(flipPath)
        #expect(loaded.testTimeFlip)

        let images = (Tensor.rand([4, 3, 16, 16], generator: Generator(seed: 8)) * 255).to(dtype: .uint8)
        let predictor = try Predictor(checkpoint: flipPath)
        #expect(predictor.isFused && predictor.testTimeFlip)
        let x = input.normalization.apply(images)
        let expected = withNoGrad { model.outputs(x) }
        let reference = model.predictions(fromOutputs: expected)
        let predicted = predictor.predict(images: images)
        for (r, p) in zip(reference, predicted) {
            guard case let .value(a)? = r["age"], case let .value(b)? = p["age"] else {
                Issue.record("age is not a value")
                return
            }
            #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "age \(a) vs \(b)")
        }
        // Turned off on the predictor: the plain model's predictions.
        predictor.testTimeFlip = false
        model.testTimeFlip = false
        let plain = model.predictions(fromOutputs: withNoGrad { model.outputs(x) })
        for (r, p) in zip(plain, predictor.predict(images: images)) {
            guard case let .value(a)? = r["age"], case let .value(b)? = p["age"] else {
                Issue.record("age is not a value")
                return
            }
            #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "age \(a) vs \(b)")
        }
    }

    @Test("class weights: (n / (k · n_c))^p, 1 for an empty class, none for .none")
    func classWeights() {
        let counts = [600, 300, 100, 0]
        #expect(ClassBalance.none.weights(counts: counts) == nil)
        let inverse = ClassBalance.inverse.weights(counts: counts)!
        let sqrt = ClassBalance.sqrt.weights(counts: counts)!
        let expected: [Double] = [1000.0 / 2400, 1000.0 / 1200, 1000.0 / 400, 1]
        for i in 0..<4 {
            #expect(abs(inverse[i] - expected[i]) < 1e-12)
            #expect(abs(sqrt[i] - (i == 3 ? 1 : expected[i].squareRoot())) < 1e-12)
        }
        #expect(ClassBalance.sqrt.weights(counts: [0, 0]) == nil)
    }

    @Test("a run fits each new multiclass task's class weights on its training split and smooths its labels")
    func runFitsClassWeights() throws {
        let scratch = try ScratchFolder("run-class-balance")
        defer { scratch.cleanUp() }
        var c = ExperimentRunTests.configuration(scratch, epochs: 1)
        c.classBalance = .inverse
        c.labelSmoothing = 0.2
        c.testTimeFlip = true
        let run = try ExperimentRun(c, log: { _ in })
        #expect(run.model.testTimeFlip)
        let race = try #require(run.model.tasks.first { $0.name == "race" })
        let column = try #require(run.data.tasks.firstIndex { $0.name == "race" })
        var counts = [0, 0, 0, 0, 0]
        let labels = run.data.labels[column].to(dtype: .int64).scalars(as: Int64.self)
        let masks = run.data.masks[column].to(dtype: .int64).scalars(as: Int64.self)
        for row in run.splits.train where masks[row] != 0 { counts[Int(labels[row])] += 1 }
        guard case let .crossEntropy(weights?, smoothing) = race.loss else {
            Issue.record("race loss \(race.loss) has no class weights")
            return
        }
        #expect(smoothing == 0.2)
        #expect(weights == ClassBalance.inverse.weights(counts: counts), "\(weights) for counts \(counts)")
        // Regression and binary tasks keep their losses.
        #expect(run.model.tasks.first { $0.name == "age" }?.loss == .l1)
        #expect(run.model.tasks.first { $0.name == "gender" }?.loss == .binaryCrossEntropy(posWeight: nil))
    }
}
