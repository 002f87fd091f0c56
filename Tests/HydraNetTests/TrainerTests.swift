import Foundation
import HydraData
import HydraNet
import Testing
import Torch
import TorchNN

/// A Gram-based aggregator for tests: weights 1/‖gᵢ‖ (non-linear in G, so it tells two
/// different Gram matrices apart).
final class InverseNormAggregator: GradientAggregator {
    let name = "inverse-norm"
    func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let g = jacobian.to(dtype: .float64)
        let norms = g.norm(dims: [1]).scalars(as: Double.self)
        let w = norms.map { $0 > 0 ? 1 / $0 : 0 }
        let update = Tensor(w).to(dtype: jacobian.dtype).unsqueezed(0).matmul(jacobian).reshaped([-1])
        return Aggregation(update: update, weights: w)
    }
}

/// A linear backbone (features = x·Wᵀ) for the features-vs-exact check.
final class LinearBackbone: Module, Backbone {
    let linear: Linear
    let featureCount: Int
    init(inputs: Int, features: Int, generator: Generator? = nil) {
        linear = Linear(inputs, features, bias: false, generator: generator)
        featureCount = features
        super.init()
    }
    override func forward(_ x: Tensor) -> Tensor { linear(x) }
}

@Suite("trainer")
struct TrainerTests {
    static let tasks = [HydraTask(name: "y", kind: .regression, standardize: false),
                        HydraTask(name: "c", kind: .multiclass(3)),
                        HydraTask(name: "b", kind: .binary)]

    static func batch(rows: Int, inputs: Int, missing: Bool = false, seed: UInt64 = 0) -> Batch {
        // Orthonormal rows: with X·Xᵀ = I, the Gram matrix of parameter gradients of a linear
        // backbone equals that of the feature gradients.
        let g = Generator(seed: seed)
        let x = Tensor.eye(rows, inputs)
        let y = Tensor.randn([rows], generator: g)
        let c = Tensor.randint(0, 3, [rows], generator: g)
        let b = Tensor.randint(0, 2, [rows], generator: g).to(dtype: .float32)
        let all = Tensor.ones([rows], dtype: .bool)
        let masks = [all, missing ? Tensor.zeros([rows], dtype: .bool) : all, all]
        return Batch(images: x, labels: [y, c, b], masks: masks, indices: Array(0..<rows))
    }

    static func model(seed: UInt64) throws -> HydraNetModel {
        let g = Generator(seed: seed)
        return try HydraNetModel(backbone: LinearBackbone(inputs: 12, features: 5, generator: g), tasks: tasks,
                                 headHidden: [4], generator: g)
    }

    static func config() -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.optimizer = .sgd
        c.learningRate = 0.1
        c.momentum = 0
        c.weightDecay = 0
        return c
    }

    @Test("features mode equals exact mode when the backbone is one linear layer (orthonormal inputs)",
          arguments: [false, true])
    func featuresEqualsExact(missingTask: Bool) throws {
        let batch = Self.batch(rows: 6, inputs: 12, missing: missingTask)
        // One initialisation copied into both (two seeded constructions could interleave
        // with other tests' draws from the global generator).
        let exactModel = try Self.model(seed: 1), featureModel = try Self.model(seed: 1)
        try featureModel.loadStateDict(StateDict(exactModel.stateDict().map { ($0.key, $0.value.clone()) }))
        let exact = try Trainer(model: exactModel, weighting: .gradient(InverseNormAggregator(), source: .exact),
                                configuration: Self.config())
        let features = try Trainer(model: featureModel, weighting: .gradient(InverseNormAggregator(), source: .features),
                                   configuration: Self.config())
        for _ in 0..<3 {
            let a = try exact.step(batch, columns: [0, 1, 2])
            let b = try features.step(batch, columns: [0, 1, 2])
            for (wa, wb) in zip(a.weights, b.weights) {
                #expect((wa == nil) == (wb == nil))
                if let wa, let wb { #expect(Swift.abs(wa - wb) <= 1e-5 * Swift.abs(wa)) }
            }
            if missingTask { #expect(a.weights[1] == nil && a.losses[1] == nil) }
        }
        for (k, v) in exactModel.stateDict() {
            expectClose(featureModel.stateDict()[k]!, v, rtol: 1e-5, atol: 1e-6, k)
        }
    }

    @Test("gradient methods with source 'losses' are rejected with a message")
    func impossibleCombination() throws {
        #expect(throws: HydraError.self) {
            try Trainer(model: try Self.model(seed: 0), weighting: .gradient(InverseNormAggregator(), source: .losses),
                        configuration: Self.config())
        }
        var bad = Self.config()
        bad.learningRate = -1
        #expect(throws: HydraError.self) {
            try Trainer(model: try Self.model(seed: 0), weighting: .loss(EqualWeighting()), configuration: bad)
        }
    }

    @Test("a batch where a task has no label: that task contributes nothing and nothing becomes NaN",
          arguments: ["equal", "uncertainty", "dwa", "famo", "rlw", "geometric", "exact", "features"])
    func missingTaskEveryMethod(_ method: String) throws {
        let model = try Self.model(seed: 2)
        let weighting: WeightingMethod = switch method {
        case "equal": .loss(EqualWeighting())
        case "uncertainty": .loss(UncertaintyWeighting(tasks: Self.tasks))
        case "dwa": .loss(try DynamicWeightAverage(taskCount: 3))
        case "famo": .loss(try FAMO(taskCount: 3))
        case "rlw": .loss(RandomLossWeighting(seed: 1))
        case "geometric": .loss(GeometricMeanWeighting())
        case "exact": .gradient(InverseNormAggregator(), source: .exact)
        default: .gradient(InverseNormAggregator(), source: .features)
        }
        let trainer = try Trainer(model: model, weighting: weighting, configuration: Self.config())
        let headBefore = Dictionary(uniqueKeysWithValues: model.heads["c"]!.stateDict().map { ($0.key, $0.value.clone()) })
        let r = try trainer.step(Self.batch(rows: 6, inputs: 12, missing: true), columns: [0, 1, 2])
        #expect(r.losses[1] == nil && r.weights[1] == nil)
        for p in model.parameters() { #expect(p.isFinite().all().item() == 1) }
        for (k, v) in model.heads["c"]!.stateDict() { #expect(v.equal(headBefore[k]!), "head c changed: \(k)") }
    }
}

@Suite("trainer input checks and freezing")
struct TrainerInputTests {
    static func convModel() throws -> HydraNetModel {
        let g = Generator(seed: 21)
        return try HydraNetModel(backbone: ConvNet(channels: [4, 8], generator: g), tasks: TrainerTests.tasks,
                                 headHidden: [8], generator: g)
    }

    static func imageBatch(_ n: Int, classes: [Int64]? = nil) -> Batch {
        let all = Tensor.ones([n], dtype: .bool)
        let g = Generator(seed: UInt64(n))
        return Batch(images: Tensor.randn([n, 3, 8, 8], generator: g),
                     labels: [Tensor.randn([n], generator: g), Tensor(classes ?? Array(repeating: Int64(1), count: n)),
                              Tensor.zeros([n])],
                     masks: [all, all, all], indices: Array(0..<n))
    }

    @Test("malformed batches throw instead of trapping")
    func malformed() throws {
        let trainer = try Trainer(model: try Self.convModel(), weighting: .loss(EqualWeighting()),
                                  configuration: TrainerTests.config())
        #expect(throws: HydraError.self) { try trainer.step(Self.imageBatch(1), columns: [0, 1, 2]) }
        #expect(throws: HydraError.self) { try trainer.step(Self.imageBatch(4, classes: [0, 1, 7, 2]), columns: [0, 1, 2]) }
        #expect(throws: HydraError.self) { try trainer.step(Self.imageBatch(4, classes: [0, -1, 1, 2]), columns: [0, 1, 2]) }
        #expect(throws: HydraError.self) { try trainer.step(Self.imageBatch(4), columns: [0, 1]) }
        #expect(throws: HydraError.self) { try trainer.step(Self.imageBatch(4), columns: [0, 1, 5]) }
        try trainer.step(Self.imageBatch(4), columns: [0, 1, 2])
    }

    @Test("a frozen backbone stays fixed (in every gradient mode); unfreezing later makes it train",
          arguments: ["loss", "exact", "features"])
    func freezing(_ mode: String) throws {
        let model = try Self.convModel()
        model.freeze(backbone: true)
        let weighting: WeightingMethod = mode == "loss" ? .loss(EqualWeighting())
            : .gradient(InverseNormAggregator(), source: mode == "exact" ? .exact : .features)
        let trainer = try Trainer(model: model, weighting: weighting, configuration: TrainerTests.config())
        // stateDict() shares storage with the model: snapshot copies.
        let backbone = Dictionary(uniqueKeysWithValues: model.backbone.stateDict().filter { $0.key.hasSuffix("weight") }
            .map { ($0.key, $0.value.clone()) })
        let head = Dictionary(uniqueKeysWithValues: model.heads["y"]!.stateDict().map { ($0.key, $0.value.clone()) })
        try trainer.step(Self.imageBatch(4), columns: [0, 1, 2])
        for (k, v) in backbone { #expect(model.backbone.stateDict()[k]!.equal(v), "frozen \(k) changed") }
        #expect(model.heads["y"]!.stateDict().contains { !$0.value.equal(head[$0.key]!) }, "heads must train")
        model.unfreeze(backbone: true)
        try trainer.step(Self.imageBatch(4), columns: [0, 1, 2])
        #expect(backbone.contains { !model.backbone.stateDict()[$0.key]!.equal($0.value) }, "unfrozen backbone must train")
    }

    @Test("incomplete or mis-shaped optimizer state is refused before anything changes")
    func optimizerState() throws {
        let p = Tensor.zeros([3]).requiringGrad()
        let adam = try Adam([p])
        #expect(throws: TorchError.self) { try adam.loadStateDict(StateDict([("state.0.0.exp_avg", Tensor.zeros([3]))])) }
        #expect(throws: TorchError.self) {
            try adam.loadStateDict(StateDict([("state.0.0.exp_avg", Tensor.zeros([])), ("state.0.0.exp_avg_sq", Tensor.zeros([3])),
                                              ("state.0.0.step", Tensor(1.0))]))
        }
        #expect(throws: TorchError.self) { try adam.loadStateDict(StateDict([("state.0.0.momentum", Tensor.zeros([3]))])) }
        #expect(throws: TorchError.self) { try adam.loadStateDict(StateDict([("param_groups.0.lr", Tensor.zeros([2]))])) }
        p.grad = Tensor.ones([3])
        adam.step()
    }
}
