import ArgumentParser
import Foundation
import HydraNet
import Torch

/// Data-parallel training: `--nproc N` starts N local workers (as `torchrun
/// --nproc-per-node N`); a process started with torchrun's variables (`RANK`,
/// `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`) joins that group instead.
struct DistributedOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Train data-parallel in N local processes (the batch size is per process).",
                               valueName: "N"))
    var nproc: Int?

    @Flag(help: "Synchronized BatchNorm: batch statistics over all ranks' batches (default: each rank's own).")
    var syncBatchnorm = false

    @Option(help: "Seconds a rank waits for the others (rendezvous and every collective) before failing.")
    var distributedTimeout = 300.0

    /// The torchrun environment of this process, if it is a worker.
    func environment() throws -> DistributedEnvironment? {
        do {
            return try DistributedEnvironment.fromEnvironment()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Whether this invocation should launch workers rather than train itself.
    func launches() throws -> Bool {
        if let nproc, nproc < 1 { throw ValidationError("--nproc must be ≥ 1") }
        let worker = try environment() != nil
        return (nproc ?? 1) > 1 && !worker
    }

    /// Starts the workers: this command again, without `--nproc`, with threads shared out.
    func launch(threadsGiven: Bool) throws -> Never {
        var arguments = Array(CommandLine.arguments.dropFirst())
        while let i = arguments.firstIndex(where: { $0 == "--nproc" || $0.hasPrefix("--nproc=") }) {
            arguments.removeSubrange(i..<(arguments[i] == "--nproc" ? Swift.min(i + 2, arguments.count) : i + 1))
        }
        let n = nproc ?? 1
        if !threadsGiven { arguments += ["--threads", String(LocalLauncher.threadsPerWorker(processes: n))] }
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        let status = try LocalLauncher(executable: executable, arguments: arguments, processes: n).run()
        throw ExitCode(status)
    }

    func apply(to c: inout RunConfiguration) throws {
        guard distributedTimeout > 0 else { throw ValidationError("--distributed-timeout must be positive") }
        c.distributed = try environment()
        c.synchronizedBatchNorm = syncBatchnorm
        c.distributedTimeout = .milliseconds(Int64(distributedTimeout * 1000))
    }
}
