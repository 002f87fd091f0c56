// hydranet-bench-train: HydraNet against PyTorch eager on this CPU, in one run, interleaved
// round by round, each measurement in a fresh process (so its peak RSS is its own):
//   training img/s of a ResNet-18 HydraNet (age, gender, race; equal weighting; AdamW) at
//     32 and 64 px, batch 64, float32 and bfloat16 autocast, NCHW and channels-last;
//   eval img/s at batch 256 (HydraNet: the Predictor path, BatchNorm folded; PyTorch:
//     inference_mode), float32 and bfloat16;
//   batch-1 latency at 32 px, p50 and p99, NCHW and channels-last;
//   defaults against defaults: HydraNet's CPU Predictor (channels-last) vs PyTorch eager (NCHW);
//   the peak RSS of each training process;
//   end to end: the article's code as written vs `hydranet train` with its settings
//     (bench/article/compare.py), and one image answered from process start
//     (bench/predict/startup.py).
// Prints tables of medians with HydraNet ÷ PyTorch ratios.
//
//   swift run -c release hydranet-bench-train [--rounds 3] [--steps 10] [--threads 2] [--quick]
//       [--data UTKFACE] [--skip-end-to-end] [--bf16]
import Foundation
import HydraData
import HydraNet
import Torch
import TorchNN

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s[(s.count - 1) / 2] + s[s.count / 2]) / 2
}
func peakRSS() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
    return kb * 1024
}

let tasks = [HydraTask(name: "age", kind: .regression, standardize: false), HydraTask(name: "gender", kind: .binary),
             HydraTask(name: "race", kind: .multiclass(5))]

/// One measurement in this process: `mode` train / eval / latency.
func worker(mode: String, size: Int, batch: Int, steps: Int, threads: Int, precision: Precision, channelsLast: Bool) throws {
    Torch.numThreads = threads
    let g = Generator(seed: 0)
    let model = try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, generator: g), tasks: tasks, generator: g)
    let x = Tensor.randn([batch, 3, size, size], generator: g)
    var times: [Double] = []
    let warmup = 3
    if mode == "train" {
        var c = TrainingConfiguration()
        c.optimizer = .adamw
        c.precision = precision
        c.channelsLast = channelsLast
        let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("equal", tasks: tasks, source: nil),
                                  configuration: c)
        trainer.geometryEvery = 0
        let mask = Tensor.ones([batch], dtype: .bool)
        let b = Batch(images: x, labels: [Tensor.rand([batch], generator: g),
                                          Tensor.randint(0, 2, [batch], generator: g).to(dtype: .float32),
                                          Tensor.randint(0, 5, [batch], generator: g)],
                      masks: [mask, mask, mask], indices: Array(0..<batch))
        model.train()
        for i in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try trainer.step(b, columns: [0, 1, 2])
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
    } else {
        // The Predictor's path (BatchNorm folded, inference mode) on already-normalised input.
        let spec = ModelSpec(describing: model, input: .init(size: size))
        let predictor = try Predictor(model: model, spec: spec)
        predictor.precision = precision
        try predictor.setChannelsLast(channelsLast)
        let images = Tensor.randint(0, 256, [batch, 3, size, size], generator: g).to(dtype: .uint8)
        for i in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = predictor.predict(images: images)
            if i >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
        }
    }
    let sorted = times.sorted()
    let p99 = sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count - 1)).rounded()))]
    let line: [String: Double] = ["median": median(times), "p99": p99, "peak_rss": peakRSS()]
    say("RESULT " + String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
}

if let mode = argument("--role") {
    try worker(mode: mode, size: Int(argument("--size")!)!, batch: Int(argument("--batch")!)!,
               steps: Int(argument("--steps")!)!, threads: Int(argument("--threads")!)!,
               precision: Precision(rawValue: argument("--precision")!)!, channelsLast: argument("--layout") == "nhwc")
    exit(0)
}

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let me = Bundle.main.executablePath ?? CommandLine.arguments[0]
let python = root.appendingPathComponent(".venv/bin/python").path
let script = root.appendingPathComponent("bench/train/pytorch_train.py").path
let rounds = Int(argument("--rounds") ?? "") ?? 3
let steps = Int(argument("--steps") ?? "") ?? 10
let threads = Int(argument("--threads") ?? "") ?? 2

/// A process running `executable` with `threads` OpenMP threads.
func process(_ executable: String, _ arguments: [String]) -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["OMP_NUM_THREADS"] = String(threads)
    p.environment = env
    return p
}

func run(_ executable: String, _ arguments: [String]) throws -> [String: Double] {
    let p = process(executable, arguments)
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }) else {
        throw HydraError.invalidConfiguration("\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)")
    }
    return try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as! [String: Double]
}

struct Case: Hashable {
    let mode: String, size: Int, batch: Int, precision: String, layout: String
    var label: String {
        switch mode {
        case "train": "train \(size) px, batch \(batch), \(precision), \(layout)"
        case "eval": "eval \(size) px, batch \(batch), \(precision), \(layout)"
        default: "latency \(size) px, batch 1, \(precision), \(layout)"
        }
    }
}
var cases: [Case] = []
let quick = CommandLine.arguments.contains("--quick")
// bf16 rows only where the CPU computes bfloat16 natively (elsewhere it is emulated and
// several times slower than fp32, on both sides); --bf16 forces them.
let precisions = Precision.hasNativeBF16() || CommandLine.arguments.contains("--bf16") ? ["fp32", "bf16"] : ["fp32"]
if precisions.count == 1 {
    say("this CPU has neither AMX-BF16 nor AVX512-BF16: bf16 rows left out (--bf16 measures them anyway)")
}
for size in quick ? [64] : [32, 64] {
    for precision in precisions {
        for layout in ["nchw", "nhwc"] { cases.append(Case(mode: "train", size: size, batch: 64, precision: precision, layout: layout)) }
    }
}
for precision in precisions {
    for layout in ["nchw", "nhwc"] { cases.append(Case(mode: "eval", size: 64, batch: 256, precision: precision, layout: layout)) }
}
for precision in precisions {
    for layout in ["nchw", "nhwc"] { cases.append(Case(mode: "latency", size: 32, batch: 1, precision: precision, layout: layout)) }
}

say("ResNet-18 HydraNet vs PyTorch \(ProcessInfo.processInfo.environment["TORCH_VERSION"] ?? "2.11") eager, \(threads) threads, "
    + "\(steps) timed steps after 3 warm-up (latency: \(steps * 10)), \(rounds) interleaved rounds, medians")
nonisolated(unsafe) var results: [Case: (hydra: [[String: Double]], torch: [[String: Double]])] = [:]
for round in 1...rounds {
    for c in cases {
        let n = c.mode == "latency" ? steps * 10 : steps
        let common = ["--size", String(c.size), "--batch", String(c.batch), "--steps", String(n), "--threads", String(threads),
                      "--precision", c.precision, "--layout", c.layout]
        let h = try run(me, ["--role", c.mode] + common)
        let t = try run(python, [script, c.mode, String(c.size), String(c.batch), String(n), String(threads), c.precision, c.layout])
        var entry = results[c] ?? ([], [])
        entry.hydra.append(h)
        entry.torch.append(t)
        results[c] = entry
        say("round \(round): \(c.label): HydraNet \(String(format: "%.1f", h["median"]! * 1000)) ms, "
            + "PyTorch \(String(format: "%.1f", t["median"]! * 1000)) ms")
    }
}
say("")
say("| measurement | HydraNet | PyTorch eager | HydraNet speed ÷ PyTorch | peak RSS HydraNet / PyTorch (MiB) |")
say("|---|---:|---:|---:|---:|")
for c in cases {
    let r = results[c]!
    let h = median(r.hydra.map { $0["median"]! }), t = median(r.torch.map { $0["median"]! })
    let rss = c.mode == "train"
        ? String(format: "%.0f / %.0f", median(r.hydra.map { $0["peak_rss"]! }) / 1_048_576, median(r.torch.map { $0["peak_rss"]! }) / 1_048_576)
        : "—"
    if c.mode == "latency" {
        let hp = median(r.hydra.map { $0["p99"]! }), tp = median(r.torch.map { $0["p99"]! })
        say("| \(c.label) | p50 \(String(format: "%.2f", h * 1000)) ms, p99 \(String(format: "%.2f", hp * 1000)) ms | "
            + "p50 \(String(format: "%.2f", t * 1000)) ms, p99 \(String(format: "%.2f", tp * 1000)) ms | "
            + "\(String(format: "%.2f×", t / h)) (latency \(String(format: "%.2f", h / t)) of PyTorch's) | \(rss) |")
    } else {
        say("| \(c.label) | \(String(format: "%.1f", Double(c.batch) / h)) img/s | \(String(format: "%.1f", Double(c.batch) / t)) img/s | "
            + "\(String(format: "%.2f×", t / h)) | \(rss) |")
    }
}

// What users get by default: HydraNet's Predictor is channels-last on the CPU
// (`Predictor.prefersChannelsLast`), PyTorch eager is NCHW unless asked.
say("")
say("Defaults against defaults (HydraNet's CPU Predictor is channels-last; PyTorch eager is NCHW):")
for c in cases where c.mode != "train" && c.layout == "nhwc" {
    let nchw = Case(mode: c.mode, size: c.size, batch: c.batch, precision: c.precision, layout: "nchw")
    let h = results[c]!, t = results[nchw]!  // every nhwc case has its nchw twin
    let hm = median(h.hydra.map { $0["median"]! }), tm = median(t.torch.map { $0["median"]! })
    let label = c.mode == "eval" ? "eval \(c.size) px, batch \(c.batch), \(c.precision)" : "latency \(c.size) px, batch 1, \(c.precision)"
    say(c.mode == "eval"
        ? "  \(label): HydraNet \(String(format: "%.1f", Double(c.batch) / hm)) img/s, PyTorch \(String(format: "%.1f", Double(c.batch) / tm)) img/s: \(String(format: "%.2f×", tm / hm))"
        : "  \(label): HydraNet p50 \(String(format: "%.2f", hm * 1000)) ms, PyTorch \(String(format: "%.2f", tm * 1000)) ms: latency \(String(format: "%.2f", hm / tm)) of PyTorch's")
}

// End to end: the article's code as written against `hydranet train` with its settings
// (bench/article/compare.py), and one image answered from process start
// (bench/predict/startup.py), both interleaved round by round against their PyTorch side.
// They run the release `hydranet` binary; `--skip-end-to-end` leaves them out.
func passThrough(_ executable: String, _ arguments: [String]) throws {
    let p = process(executable, arguments)
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw HydraError.invalidConfiguration("\(executable) \(arguments.joined(separator: " ")) failed (\(p.terminationStatus))")
    }
}
if !CommandLine.arguments.contains("--skip-end-to-end") {
    let hydranet = root.appendingPathComponent(".build/release/hydranet").path
    guard FileManager.default.isExecutableFile(atPath: hydranet) else {
        say("\(hydranet) is not built: run `swift build -c release --product hydranet` (or pass --skip-end-to-end)")
        exit(1)
    }
    let faces = argument("--data") ?? root.appendingPathComponent("../shared/datasets/utkface").standardized.path
    say("")
    try passThrough(python, [root.appendingPathComponent("bench/article/compare.py").path, "--data", faces,
                             "--rounds", String(rounds), "--threads", String(threads)])
    // A checkpoint to answer with (a 1-epoch model on generated faces: the time does not depend on the weights).
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hydranet-bench-startup-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let train = Process()
    train.executableURL = URL(fileURLWithPath: hydranet)
    train.arguments = ["train", "--synthetic-count", "200", "--epochs", "1", "--quiet", "--tensorboard", "off",
                       "--output", scratch + "/run"]
    var env = ProcessInfo.processInfo.environment
    env["HYDRANET_CACHE"] = scratch + "/cache"
    train.environment = env
    train.standardOutput = FileHandle.nullDevice
    try train.run()
    train.waitUntilExit()
    guard train.terminationStatus == 0 else { throw HydraError.invalidConfiguration("training the startup model failed") }
    let image = try FileManager.default.contentsOfDirectory(atPath: faces).filter { $0.hasSuffix(".jpg") }.sorted().first!
    say("")
    try passThrough(python, [root.appendingPathComponent("bench/predict/startup.py").path, "--model", scratch + "/run/best.safetensors",
                             "--image", (faces as NSString).appendingPathComponent(image), "--rounds", String(max(rounds, 5))])
}
