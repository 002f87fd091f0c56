import ArgumentParser
import Foundation
import HydraNet
import Torch

@main
struct HydraNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydranet",
        abstract: "Multi-task deep learning in Swift on libtorch.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Finetune.self, Compare.self, Serve.self, Smoke.self,
                      Info.self],
        defaultSubcommand: Train.self
    )

    /// Expands `--config FILE` (``ConfigFile``) into the file's flags before parsing.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        do {
            arguments = try ConfigFile.expand(arguments, subcommands: Set(subcommandNames.keys)) { path in
                knownFlags(of: path.last.flatMap { subcommandNames[$0] } ?? configuration.defaultSubcommand)
            }
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
        main(arguments)
    }

    /// The subcommands by name.
    static var subcommandNames: [String: ParsableCommand.Type] {
        Dictionary(uniqueKeysWithValues: configuration.subcommands.map { ($0._commandName, $0) })
    }

    /// The long flag names `command` takes (from its help text), for checking a config file's
    /// keys; nil (accept any) if none can be found.
    static func knownFlags(of command: ParsableCommand.Type?) -> Set<String>? {
        guard let command else { return nil }
        let help = helpMessage(for: command, includeHidden: true, columns: 10_000)
        var names = Set<String>()
        for line in help.split(separator: "\n") {
            // Option lines: "  --epochs <epochs>   …", "  -h, --help   …",
            // "  --flip-tta/--no-flip-tta   …" (both names of an inverted flag).
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("-") else { continue }
            for word in trimmed.split(separator: " ").prefix(2) {
                for part in word.split(separator: "/") where part.hasPrefix("--") {
                    let name = part.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "-" }
                    if !name.isEmpty { names.insert(String(name)) }
                }
            }
        }
        names.subtract(["help", "version", "config"])
        return names.isEmpty ? nil : names
    }
}

/// `--config FILE`: shown in a command's help; the file itself is expanded into flags by
/// ``HydraNetCommand/main()`` before parsing, so this option never holds a value.
struct ConfigFileOption: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML file of flag values (keys are long flag names: 'epochs: 5', "
        + "'task: [age:regression]', 'small-stem: true'); flags on the command line override it.", valueName: "run.yaml"))
    var config: String?
}

/// Options shared by commands that compute.
struct EngineOptions: ParsableArguments {
    @Option(help: "Device: cpu, cuda, cuda:N or auto.")
    var device = "auto"

    @Option(help: "Intra-op threads (default: libtorch's choice).")
    var threads: Int?

    @Option(help: ArgumentHelp("Forward arithmetic: fp32, or bf16 (bfloat16 autocast: mixed precision, float32 weights; fast on "
        + "CPUs with AMX or AVX-512 BF16, slow elsewhere). Default: fp32."))
    var precision: String?

    @Flag(inversion: .prefixedNo,
          help: ArgumentHelp("Lay out images and convolution weights channels-last (NHWC). Default: off for train (on for the "
            + "UTKFace recipe); on for predict, evaluate and serve on the CPU."))
    var channelsLast: Bool?

    @Flag(inversion: .prefixedNo,
          help: ArgumentHelp("Flip test-time augmentation: average each image's outputs with its mirror image's. Default: the model's "
            + "own setting (train: on for the UTKFace recipe)."))
    var flipTta: Bool?

    /// The parsed `--precision` (nil when not given).
    func parsedPrecision() throws -> Precision? {
        guard let precision else { return nil }
        guard let p = Precision(rawValue: precision.lowercased()) else {
            throw ValidationError("unknown precision '\(precision)': use fp32 or bf16")
        }
        return p
    }

    /// Applies the given `--precision`, `--channels-last` and `--flip-tta` to a run's configuration.
    func apply(to c: inout RunConfiguration) throws {
        if let p = try parsedPrecision() {
            c.training.precision = p
            warnIfEmulated(p, on: c.device)
        }
        if let channelsLast { c.training.channelsLast = channelsLast }
        if let flipTta { c.testTimeFlip = flipTta }
    }

    /// Applies `--precision`, `--[no-]channels-last` and `--[no-]flip-tta` to a predictor.
    func configure(_ predictor: Predictor) throws {
        predictor.precision = try parsedPrecision() ?? .fp32
        warnIfEmulated(predictor.precision, on: predictor.device)
        if let channelsLast { try predictor.setChannelsLast(channelsLast) }
        if let flipTta { predictor.testTimeFlip = flipTta }
    }

    /// bf16 on a CPU without native bfloat16 runs, but several times slower than fp32: say so.
    private func warnIfEmulated(_ precision: Precision, on device: Device) {
        guard precision == .bf16, !Precision.hasNativeBF16(on: device) else { return }
        printError("warning: this CPU has neither AMX-BF16 nor AVX512-BF16: bf16 is emulated here and runs several "
            + "times slower than fp32 (use --precision fp32)")
    }

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

