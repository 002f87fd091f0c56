// hydranet-bench-fused: eval throughput and batch-1 latency of the inference paths, in one
// run, interleaved round by round, on a ResNet-18 HydraNet (CPU):
//   before   — the old path: HydraNetModel.predict under no-grad, BatchNorm unfused;
//   inference — Predictor(fused: false): inference mode, BatchNorm unfused;
//   fused    — Predictor (default): inference mode, BatchNorm folded into the convolutions.
// Every path includes normalization of the same uint8 images and the conversion of outputs
// to predictions.
//
//   swift run -c release hydranet-bench-fused [--model M.safetensors] [--size 32] [--batch 256]
//       [--rounds 5] [--latency-rounds 40]
//
// Without --model, a seeded ResNet-18 (small-image stem) with non-trivial BatchNorm statistics.
import Foundation
import HydraNet

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let batchSize = Int(argument("--batch") ?? "") ?? 256
let rounds = Int(argument("--rounds") ?? "") ?? 5
let latencyRounds = Int(argument("--latency-rounds") ?? "") ?? 40
let tasks = [HydraTask(name: "age", kind: .regression, standardize: false), HydraTask(name: "gender", kind: .binary),
             HydraTask(name: "race", kind: .multiclass(5))]

let model: HydraNetModel
let spec: ModelSpec
if let path = argument("--model") {
    (model, spec) = try Checkpoint.loadModel(path)
} else {
    let size = Int(argument("--size") ?? "") ?? 32
    let g = Generator(seed: 0)
    model = try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, smallImageStem: true, generator: g),
                              tasks: tasks, generator: g)
    withNoGrad {
        model.train()
        for _ in 0..<2 { _ = model.outputs(Tensor.randn([16, 3, size, size], generator: g)) }
    }
    model.eval()
    spec = ModelSpec(describing: model, input: .init(size: size))
}
let input = spec.input!
let fused = try Predictor(model: model, spec: spec)
let plain = try Predictor(model: model, spec: spec, fused: false)
precondition(fused.isFused && !plain.isFused)

let h = input.transform.height, w = input.transform.width
let rng = Generator(seed: 1)
let big = Tensor.randint(0, 256, [batchSize, 3, h, w], generator: rng).to(dtype: .uint8)
let one = Tensor.randint(0, 256, [1, 3, h, w], generator: rng).to(dtype: .uint8)

let paths: [(String, (Tensor) -> [[String: HydraNetModel.Prediction]])] = [
    ("before (no-grad, unfused)", { images in
        withNoGrad { model.predict(input.normalization.apply(images)) }
    }),
    ("inference mode, unfused", { plain.predict(images: $0) }),
    ("inference mode, fused", { fused.predict(images: $0) }),
]

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

// Warm-up: one of each.
for (_, run) in paths { _ = run(big); _ = run(one) }
var throughput = Array(repeating: [Double](), count: paths.count)
var latency = Array(repeating: [Double](), count: paths.count)
for _ in 0..<rounds {
    for (i, (_, run)) in paths.enumerated() { throughput[i].append(seconds { _ = run(big) }) }
}
for _ in 0..<latencyRounds {
    for (i, (_, run)) in paths.enumerated() { latency[i].append(seconds { _ = run(one) }) }
}

print("ResNet-18 HydraNet \(spec.inputSummary), \(Torch.numThreads) threads, batch \(batchSize) × \(rounds) rounds, "
      + "batch 1 × \(latencyRounds) rounds, interleaved; medians")
print("| path | batch \(batchSize) images/s | vs before | batch 1 ms | vs before |")
print("|---|---:|---:|---:|---:|")
let base = (median(throughput[0]), median(latency[0]))
for (i, (name, _)) in paths.enumerated() {
    let t = median(throughput[i]), l = median(latency[i])
    print(String(format: "| %@ | %.1f | %.2f× | %.2f | %.2f× |", name, Double(batchSize) / t, base.0 / t, l * 1000, l / base.1))
}
