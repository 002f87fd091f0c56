import CLITestSupport
import Foundation
import HydraNet
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Watching `hydranet train` from outside: lines reach a pipe as they are printed, `--quiet`,
/// Ctrl-C (SIGINT) saves a resumable state and exits 130, a NaN loss stops with a message.
@Suite("watching a run", .serialized)
struct WatchCommandLineTests {
    /// Small generated faces, a small ConvNet, one thread, no schedule.
    static func arguments(count: Int, epochs: Int, batch: Int = 8) -> [String] {
        ["train", "--data", "synthetic", "--synthetic-count", String(count), "--image-size", "16",
         "--backbone", "convnet", "--batch-size", String(batch), "--epochs", String(epochs), "--schedule", "none",
         "--seed", "9", "--threads", "1", "--device", "cpu"]
    }

    @Test("SIGINT: the step finishes, the state is saved, exit 130 with the resume command; --resume reaches the uninterrupted run's exact weights")
    func interruptAndResume() throws {
        let scratch = try ScratchFolder("sigint")
        defer { scratch.cleanUp() }
        let cache = scratch.path("cache"), logs = scratch.url.appendingPathComponent("logs")
        let arguments = Self.arguments(count: 160, epochs: 3) + ["--log-every", "1"]
        let reference = RunFiles(scratch.path("straight"))
        let straight = try HydranetProcess.run(arguments + ["--output", reference.folder], cache: cache, logs: logs)
        try #require(straight.status == 0 && !straight.signalled, "\(straight.summary)")

        let interrupted = RunFiles(scratch.path("interrupted"))
        let process = try HydranetProcess(arguments + ["--output", interrupted.folder], cache: cache, logs: logs)
        // Inside epoch 2: once its second step is reported (one line per step, flushed).
        while process.process.isRunning && !process.stdoutSoFar.contains("epoch 2/3 step 2/") { usleep(500) }
        try #require(process.process.isRunning, "the run ended before it could be interrupted")
        kill(process.pid, SIGINT)
        let outcome = process.wait()
        let state = interrupted.path("state.safetensors")
        #expect(!outcome.signalled && outcome.status == 130, "\(outcome.summary)")
        #expect(outcome.stderr.contains("the training state is saved in \(state)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("--output \(interrupted.folder) --resume \(state)"), "\(outcome.stderr)")
        let saved = try interrupted.tensors("state.safetensors")
        #expect(saved.metadata["hydranet.epoch"] == "1" || saved.metadata["hydranet.epoch"] == "2", "\(saved.metadata)")

        let resumed = try HydranetProcess.run(arguments + ["--output", interrupted.folder, "--resume", state],
                                              cache: cache, logs: logs)
        try #require(resumed.status == 0 && !resumed.signalled, "\(resumed.summary)")
        #expect(resumed.stdout.contains("resumed from \(state) after epoch"), "\(resumed.stdout)")
        for name in ["last.safetensors", "best.safetensors", "state.safetensors"] {
            #expect(sameTensors(try interrupted.tensors(name), try reference.tensors(name)), "\(name) differs from the uninterrupted run's")
        }
        #expect(try interrupted.metricsLines().map(withoutTimings) == reference.metricsLines().map(withoutTimings))
        #expect(try withoutTimings(interrupted.report()) == withoutTimings(reference.report()))
    }

    @Test("a second SIGINT exits at once (130, without waiting for the step or the save)")
    func secondInterrupt() throws {
        let scratch = try ScratchFolder("sigint-twice")
        defer { scratch.cleanUp() }
        let output = scratch.path("run")
        // ResNet-18 steps of 64 images at 32×32 on one thread (a good fraction of a second
        // each): the second SIGINT lands while the first one waits for the step to finish.
        let arguments = ["train", "--data", "synthetic", "--synthetic-count", "200", "--image-size", "32",
                         "--backbone", "resnet18", "--batch-size", "64", "--epochs", "2", "--schedule", "none",
                         "--threads", "1", "--device", "cpu", "--log-every", "1", "--output", output]
        let process = try HydranetProcess(arguments, cache: scratch.path("cache"), logs: scratch.url.appendingPathComponent("logs"))
        while process.process.isRunning && !process.stdoutSoFar.contains("epoch 1/2 step 1/") { usleep(500) }
        try #require(process.process.isRunning, "the run ended before it could be interrupted")
        kill(process.pid, SIGINT)
        // Signals of one kind do not queue: the second is sent once the first has been seen.
        while process.process.isRunning && !process.stderrSoFar.contains("interrupted: finishing the current step") { usleep(200) }
        kill(process.pid, SIGINT)
        let outcome = process.wait()
        #expect(!outcome.signalled && outcome.status == 130, "\(outcome.summary)")
        #expect(!outcome.stderr.contains("Continue with"), "the second SIGINT waited for the save: \(outcome.stderr)")
        #expect(!RunFiles(output).exists("state.safetensors"), "a state was saved after the second SIGINT")
    }

    @Test("a non-finite gradient stops the run: exit 1, the epoch and step named, no checkpoint written")
    func nonFiniteStops() throws {
        let scratch = try ScratchFolder("nan-cli")
        defer { scratch.cleanUp() }
        let files = RunFiles(scratch.path("run"))
        // A learning rate of 1000: Adam's first update moves every weight by ~1000 and the
        // second step's gradient overflows (deterministically, on one thread).
        let outcome = try HydranetProcess.run(Self.arguments(count: 40, epochs: 2, batch: 16)
                                                + ["--lr", "1000", "--output", files.folder],
                                              cache: scratch.path("cache"), logs: scratch.url)
        #expect(!outcome.signalled && outcome.status == 1, "\(outcome.summary)")
        #expect(outcome.stderr.contains("became non-finite (norm -nan) in epoch 1, step 2/3 (global step 2): training stopped"),
                "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("Fatal error"), "\(outcome.stderr)")
        for name in ["best.safetensors", "last.safetensors", "state.safetensors", "report.json"] {
            #expect(!files.exists(name), "\(name) was written")
        }
    }

    @Test("stdout on a pipe: the first epoch line arrives while the run is still training")
    func linesAreFlushed() throws {
        let scratch = try ScratchFolder("flush")
        defer { scratch.cleanUp() }
        let process = Process()
        process.executableURL = try HydranetProcess.executable()
        process.arguments = Self.arguments(count: 160, epochs: 3) + ["--output", scratch.path("run")]
        var environment = ProcessInfo.processInfo.environment
        environment["HYDRANET_CACHE"] = scratch.path("cache")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var text = ""
        var sawFirstEpochEarly = false
        while true {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of file: the process closed its output
            text += String(decoding: chunk, as: UTF8.self)
            if text.contains("epoch 1/3 |") && !sawFirstEpochEarly {
                // Written when epoch 1 ended: epochs 2 and 3 and the final lines are still to come.
                sawFirstEpochEarly = process.isRunning && !text.contains("epoch 3/3") && !text.contains("wrote best.safetensors")
                #expect(sawFirstEpochEarly, "the first epoch line came only with the end of the run:\n\(text)")
            }
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(sawFirstEpochEarly && text.contains("epoch 3/3 |") && text.contains("wrote best.safetensors"), "\(text)")
    }

    @Test("--quiet prints only the final summary")
    func quiet() throws {
        let scratch = try ScratchFolder("quiet")
        defer { scratch.cleanUp() }
        let outcome = try HydranetProcess.run(Self.arguments(count: 40, epochs: 2, batch: 16)
                                                + ["--quiet", "--output", scratch.path("run")],
                                              cache: scratch.path("cache"), logs: scratch.url)
        #expect(outcome.status == 0, "\(outcome.summary)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("test (best epoch): ") && lines[1].hasPrefix("wrote best.safetensors"),
                "\(outcome.stdout)")
        #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")
    }
}
