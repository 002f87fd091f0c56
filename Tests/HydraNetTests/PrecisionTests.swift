import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport
import Torch
import TorchNN

/// bfloat16 autocast and channels-last: against PyTorch's own autocast (the test venv's torch
/// rebuilds the same model from its checkpoint), and against the float32 / NCHW paths.
@Suite("precision and memory format", .serialized)
struct PrecisionTests {
    static let tasks = [HydraTask(name: "age", kind: .regression, standardize: false),
                        HydraTask(name: "race", kind: .multiclass(5)), HydraTask(name: "gender", kind: .binary)]

    static func model(seed: UInt64 = 7) throws -> HydraNetModel {
        let g = Generator(seed: seed)
        return try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, smallImageStem: true, generator: g),
                                 featureCount: 512, tasks: tasks, headHidden: [32], generator: g)
    }

    static func batch(_ n: Int, size: Int, seed: UInt64) -> Batch {
        let g = Generator(seed: seed)
        let mask = Tensor.ones([n], dtype: .bool)
        return Batch(images: Tensor.randn([n, 3, size, size], generator: g),
                     labels: [Tensor.randn([n], generator: g), Tensor.randint(0, 5, [n], generator: g),
                              Tensor.randint(0, 2, [n], generator: g).to(dtype: .float32)],
                     masks: [mask, mask, mask], indices: Array(0..<n))
    }

    @Test("forward and backward equal PyTorch's on the same model: float32 and bf16 autocast, NCHW and channels-last",
          arguments: [(Precision.fp32, false), (.fp32, true), (.bf16, false), (.bf16, true)])
    func matchesPyTorch(_ precision: Precision, _ channelsLast: Bool) throws {
        let scratch = try ScratchFolder("autocast")
        defer { scratch.cleanUp() }
        let model = try Self.model()
        model.train()
        let size = 16
        try Checkpoint.save(model, input: .init(size: size), to: scratch.path("model.safetensors"))
        let b = Self.batch(6, size: size, seed: 3)
        if channelsLast {
            let values = model.stateDict().map { ($0.key, $0.value.clone()) }
            try model.convertToChannelsLast()
            // Only the strides change: same names, shapes and values, 3×3 kernels now NHWC.
            for (name, v) in values { #expect(maxAbsDiff(v, model.stateDict()[name]!) == 0, "\(name)") }
            #expect(model.namedParameters().filter { $0.1.rank == 4 && $0.1.size(3) == 3 }.allSatisfy { $0.1.isChannelsLast })
        }
        let x = channelsLast ? b.images.channelsLast() : b.images
        #expect(!isAutocastEnabled())
        let outputs = withPrecision(precision) { () -> [Tensor] in
            #expect(isAutocastEnabled() == (precision == .bf16))
            return model.outputs(x)
        }
        #expect(!isAutocastEnabled())
        let expectedType: DType = precision == .bf16 ? .bfloat16 : .float32
        #expect(outputs.allSatisfy { $0.dtype == expectedType }, "\(outputs.map(\.dtype))")
        var loss = Tensor.zeros([])
        for (t, task) in model.tasks.enumerated() {
            loss = loss + task.maskedLoss(output: outputs[t].to(dtype: .float32), target: b.labels[t], mask: b.masks[t])
        }
        try loss.backward()
        var saved: [String: Tensor] = ["x": b.images, "age": b.labels[0], "race": b.labels[1], "gender": b.labels[2]]
        for (t, task) in model.tasks.enumerated() { saved["out.\(task.name)"] = outputs[t].to(dtype: .float32) }
        for (name, p) in model.namedParameters() {
            let g = try #require(p.grad, "no gradient for \(name)")
            #expect(g.dtype == .float32, "\(name)")
            saved["grad.\(name)"] = g
        }
        try SafeTensors.save(saved, to: scratch.path("swift.safetensors"))

        // PyTorch with as many threads as this process: oneDNN's channels-last weight-gradient
        // reductions are ordered by thread, and some of this model's gradients cancel enough
        // for the order to show.
        let report = try PythonReference.run(["-c", """
            import contextlib, json, sys
            sys.path.insert(0, "python")
            import torch, torch.nn.functional as F
            from safetensors.torch import load_file
            from hydranet_torch import load
            torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))
            model, spec = load(sys.argv[1]); model.train()
            s = load_file(sys.argv[2]); x = s["x"]
            if sys.argv[4] == "1":
                model = model.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
            autocast = torch.autocast("cpu", dtype=torch.bfloat16) if sys.argv[3] == "bf16" else contextlib.nullcontext()
            with autocast:
                f = model["backbone"](x)
                out = {t["name"]: model["heads"][t["name"]](f) for t in spec["tasks"]}
            dtypes = sorted({str(o.dtype) for o in out.values()})
            loss = (F.l1_loss(out["age"].float().reshape(-1), s["age"]) + F.cross_entropy(out["race"].float(), s["race"])
                    + F.binary_cross_entropy_with_logits(out["gender"].float().reshape(-1), s["gender"]))
            loss.backward()
            rel = lambda a, b: ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()
            outs = max(rel(s["out." + k], v.float().detach()) for k, v in out.items())
            grads = {n: rel(s["grad." + n], p.grad) for n, p in model.named_parameters()}
            worst = max(grads, key=grads.get)
            print(json.dumps({"dtypes": dtypes, "outputs": outs, "grad": grads[worst], "worst": worst, "count": len(grads)}))
            """, scratch.path("model.safetensors"), scratch.path("swift.safetensors"), precision.rawValue,
            channelsLast ? "1" : "0"], environment: ["OMP_NUM_THREADS": String(Torch.numThreads)])
        let r = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any], "\(report)")
        #expect(r["dtypes"] as? [String] == [precision == .bf16 ? "torch.bfloat16" : "torch.float32"], "\(report)")
        #expect(r["count"] as? Int == model.namedParameters().count, "\(report)")
        // The same kernels on the same values: float32 agrees to rounding, bf16 to a few bf16 ulps.
        let (outputBound, gradientBound) = precision == .bf16 ? (1e-2, 2e-2) : (1e-5, 1e-5)
        #expect((r["outputs"] as? Double ?? 1) <= outputBound, "outputs: \(report)")
        #expect((r["grad"] as? Double ?? 1) <= gradientBound, "gradients: \(report)")
    }

    @Test("Trainer with bf16: weights and optimizer state stay float32; the step is close to the float32 step")
    func bf16TrainingStep() throws {
        var steps: [[String: Tensor]] = []
        for precision in [Precision.fp32, .bf16] {
            let model = try Self.model()
            var c = TrainingConfiguration()
            c.optimizer = .sgd
            c.learningRate = 0.1
            c.momentum = 0
            c.weightDecay = 0
            c.precision = precision
            let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("equal", tasks: Self.tasks, source: nil),
                                      configuration: c)
            let before = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.value.clone()) })
            let r = try trainer.step(Self.batch(8, size: 16, seed: 4), columns: [0, 1, 2])
            #expect(r.losses.allSatisfy { $0 != nil && $0!.isFinite })
            #expect(model.parameters().allSatisfy { $0.dtype == .float32 && $0.grad?.dtype ?? .float32 == .float32 })
            var both = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.value) })
            for (k, v) in before { both["before." + k] = v }
            steps.append(both)
        }
        // The update each precision made, over all weights: bf16 rounding (8 significant bits)
        // perturbs it, it must not turn it.
        var dot = 0.0, n32 = 0.0, n16 = 0.0, diff = 0.0
        for (name, p) in steps[0] where !name.hasPrefix("before.") && p.dtype == .float32 {
            let d32 = (p - steps[0]["before." + name]!).to(dtype: .float64)
            let d16 = (steps[1][name]! - steps[1]["before." + name]!).to(dtype: .float64)
            dot += (d32 * d16).sum().item()
            n32 += d32.square().sum().item()
            n16 += d16.square().sum().item()
            diff += (d32 - d16).square().sum().item()
        }
        let cosine = dot / (n32.squareRoot() * n16.squareRoot()), relative = (diff / n32).squareRoot()
        #expect(relative > 0, "bf16 changed nothing: autocast was not on")
        #expect(cosine > 0.98 && relative < 0.2, "bf16 update vs float32's: cosine \(cosine), relative difference \(relative)")
    }

    @Test("channels-last in the Trainer and the Predictor: weights converted once, answers equal NCHW's")
    func channelsLastPaths() throws {
        var predictions: [[[String: HydraNetModel.Prediction]]] = []
        for channelsLast in [false, true] {
            let model = try Self.model()
            var c = TrainingConfiguration()
            c.channelsLast = channelsLast
            let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("equal", tasks: Self.tasks, source: nil),
                                      configuration: c)
            // (A 1×1 kernel is laid out the same either way; 3×3 kernels tell the layouts apart.)
            let convs = model.namedParameters().filter { $0.1.rank == 4 && $0.1.size(3) == 3 }
            #expect(!convs.isEmpty && convs.allSatisfy { $0.1.isChannelsLast == channelsLast })
            let r = try trainer.step(Self.batch(8, size: 16, seed: 10), columns: [0, 1, 2])
            #expect(r.losses.allSatisfy { $0 != nil && $0!.isFinite })
            #expect(convs.allSatisfy { $0.1.isChannelsLast == channelsLast }, "the optimizer step changed the layout")
            // Scored with the NCHW-trained weights both ways, so that only the layout differs.
            let reference = try Self.model()
            let predictor = try Predictor(model: reference, spec: ModelSpec(describing: reference, input: .init(size: 16)))
            #expect(predictor.channelsLast, "a fused predictor on the CPU is channels-last by default")
            try predictor.setChannelsLast(channelsLast)
            let predictorConvs = predictor.model.namedParameters().filter { $0.1.rank == 4 && $0.1.size(3) == 3 }
            #expect(!predictorConvs.isEmpty && predictorConvs.allSatisfy { $0.1.isChannelsLast == channelsLast })
            let images = Tensor.randint(0, 256, [5, 3, 16, 16], generator: Generator(seed: 2)).to(dtype: .uint8)
            predictions.append(predictor.predict(images: images))
        }
        for (p, q) in zip(predictions[0], predictions[1]) {
            for (task, a) in p {
                if case let .multiclass(x, _) = a, case let .multiclass(y, _) = q[task]! {
                    #expect(zip(x, y).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(task): \(x) vs \(y)")
                }
            }
        }
    }

    /// The small stem at 16 px (layer 4 at 2×2), and the ImageNet stem at 32 px, where layer 4
    /// is 1×1 and takes the centre-tap shortcut under autocast.
    @Test("Predictor with bf16: the fused model's answers agree with float32's (same classes, close probabilities)",
          arguments: [(FusedInferenceTests.Kind.resnetSmallStem, 16), (.resnetImageNetStem, 32)])
    func predictorBF16(kind: FusedInferenceTests.Kind, size: Int) throws {
        let model = try FusedInferenceTests.model(kind, size: size)
        let spec = ModelSpec(describing: model, input: .init(size: size))
        let fp32 = try Predictor(model: model, spec: spec)
        let bf16 = try Predictor(model: model, spec: spec)
        bf16.precision = .bf16
        #expect(fp32.isFused && bf16.isFused)
        let images = Tensor.randint(0, 256, [32, 3, size, size], generator: Generator(seed: 5)).to(dtype: .uint8)
        let a = fp32.predict(images: images), b = bf16.predict(images: images)
        let shortcuts = bf16.model.modules().compactMap { $0 as? Conv2d }.filter { $0.cachedCentreTap != nil }.count
        #expect(shortcuts == (kind == .resnetImageNetStem ? 3 : 0))
        var worst = 0.0, same = 0, total = 0, differs = false
        for (p, q) in zip(a, b) {
            if case let .multiclass(x, l1) = p["race"]!, case let .multiclass(y, l2) = q["race"]! {
                worst = max(worst, zip(x, y).map { abs($0 - $1) }.max()!)
                differs = differs || zip(x, y).contains { $0 != $1 }
                total += 1
                if l1 == l2 { same += 1 }
            }
        }
        #expect(total == 32 && differs, "bf16 gave float32's exact numbers: autocast was not on")
        #expect(worst <= 0.05, "probabilities differ by up to \(worst)")
        #expect(same >= 28, "only \(same) of 32 classes agree")
    }
}
