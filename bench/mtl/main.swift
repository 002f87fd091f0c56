// hydranet-bench-mtl: per-step cost of every weighting method relative to equal weighting
// on the HydraNet ResNet-18 (32×32, batch 64, CPU), in exact and features modes, plus the
// same equal-weighting step in PyTorch measured in the same run.
//
//   swift run -c release hydranet-bench-mtl [--steps N] [--batch B] [--size S] [--methods a,b,...]
//
// Prints a Markdown table (median seconds per step and the ratio to equal weighting).
import Foundation
import HydraNet

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let steps = Int(argument("--steps") ?? "") ?? 5
let batchSize = Int(argument("--batch") ?? "") ?? 64
let size = Int(argument("--size") ?? "") ?? 32
let threads = Torch.numThreads
let tasks = [HydraTask(name: "age", kind: .regression), HydraTask(name: "gender", kind: .binary),
             HydraTask(name: "race", kind: .multiclass(5))]
let requested = argument("--methods")?.split(separator: ",").map(String.init)
let lossMethods = ["equal", "uncertainty", "dwa", "rlw", "famo", "geometric"]
let gradientMethods = GradientAggregators.names

let rng = Generator(seed: 0)
let images = Tensor.randn([batchSize, 3, size, size], generator: rng)
let batch = Batch(images: images,
                  labels: [Tensor.rand([batchSize], generator: rng) * 80,
                           Tensor.randint(0, 2, [batchSize], generator: rng).to(dtype: .float32),
                           Tensor.randint(0, 5, [batchSize], generator: rng)],
                  masks: Array(repeating: Tensor.ones([batchSize], dtype: .bool), count: 3),
                  indices: Array(0..<batchSize))

func makeTrainer(_ method: String, _ source: GradientSource?) throws -> Trainer {
    let g = Generator(seed: 0)
    let model = try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, generator: g), tasks: tasks,
                                  generator: g)
    let weighting = try WeightingFactory.make(method, tasks: tasks, source: source, seed: 0)
    return try Trainer(model: model, weighting: weighting, configuration: TrainingConfiguration())
}

func timed(_ trainer: Trainer) throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try trainer.step(batch, columns: [0, 1, 2])
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Steps of `method` interleaved with steps of equal weighting, so that both see the same
/// machine load: returns (median s/step of the method, median of the per-pair ratios).
let reference = try makeTrainer("equal", nil)
for _ in 0..<2 { _ = try timed(reference) }
@MainActor func measure(_ method: String, _ source: GradientSource?) throws -> (seconds: Double, ratio: Double) {
    let trainer = try makeTrainer(method, source)
    var times: [Double] = [], ratios: [Double] = []
    for i in 0..<(steps + 2) {
        let e = try timed(reference)
        let t = try timed(trainer)
        if i >= 2 {
            times.append(t)
            ratios.append(t / e)
        }
    }
    return (median(times), median(ratios))
}

func pytorchStep() -> Double? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let python = root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [root.appendingPathComponent("bench/mtl/pytorch_step.py").path, String(size), String(batchSize),
                   String(steps), String(threads)]
    let out = Pipe()
    p.standardOutput = out
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double] else { return nil }
    return object["seconds_per_step"]
}

print("HydraNet ResNet-18, \(size)×\(size), batch \(batchSize), \(threads) threads, median of \(steps) steps;")
print("each method's steps are interleaved with equal-weighting steps and the ratio is the median per-pair ratio")
var equalTimes: [Double] = []
for _ in 0..<steps { equalTimes.append(try timed(reference)) }
let equal = median(equalTimes)
if let torch = pytorchStep() {
    print(String(format: "equal weighting: HydraNet %.3f s/step, PyTorch %.3f s/step (HydraNet/PyTorch %.2f)", equal, torch,
                 equal / torch))
} else {
    print(String(format: "equal weighting: HydraNet %.3f s/step (PyTorch reference unavailable: run scripts/setup --test)", equal))
}
print("")
print("| method | mode | s/step | × equal |")
print("|---|---|---|---|")
print(String(format: "| equal | losses | %.3f | 1.00 |", equal))
for m in lossMethods.dropFirst() where requested?.contains(m) ?? true {
    let r = try measure(m, nil)
    print(String(format: "| %@ | losses | %.3f | %.2f |", m, r.seconds, r.ratio))
}
for m in gradientMethods where requested?.contains(m) ?? true {
    for source in [GradientSource.exact, .features] {
        let r = try measure(m, source)
        print(String(format: "| %@ | %@ | %.3f | %.2f |", m, source.rawValue, r.seconds, r.ratio))
    }
}
