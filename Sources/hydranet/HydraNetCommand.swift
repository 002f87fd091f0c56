import ArgumentParser
import Foundation
import HydraNet
import Torch

@main
struct HydraNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydranet",
        abstract: "Multi-task deep learning in Swift on libtorch.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Finetune.self, Smoke.self, Info.self],
        defaultSubcommand: Train.self
    )
}

/// Options shared by commands that compute.
struct EngineOptions: ParsableArguments {
    @Option(help: "Device: cpu, cuda, cuda:N or auto.")
    var device = "auto"

    @Option(help: "Intra-op threads (default: libtorch's choice).")
    var threads: Int?

    func apply() throws -> Device {
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive") }
            Torch.numThreads = threads
        }
        do {
            return try Device(parsing: device)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the engine's version, devices and threads.")

    func run() throws {
        print(engineSummary(device: Device.isCUDAAvailable ? .cuda(0) : .cpu))
    }
}

struct Smoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small MLP on generated data and show the loss going down (a smoke test of the engine).")

    @OptionGroup var engine: EngineOptions

    @Option(help: "Training steps.")
    var steps = 300

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func run() throws {
        let device = try engine.apply()
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        print(engineSummary(device: device))
        var demo = TinyMLPDemo()
        demo.steps = steps
        demo.seed = seed
        demo.device = device
        print("Training a \(demo.inputs)-\(demo.hidden)-1 MLP on \(demo.samples) generated samples (SGD, momentum \(demo.momentum))")
        let start = Date()
        let report = try demo.run { step, loss in
            print(String(format: "  step %4d  loss %.5f", step, loss))
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "loss %.5f -> %.5f (target variance %.5f) in %.2f s", report.initialLoss,
                     report.finalLoss, report.targetVariance, seconds))
        guard report.finalLoss < report.initialLoss else {
            throw ValidationError("the loss did not go down: the engine is not working correctly")
        }
    }
}

func engineSummary(device: Device) -> String {
    let cuda = Device.isCUDAAvailable ? "\(Device.cudaDeviceCount) CUDA device(s)" : "no CUDA"
    return "HydraNet on libtorch \(Torch.version): device \(device), \(cuda), "
        + "\(Torch.numThreads) intra-op / \(Torch.numInteropThreads) inter-op threads"
}
