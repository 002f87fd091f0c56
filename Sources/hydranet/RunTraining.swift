import ArgumentParser
import Dispatch
import Foundation
import HydraNet
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a training configuration as `train` and `finetune` do: progress and epoch lines
/// (none but the final summary with `quiet`), Ctrl-C handling, the exit status.
///
/// The first SIGINT asks the run to stop after the current step (``ExperimentRun/stopRequest``);
/// the run saves its full training state, this prints how to resume, and the process exits
/// with 130 (128 + SIGINT, as shells report an interrupted job). A second SIGINT exits at once.
func runTraining(_ c: RunConfiguration, quiet: Bool, device: Device) throws {
    // In a distributed run only rank 0 prints (the others' errors still reach stderr).
    let primary = (c.distributed?.rank ?? 0) == 0
    let out: (String) -> Void = primary ? { print($0) } : { _ in }
    if !quiet { out(engineSummary(device: device)) }
    let run = try ExperimentRun(c, log: quiet ? { _ in } : out)
    run.summaryLog = out
    let interrupts = InterruptHandler.stopping(run.stopRequest)
    defer { interrupts.cancel() }
    do {
        try run.run()
        if run.stopRequest.isRequested {
            // Ctrl-C came after the last training step (during the final evaluation or saves):
            // the run was finished, not stopped.
            printError("the interrupt came after the last training step: the run finished and wrote all its files")
        }
    } catch let stop as TrainingInterrupted {
        printError("stopped in epoch \(stop.epoch) after step \(stop.stepsDone)/\(stop.stepsPerEpoch); "
            + "the training state is saved in \(stop.statePath ?? "?"). Continue with:")
        printError("  " + resumeCommand(state: stop.statePath ?? "state.safetensors"))
        throw ExitCode(130)
    }
}

/// This process's command line with `--resume STATE` in place of any earlier `--resume`.
func resumeCommand(state: String) -> String {
    var words: [String] = ["hydranet"]
    var arguments = Array(CommandLine.arguments.dropFirst())
    while let i = arguments.firstIndex(where: { $0 == "--resume" || $0.hasPrefix("--resume=") }) {
        arguments.removeSubrange(i..<(arguments[i] == "--resume" ? Swift.min(i + 2, arguments.count) : i + 1))
    }
    words += arguments + ["--resume", state]
    return words.map { word in
        word.contains(where: { " '\"$\\`*?;&|<>()".contains($0) }) || word.isEmpty
            ? "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" : word
    }.joined(separator: " ")
}

/// SIGINT delivered on a dispatch queue (the training runs on the main thread): `handler`
/// gets the number of interrupts so far. The default action is restored by `cancel()`.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0

    init(_ handler: @escaping @Sendable (Int) -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "hydranet.sigint"))
        source.setEventHandler { [self] in
            lock.lock()
            count += Int(source.data)
            let n = count
            lock.unlock()
            handler(n)
        }
        source.resume()
    }

    /// The handler training commands install: the first SIGINT asks `stop` to stop after the
    /// current step (saving the state), a second one exits with 130 at once.
    static func stopping(_ stop: StopRequest) -> InterruptHandler {
        InterruptHandler { count in
            if count == 1 {
                printError("\ninterrupted: finishing the current step and saving the training state (Ctrl-C again to quit at once)")
                stop.request()
            } else {
                _exit(130)
            }
        }
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
