// hydranet-bench-ddp: data-parallel scaling on this machine, with PyTorch side by side in
// the same run, interleaved round by round. A ResNet-18 HydraNet (age, gender, race; equal
// weighting; SGD) trains on random 32×32 images with a global batch of 64:
//   1 process × 2 threads            — HydraNet, then PyTorch eager
//   2 processes × 1 thread (gloo DDP) — HydraNet with overlap, HydraNet without overlap
//                                        (every bucket after backward), PyTorch DDP (torchrun)
// Each worker times its steps after a warm-up and reports medians; the DDP workers also
// report the time blocked in allreduce after backward (communication not hidden behind
// compute) and how many buckets started during backward.
//
//   swift run -c release hydranet-bench-ddp [--rounds 3] [--steps 12] [--size 32] [--batch 64]
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

let rounds = Int(argument("--rounds") ?? "") ?? 3
let steps = Int(argument("--steps") ?? "") ?? 12
let warmup = 3
let size = Int(argument("--size") ?? "") ?? 32
let globalBatch = Int(argument("--batch") ?? "") ?? 64
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s[(s.count - 1) / 2] + s[s.count / 2]) / 2
}

/// One worker: trains `steps` timed steps and prints a JSON line of medians.
func worker(threads: Int, overlap: Bool) throws {
    Torch.numThreads = threads
    let environment = try DistributedEnvironment.fromEnvironment()
    let group = try environment.map { try ProcessGroup(environment: $0, timeout: .seconds(120)) }
    let world = group?.worldSize ?? 1, rank = group?.rank ?? 0
    let g = Generator(seed: 0)
    let tasks = [HydraTask(name: "age", kind: .regression, standardize: false), HydraTask(name: "gender", kind: .binary),
                 HydraTask(name: "race", kind: .multiclass(5))]
    let model = try HydraNetModel(backbone: ResNet(depth: .resnet18, numClasses: nil, smallImageStem: false, generator: g),
                                  tasks: tasks, generator: g)
    var training = TrainingConfiguration()
    training.optimizer = .sgd
    training.learningRate = 0.01
    training.weightDecay = 0
    let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("equal", tasks: tasks, source: nil),
                              configuration: training)
    trainer.geometryEvery = 0
    if let group { try trainer.distribute(over: group) }
    trainer.dataParallel?.overlapsBackward = overlap
    model.train()
    let n = globalBatch / world
    let data = Generator(seed: UInt64(1 + rank))
    let images = Tensor.randn([n, 3, size, size], generator: data)
    let mask = Tensor.ones([n], dtype: .bool)
    let batch = Batch(images: images, labels: [Tensor.rand([n], generator: data),
                                               Tensor.randint(0, 2, [n], generator: data).to(dtype: .float32),
                                               Tensor.randint(0, 5, [n], generator: data)],
                      masks: [mask, mask, mask], indices: Array(0..<n))
    var times: [Double] = [], waits: [Double] = [], copies: [Double] = [], launched: [Double] = []
    for s in 0..<(warmup + steps) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try trainer.step(batch, columns: [0, 1, 2])
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        guard s >= warmup else { continue }
        times.append(dt)
        if let stats = trainer.dataParallel?.lastStep {
            waits.append(stats.waitSeconds)
            copies.append(stats.copySeconds)
            launched.append(Double(stats.bucketsLaunchedInBackward) / Double(max(stats.buckets, 1)))
        }
    }
    if rank == 0 {
        let line: [String: Double] = ["step": median(times), "wait": median(waits), "copy": median(copies),
                                      "launched": median(launched), "buckets": Double(trainer.dataParallel?.buckets.count ?? 0)]
        let data = try JSONSerialization.data(withJSONObject: line.filter { !$0.value.isNaN }, options: [.sortedKeys])
        say("RESULT " + String(decoding: data, as: UTF8.self))
    }
}

/// Runs a command and returns the RESULT line's numbers.
func measure(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> [String: Double] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
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

if let role = argument("--role") {
    try worker(threads: Int(argument("--threads") ?? "1") ?? 1, overlap: role != "no-overlap")
    exit(0)
}

let me = Bundle.main.executablePath ?? CommandLine.arguments[0]
let python = root.appendingPathComponent(".venv/bin/python").path
let script = root.appendingPathComponent("bench/ddp/pytorch_ddp.py").path
let common = ["--steps", String(steps), "--size", String(size), "--batch", String(globalBatch)]
struct Config { let name: String; let run: () throws -> [String: Double] }
func launched(_ role: String) throws -> [String: Double] {
    let port = try LocalLauncher.freePort()
    var results: [[String: Double]] = []
    let workers = try (0..<2).map { rank -> (Process, Pipe) in
        let p = Process()
        p.executableURL = URL(fileURLWithPath: me)
        p.arguments = ["--role", role, "--threads", "1"] + common
        var env = ProcessInfo.processInfo.environment
        for (k, v) in try DistributedEnvironment(masterAddress: "127.0.0.1", masterPort: port, rank: rank, worldSize: 2).variables {
            env[k] = v
        }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        return (p, out)
    }
    for (p, out) in workers {
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }) {
            results.append(try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as! [String: Double])
        }
        guard p.terminationStatus == 0 else { throw HydraError.invalidConfiguration("worker failed:\n\(text)") }
    }
    guard let r = results.first else { throw HydraError.invalidConfiguration("no RESULT from rank 0") }
    return r
}
let configs = [
    Config(name: "HydraNet, 1 process × 2 threads") { try measure(me, ["--role", "single", "--threads", "2"] + common) },
    Config(name: "PyTorch eager, 1 process × 2 threads") {
        try measure(python, [script, "--threads", "2"] + common, environment: ["OMP_NUM_THREADS": "2"])
    },
    Config(name: "HydraNet DDP, 2 processes × 1 thread, overlap") { try launched("overlap") },
    Config(name: "HydraNet DDP, 2 processes × 1 thread, no overlap") { try launched("no-overlap") },
    Config(name: "PyTorch DDP (torchrun), 2 processes × 1 thread") {
        let port = try LocalLauncher.freePort()
        return try measure(python, ["-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", String(port),
                                    script, "--threads", "1"] + common, environment: ["OMP_NUM_THREADS": "1"])
    },
]
say("ResNet-18 HydraNet, \(size)×\(size), global batch \(globalBatch), \(steps) timed steps after \(warmup) warm-up, "
    + "\(rounds) interleaved rounds (medians)")
nonisolated(unsafe) var samples: [String: [[String: Double]]] = [:]
for round in 1...rounds {
    for c in configs {
        let r = try c.run()
        samples[c.name, default: []].append(r)
        say("round \(round): \(c.name): \(String(format: "%.1f", Double(globalBatch) / r["step"]!)) img/s")
    }
}
func value(_ name: String, _ key: String) -> Double { median(samples[name]!.compactMap { $0[key] }) }
let single = Double(globalBatch) / value(configs[0].name, "step")
say("")
say("| configuration | step ms | img/s | vs HydraNet 1×2 | blocked in allreduce after backward, ms | flatten/copy ms | buckets started in backward |")
say("|---|---:|---:|---:|---:|---:|---:|")
for c in configs {
    let step = value(c.name, "step")
    let wait = samples[c.name]!.contains { $0["wait"] != nil } ? String(format: "%.1f", value(c.name, "wait") * 1000) : "—"
    let copy = samples[c.name]!.contains { $0["copy"] != nil } ? String(format: "%.1f", value(c.name, "copy") * 1000) : "—"
    let launched = samples[c.name]!.contains { $0["launched"] != nil }
        ? String(format: "%.0f%% of %.0f", value(c.name, "launched") * 100, value(c.name, "buckets")) : "—"
    say("| \(c.name) | \(String(format: "%.1f", step * 1000)) | \(String(format: "%.1f", Double(globalBatch) / step)) | "
        + "\(String(format: "%.2f×", Double(globalBatch) / step / single)) | \(wait) | \(copy) | \(launched) |")
}
