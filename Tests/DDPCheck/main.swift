// hydranet-ddp-check: a few data-parallel training steps on fixed data, for the
// distributed tests. Started as torchrun starts workers (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT in the environment) it trains rank RANK's share of each step's batch;
// without them, one process trains the whole batch. Rank 0 (or the single process) writes
// `init.safetensors` (a HydraNet checkpoint the PyTorch reference rebuilds),
// `batches.safetensors` (the data) and, at the end, `final.safetensors` (the weights) into
// the folder given.
//
//   hydranet-ddp-check DIR [--backbone convnet|mlp] [--weighting equal] [--source parameters|features]
//                          [--steps 5] [--batch 8] [--pause-after STEP] [--timeout SECONDS]
//                          [--sync-bn 1] [--accumulate PARTS]
import Foundation
import HydraData
import HydraNet
import Torch
import TorchNN

/// Unbuffered standard output (the tests read it while the process runs).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hydranet-ddp-check: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let dir = arguments.first, !dir.hasPrefix("--") else { fail("usage: hydranet-ddp-check DIR [options]") }
arguments.removeFirst()
var options: [String: String] = [:]
while arguments.count >= 2, arguments[0].hasPrefix("--") {
    options[String(arguments[0].dropFirst(2))] = arguments[1]
    arguments.removeFirst(2)
}
guard arguments.isEmpty else { fail("unexpected arguments \(arguments)") }
let backboneKind = options["backbone"] ?? "convnet"
let weightingName = options["weighting"] ?? "equal"
let source: GradientSource? = options["source"].map { s in guard let v = GradientSource(rawValue: s) else { fail("unknown source \(s)") }; return v }
let steps = Int(options["steps"] ?? "5") ?? 5
let batchSize = Int(options["batch"] ?? "8") ?? 8
let size = 12
Torch.numThreads = 1

do {
    let environment = try DistributedEnvironment.fromEnvironment()
    let group = try environment.map { try ProcessGroup(environment: $0, timeout: .seconds(Int(options["timeout"] ?? "60") ?? 60)) }
    let rank = group?.rank ?? 0, world = group?.worldSize ?? 1
    guard batchSize % world == 0 else { fail("batch \(batchSize) does not split over \(world) ranks") }

    // The same model and data on every rank and in the single process (own generators).
    let g = Generator(seed: 7)
    var age = HydraTask(name: "age", kind: .regression)
    age.targetMean = 40
    age.targetStd = 15
    let tasks = [age, HydraTask(name: "gender", kind: .binary), HydraTask(name: "race", kind: .multiclass(5))]
    let model: HydraNetModel
    switch backboneKind {
    case "convnet":
        model = try HydraNetModel(backbone: ConvNet(channels: [6, 12], generator: g), tasks: tasks, headHidden: [16],
                                  generator: g)
    case "mlp":
        model = try HydraNetModel(backbone: MLP(inputFeatures: 3 * size * size, hidden: [32, 24], generator: g),
                                  tasks: tasks, headHidden: [16], generator: g)
    default: fail("unknown backbone \(backboneKind)")
    }
    let data = Generator(seed: 11)
    let images = Tensor.randn([steps, batchSize, 3, size, size], generator: data)
    let ages = (Tensor.rand([steps, batchSize], generator: data) * 80 + 5).to(dtype: .float32)
    let genders = Tensor.randint(0, 2, [steps, batchSize], generator: data).to(dtype: .float32)
    let races = Tensor.randint(0, 5, [steps, batchSize], generator: data)
    if rank == 0 {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if backboneKind == "convnet" {
            try Checkpoint.save(model, input: ModelSpec.InputSpec(size: size), to: dir + "/init.safetensors")
        }
        try SafeTensors.save(["images": images, "age": ages, "gender": genders, "race": races],
                             to: dir + "/batches.safetensors")
    }

    var training = TrainingConfiguration()
    training.optimizer = .sgd
    training.learningRate = 0.05
    training.momentum = 0.9
    training.weightDecay = 0
    training.epochs = 1
    let weighting = try WeightingFactory.make(weightingName, tasks: tasks, source: source, seed: 3)
    let trainer = try Trainer(model: model, weighting: weighting, configuration: training)
    trainer.geometryEvery = 0
    if let group { try trainer.distribute(over: group, synchronizedBatchNorm: options["sync-bn"] == "1") }
    model.train()

    let share = batchSize / world
    let pauseAfter = options["pause-after"].flatMap(Int.init)
    for s in 0..<steps {
        let rows = Tensor(Array(Int64(rank * share)..<Int64((rank + 1) * share)))
        func pick(_ t: Tensor) -> Tensor { t[s].indexSelect(dim: 0, index: rows) }
        let mask = Tensor.ones([share], dtype: .bool)
        let batch = Batch(images: pick(images), labels: [pick(ages), pick(genders), pick(races)],
                          masks: [mask, mask, mask], indices: Array(0..<share))
        if let parts = options["accumulate"].flatMap(Int.init) {
            // Gradient accumulation by hand: the first parts-1 micro-batches under noSync, the
            // last one synchronised; each micro-batch's loss scaled by 1/parts.
            trainer.optimizer.zeroGrad()
            try trainer.dataParallel?.beforeForward()
            let micro = share / parts
            for k in 0..<parts {
                let part = Tensor(Array(Int64(k * micro)..<Int64((k + 1) * micro)))
                let outputs = model.outputs(batch.images.indexSelect(dim: 0, index: part))
                var loss = Tensor.zeros([])
                for (t, task) in model.tasks.enumerated() {
                    let m = batch.masks[t].indexSelect(dim: 0, index: part)
                    loss = loss + task.maskedLoss(output: outputs[t], target: batch.labels[t].indexSelect(dim: 0, index: part),
                                                  mask: m)
                }
                loss = loss * (1.0 / Double(parts))
                if k < parts - 1, let ddp = trainer.dataParallel {
                    try ddp.noSync { try loss.backward() }
                } else {
                    try loss.backward()
                }
            }
            try trainer.dataParallel?.finishGradientSync()
            trainer.optimizer.step()
            if rank == 0 { say("step \(s + 1): accumulated \(parts)") }
            continue
        }
        let r = try trainer.step(batch, columns: [0, 1, 2])
        if rank == 0 {
            say("step \(s + 1): " + r.losses.map { $0.map { String(format: "%.6f", $0) } ?? "-" }.joined(separator: " "))
        }
        if pauseAfter == s + 1 {
            say("paused")
            Thread.sleep(forTimeInterval: 3600)
        }
    }
    if rank == 0 { try model.stateDict().save(safetensors: dir + "/final.safetensors") }
} catch {
    fail("\(error)")
}
