import Foundation
import HydraNet
import Testing
import Torch
import TorchNN

/// The fused inference path: BatchNorm folding into convolutions, and inference mode.
@Suite("fused inference")
struct FusedInferenceTests {
    static let tasks = [HydraTask(name: "age", kind: .regression, standardize: false),
                        HydraTask(name: "race", kind: .multiclass(5)),
                        HydraTask(name: "gender", kind: .binary)]

    enum Kind: String, CaseIterable { case resnetSmallStem, resnetImageNetStem, convnet }

    /// A model with non-trivial BatchNorm statistics and affine parameters (a few train-mode
    /// forwards, random γ and β), in eval mode. Everything comes from `Generator(seed:)`.
    static func model(_ kind: Kind, size: Int) throws -> HydraNetModel {
        let g = Generator(seed: 7)
        let (backbone, features): (Module, Int) = switch kind {
        case .resnetSmallStem: (ResNet(depth: .resnet18, numClasses: nil, smallImageStem: true, generator: g), 512)
        case .resnetImageNetStem: (ResNet(depth: .resnet18, numClasses: nil, smallImageStem: false, generator: g), 512)
        case .convnet: (ConvNet(channels: [8, 16], generator: g), 16)
        }
        let model = try HydraNetModel(backbone: backbone, featureCount: features, tasks: tasks, headHidden: [16], generator: g)
        withNoGrad {
            for m in model.modules() {
                guard let bn = m as? BatchNorm else { continue }
                bn.weight!.copy_(Tensor.rand([bn.numFeatures], generator: g) + 0.5)
                bn.bias!.copy_(Tensor.randn([bn.numFeatures], generator: g) * 0.2)
            }
            model.train()
            for _ in 0..<3 { _ = model.outputs(Tensor.randn([4, 3, size, size], generator: g) * 2 + 0.5) }
        }
        model.eval()
        return model
    }

    static func maxAbs(_ t: Tensor) -> Double { t.abs().max().item() }

    @Test("fused outputs match unfused ones; the original is unchanged", arguments: Kind.allCases)
    func fusedMatches(kind: Kind) throws {
        let size = kind == .resnetImageNetStem ? 32 : 16
        let model = try Self.model(kind, size: size)
        let before = model.stateDict().map { ($0.key, $0.value.clone()) }
        let spec = ModelSpec(describing: model, input: .init(size: size))
        let fused = try model.fusedCopy(spec: spec)

        let batchNorms = fused.modules().compactMap { $0 as? BatchNorm }
        #expect(!batchNorms.isEmpty && batchNorms.allSatisfy { $0.isFolded })
        let x = Tensor.randn([3, 3, size, size], generator: Generator(seed: 11))
        let (reference, outputs) = withNoGrad { (model.outputs(x), fused.outputs(x)) }
        // At 32 px the ImageNet stem leaves layer 4 at 1×1: three of its 3×3 convolutions
        // (all but the strided first) took the centre-tap shortcut; at 16 px with the small
        // stem layer 4 is 2×2, and none did.
        let shortcuts = fused.modules().compactMap { $0 as? Conv2d }.filter { $0.cachedCentreTap != nil }.count
        #expect(shortcuts == (kind == .resnetImageNetStem ? 3 : 0))
        for (r, o) in zip(reference, outputs) {
            let scale = max(1, Self.maxAbs(r))
            #expect(Self.maxAbs(r - o) <= 1e-4 * scale, "\(kind): max |Δ| \(Self.maxAbs(r - o)) at scale \(scale)")
        }

        // The original: same state dict bit for bit, no BatchNorm folded, still trainable.
        let after = model.stateDict()
        #expect(after.keys == before.map(\.0))
        for (key, value) in before { #expect(after[key]!.equal(value), "\(key) changed") }
        #expect(model.modules().compactMap { $0 as? BatchNorm }.allSatisfy { !$0.isFolded })
        #expect(model.parameters().allSatisfy { $0.requiresGrad })
        #expect(fused.parameters().allSatisfy { !$0.requiresGrad })
        // No storage shared: changing the copy leaves the original alone.
        withNoGrad { for p in fused.parameters() { p.mul_(0) } }
        for (key, value) in before { #expect(model.stateDict()[key]!.equal(value), "\(key) shares storage") }
    }

    @Test("folding is idempotent and needs eval mode to have run")
    func foldTwice() throws {
        let model = try Self.model(.convnet, size: 16)
        let spec = ModelSpec(describing: model, input: .init(size: 16))
        let fused = try model.fusedCopy(spec: spec)
        #expect(BatchNormFolding.foldInPlace(fused) == 0)
        let fresh = try spec.makeModel(generator: Generator(seed: 1))
        fresh.eval()
        #expect(BatchNormFolding.foldInPlace(fresh) == 2)
    }

    @Test("inference mode: tensors made inside are inference tensors that need no grad")
    func inferenceMode() throws {
        let model = try Self.model(.convnet, size: 16)
        let fused = try model.fusedCopy(spec: ModelSpec(describing: model, input: .init(size: 16)))
        let x = Tensor.randn([2, 3, 16, 16], generator: Generator(seed: 3))
        #expect(!Autograd.isInferenceModeEnabled)
        let (outputs, unfused, enabled, gradEnabled) = withInferenceMode {
            (fused.outputs(x), model.outputs(x), Autograd.isInferenceModeEnabled, Autograd.isGradEnabled)
        }
        #expect(enabled && !gradEnabled)
        #expect(!Autograd.isInferenceModeEnabled && Autograd.isGradEnabled)
        for t in outputs + unfused { #expect(t.isInference && !t.requiresGrad) }
        #expect(!x.isInference)
        // Reading them afterwards (what predictions do) works outside inference mode.
        #expect(Self.maxAbs(outputs[0] - unfused[0]) <= 1e-4 * max(1, Self.maxAbs(unfused[0])))
        // Parameters and buffers are untouched by inference-mode forwards.
        #expect(model.parameters().allSatisfy { !$0.isInference && $0.requiresGrad })
        #expect(model.namedBuffers().allSatisfy { !$0.1.isInference })
    }

    @Test("Predictor scores with a fused copy by default, with the same predictions")
    func predictor() throws {
        let model = try Self.model(.resnetSmallStem, size: 16)
        let spec = ModelSpec(describing: model, input: .init(size: 16))
        let before = model.stateDict().map { ($0.key, $0.value.clone()) }
        let fusedPredictor = try Predictor(model: model, spec: spec)
        let plain = try Predictor(model: model, spec: spec, fused: false)
        #expect(fusedPredictor.isFused && !plain.isFused && fusedPredictor.model !== model)
        let images = Tensor.randint(0, 256, [4, 3, 16, 16], generator: Generator(seed: 5)).to(dtype: .uint8)
        let a = fusedPredictor.predict(images: images), b = plain.predict(images: images)
        #expect(a.count == 4 && b.count == 4)
        for (p, q) in zip(a, b) {
            guard case let .value(u)? = p["age"], case let .value(v)? = q["age"] else {
                Issue.record("no age prediction")
                continue
            }
            #expect(abs(u - v) <= 1e-4 * max(1, abs(v)))
            guard case let .multiclass(pu, _)? = p["race"], case let .multiclass(pv, _)? = q["race"] else {
                Issue.record("no race prediction")
                continue
            }
            for (s, t) in zip(pu, pv) { #expect(abs(s - t) <= 1e-4) }
        }
        for (key, value) in model.stateDict() { #expect(before.first { $0.0 == key }!.1.equal(value)) }
        #expect(!Autograd.isInferenceModeEnabled)
    }
}
