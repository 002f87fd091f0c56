import Foundation
import HydraNet
import Testing
import Torch

@Suite("masked losses")
struct MaskedLossTests {
    static let tasks: [HydraTask] = [
        HydraTask(name: "age", kind: .regression, standardize: false),
        HydraTask(name: "age_mse", kind: .regression, loss: .mse, standardize: false),
        HydraTask(name: "age_huber", kind: .regression, loss: .huber(delta: 0.5), standardize: false),
        HydraTask(name: "gender", kind: .binary, loss: .binaryCrossEntropy(posWeight: [2])),
        HydraTask(name: "race", kind: .multiclass(5), loss: .crossEntropy(classWeights: [1, 2, 0.5, 1, 3], labelSmoothing: 0.1)),
        HydraTask(name: "tags", kind: .multilabel(4)),
    ]

    /// (output B×k, target, reference loss of a subset) for a task.
    static func sample(_ task: HydraTask, rows: Int) -> (Tensor, Tensor) {
        let g = Generator(seed: UInt64(rows))
        switch task.kind {
        case .regression: return (Tensor.randn([rows, 1], generator: g), Tensor.randn([rows], generator: g) * 10)
        case .binary:
            return (Tensor.randn([rows, 1], generator: g), Tensor.randint(0, 2, [rows], generator: g).to(dtype: .float32))
        case let .multiclass(n): return (Tensor.randn([rows, n], generator: g), Tensor.randint(0, n, [rows], generator: g))
        case let .multilabel(n):
            return (Tensor.randn([rows, n], generator: g), Tensor.randint(0, 2, [rows, n], generator: g).to(dtype: .float32))
        }
    }

    /// The loss PyTorch computes on exactly the given rows (the reference).
    static func reference(_ task: HydraTask, _ output: Tensor, _ target: Tensor) -> Tensor {
        switch task.loss {
        case .l1: Functional.l1Loss(output.reshaped([-1]), target)
        case .mse: Functional.mseLoss(output.reshaped([-1]), target)
        case let .huber(delta): Functional.huberLoss(output.reshaped([-1]), target, delta: delta)
        case let .binaryCrossEntropy(pw):
            Functional.binaryCrossEntropyWithLogits(output, target.reshaped(output.shape),
                                                    posWeight: pw.map { Tensor($0.map(Float.init)) })
        case let .crossEntropy(w, s):
            Functional.crossEntropy(output, target, weight: w.map { Tensor($0.map(Float.init)) }, labelSmoothing: s)
        }
    }

    @Test("half the labels missing: the loss is PyTorch's loss over the present half, and gradients reach only them",
          arguments: tasks)
    func halfMissing(_ task: HydraTask) throws {
        let (output, target) = Self.sample(task, rows: 8)
        let mask = Tensor([true, false, true, true, false, false, true, false])
        // Garbage in the missing rows must not matter (NaN, out-of-range class).
        let garbage = target.dtype == .int64 ? target.maskedFill(mask.logicalNot(), 99)
            : target.maskedFill(mask.logicalNot().reshaped(target.rank > 1 ? [8, 1] : [8]), .nan)
        let x = output.clone().requiringGrad()
        let loss = task.maskedLoss(output: x, target: garbage, mask: mask)
        let rows = mask.nonzero().reshaped([-1])
        let expected = Self.reference(task, output.indexSelect(dim: 0, index: rows), target.indexSelect(dim: 0, index: rows))
        #expect(Swift.abs(loss.item() - expected.item()) <= 1e-5 * Swift.max(1, Swift.abs(expected.item())), "\(task.name)")
        try loss.backward()
        let g = try #require(x.grad)
        #expect(g.isFinite().all().item() == 1)
        let missing = mask.logicalNot().nonzero().reshaped([-1])
        #expect(g.indexSelect(dim: 0, index: missing).abs().sum().item() == 0)
    }

    @Test("no label present: zero loss, zero gradient, no NaN", arguments: tasks)
    func nonepresent(_ task: HydraTask) throws {
        let (output, target) = Self.sample(task, rows: 4)
        let x = output.clone().requiringGrad()
        let loss = task.maskedLoss(output: x, target: target, mask: Tensor([false, false, false, false]))
        #expect(loss.item() == 0)
        try loss.backward()
        #expect(x.grad.map { $0.abs().sum().item() } ?? 0 == 0)
    }

    @Test("regression standardisation: the loss sees standardized targets, metrics report original units")
    func standardisation() throws {
        var task = HydraTask(name: "age", kind: .regression)
        task.fitStandardization([10, 20, 30, 40])
        #expect(Swift.abs(task.targetMean - 25) < 1e-12)
        let std = task.targetStd
        let output = Tensor([Float(0), Float(1)], shape: [2, 1])
        let loss = task.maskedLoss(output: output, target: Tensor([Float(25), Float(25 + std)]), mask: Tensor([true, true]))
        #expect(loss.item() < 1e-6)
        let metrics = MetricAccumulator(task: task)
        metrics.add(output: output, target: Tensor([Float(26), Float(25 + std)]), mask: Tensor([true, true]))
        let mae = try #require(metrics.compute().first { $0.name == "mae" })
        #expect(Swift.abs(mae.value - 0.5) < 1e-4)
        #expect(!mae.higherIsBetter)
    }

    @Test("metrics: accuracy, F1, AUROC, macro-F1 and multilabel F1 on known cases")
    func metrics() {
        let binary = MetricAccumulator(task: HydraTask(name: "g", kind: .binary))
        // logits → p: [0.88, 0.27, 0.73, 0.12]; targets [1, 1, 0, 0]
        binary.add(output: Tensor([Float(2), -1, 1, -2], shape: [4, 1]), target: Tensor([Float(1), 1, 0, 0]),
                   mask: Tensor([true, true, true, true]))
        let b = Dictionary(uniqueKeysWithValues: binary.compute().map { ($0.name, $0.value) })
        #expect(b["accuracy"] == 0.5)
        #expect(b["f1"] == 0.5)
        #expect(b["auroc"] == 0.75)

        let multi = MetricAccumulator(task: HydraTask(name: "r", kind: .multiclass(3)))
        let logits = Tensor([Float(5), 0, 0, 0, 5, 0, 0, 5, 0, 0, 0, 5], shape: [4, 3])  // predicts 0, 1, 1, 2
        multi.add(output: logits, target: Tensor([Int64(0), 1, 2, 2]), mask: Tensor([true, true, true, true]))
        let m = Dictionary(uniqueKeysWithValues: multi.compute().map { ($0.name, $0.value) })
        #expect(m["accuracy"] == 0.75)
        // per class F1: c0 1, c1 2/3, c2 2/3
        #expect(Swift.abs(m["macro_f1"]! - (1 + 2.0 / 3 + 2.0 / 3) / 3) < 1e-12)
        #expect(multi.confusionMatrix(classes: 3) == [[1, 0, 0], [0, 1, 0], [0, 1, 1]])

        let tags = MetricAccumulator(task: HydraTask(name: "t", kind: .multilabel(2), classNames: ["a", "b"]))
        tags.add(output: Tensor([Float(3), -3, 3, 3], shape: [2, 2]), target: Tensor([Float(1), 0, 0, 1], shape: [2, 2]),
                 mask: Tensor([true, true]))
        let t = Dictionary(uniqueKeysWithValues: tags.compute().map { ($0.name, $0.value) })
        #expect(t["f1_a"] == 2.0 / 3)
        #expect(t["f1_b"] == 1)
        let expectedMean: Double = (2.0 / 3 + 1) / 2
        #expect(t["mean_f1"] == expectedMean)
    }

    @Test("invalid task definitions are rejected")
    func invalidTasks() {
        #expect(throws: HydraError.self) { try HydraTask(name: "a", kind: .regression, loss: .crossEntropy(classWeights: nil, labelSmoothing: 0)).validate() }
        #expect(throws: HydraError.self) { try HydraTask(name: "a.b", kind: .regression).validate() }
        #expect(throws: HydraError.self) { try HydraTask(name: "r", kind: .multiclass(3), loss: .crossEntropy(classWeights: [1], labelSmoothing: 0)).validate() }
        #expect(throws: HydraError.self) { try HydraTask(name: "r", kind: .multiclass(3), loss: .crossEntropy(classWeights: nil, labelSmoothing: 1.5)).validate() }
    }
}

@Suite("Δm")
struct DeltaMTests {
    @Test("both sign conventions on a worked example")
    func worked() throws {
        let metrics = [
            MetricValue(task: "age", name: "mae", value: 4.5, higherIsBetter: false),  // 10 % better
            MetricValue(task: "gender", name: "accuracy", value: 0.88, higherIsBetter: true),  // 10 % better
            MetricValue(task: "race", name: "accuracy", value: 0.60, higherIsBetter: true),  // 25 % worse
            MetricValue(task: "race", name: "macro_f1", value: 0.55, higherIsBetter: true),  // 10 % better
        ]
        let baseline = ["age/mae": 5.0, "gender/accuracy": 0.8, "race/accuracy": 0.8, "race/macro_f1": 0.5]
        // Δm = 100/4 · (−0.1 − 0.1 + 0.25 − 0.1) = −1.25
        #expect(Swift.abs(try DeltaM.percent(metrics, baseline: baseline) - -1.25) < 1e-9)
        // Δp = mean(0.1, 0.1, mean(−0.25, 0.1)) = (0.1 + 0.1 − 0.075)/3
        #expect(Swift.abs(try DeltaM.libMTL(metrics, baseline: baseline) - 0.125 / 3) < 1e-9)
        #expect(throws: HydraError.self) { try DeltaM.percent(metrics, baseline: ["other/x": 1]) }
        #expect(throws: HydraError.self) { try DeltaM.percent(metrics, baseline: ["age/mae": 0]) }
        // A zero baseline metric is skipped, the others still count.
        #expect(Swift.abs(try DeltaM.percent(metrics, baseline: ["age/mae": 5.0, "race/macro_f1": 0]) - -10) < 1e-9)
    }

    @Test("baseline files round-trip; malformed ones throw")
    func files() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let path = dir + "/baseline-\(getpid()).json"
        try DeltaM.saveBaseline([MetricValue(task: "a", name: "mae", value: 2, higherIsBetter: false)], to: path)
        #expect(try DeltaM.loadBaseline(path) == ["a/mae": 2])
        try "{\"a/mae\": \"two\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: HydraError.self) { try DeltaM.loadBaseline(path) }
        #expect(throws: HydraError.self) { try DeltaM.loadBaseline(dir + "/missing-\(getpid()).json") }
    }
}
