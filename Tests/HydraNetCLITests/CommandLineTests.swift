import CLITestSupport
import Foundation
import HydraNet
import Testing

/// `hydranet train` as a user runs it: the built executable in a subprocess.
@Suite("command line")
struct CommandLineTests {
    /// A run of a few seconds: 40 generated faces at 16×16, a small ConvNet, one thread.
    static let tiny = ["train", "--data", "synthetic", "--synthetic-count", "40", "--image-size", "16",
                      "--backbone", "convnet", "--batch-size", "16", "--epochs", "2", "--schedule", "none",
                      "--seed", "5", "--threads", "1", "--device", "cpu"]

    /// A flag value the CLI must refuse, the message it must print, and its exit status (64
    /// for a usage error caught before anything runs; 1 for one found once the data's tasks
    /// are known).
    struct BadValue: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var message: String
        var status: Int32 = 64
        /// Contents of a file written to `{file}` in the arguments.
        var file: String?
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badValues: [BadValue] = [
        BadValue(arguments: ["--backbone", "vgg"], message: "unknown backbone 'vgg'"),
        BadValue(arguments: ["--optimizer", "adagrad"], message: "unknown optimizer 'adagrad'"),
        BadValue(arguments: ["--schedule", "step"], message: "unknown schedule 'step': use none, cosine or onecycle"),
        BadValue(arguments: ["--weighting", "upgrad", "--gradient-source", "approx"],
                 message: "unknown gradient source 'approx': use exact or features"),
        BadValue(arguments: ["--weighting", "magic"], message: "unknown weighting 'magic'; choose one of: equal"),
        BadValue(arguments: ["--weighting", "static", "--weights", "1,x,2"], message: "--weights must be numbers"),
        BadValue(arguments: ["--threads", "0"], message: "--threads must be positive"),
        BadValue(arguments: ["--on-nonfinite", "ignore"], message: "unknown --on-nonfinite 'ignore': use stop or skip"),
        BadValue(arguments: ["--log-every=-1"], message: "--log-every must be ≥ 0, got -1"),
        BadValue(arguments: ["--device", "tpu"], message: "unknown device 'tpu': use cpu, cuda, cuda:N or auto"),
        BadValue(arguments: ["--image-size", "4"], message: "image size must be between 8 and 1024, got 4"),
        BadValue(arguments: ["--batch-size", "0"], message: "batch size must be positive"),
        BadValue(arguments: ["--epochs", "0"], message: "epochs must be positive, got 0"),
        BadValue(arguments: ["--epochs", "9223372036854775807"], message: "epochs must be at most 1000000, got 9223372036854775807"),
        BadValue(arguments: ["--epochs", "three"], message: "The value 'three' is invalid for '--epochs <epochs>'"),
        BadValue(arguments: ["--lr", "0"], message: "learning rate must be in (0, 1000], got 0.0"),
        BadValue(arguments: ["--lr", "1e38"], message: "learning rate must be in (0, 1000], got 1e+38"),
        BadValue(arguments: ["--weight-decay=-1"], message: "weight decay must be in [0, 1000]"),
        BadValue(arguments: ["--synthetic-count", "5"], message: "synthetic data needs at least 10 images"),
        BadValue(arguments: ["--class-balance", "equalize"], message: "unknown --class-balance 'equalize': use none, sqrt or inverse"),
        BadValue(arguments: ["--label-smoothing", "1"], message: "label smoothing must be in [0, 1), got 1.0"),
        BadValue(arguments: ["--color-jitter", "1.5"], message: "colour jitter must be in [0, 1], got 1.5"),
        BadValue(arguments: ["--color-jitter", "nan"], message: "colour jitter must be in [0, 1], got nan"),
        BadValue(arguments: ["--precision", "fp8"], message: "unknown precision 'fp8': use fp32 or bf16"),
        BadValue(arguments: ["--pretrained", "/nonexistent/resnet18.pth"],
                 message: "pretrained weights file not found: /nonexistent/resnet18.pth"),
        BadValue(arguments: ["--resume", "/nonexistent/state.safetensors"],
                 message: "training state to resume from not found: /nonexistent/state.safetensors"),
        BadValue(arguments: ["--baseline", "/nonexistent/baseline.json"],
                 message: "baseline file not found: /nonexistent/baseline.json"),
        BadValue(arguments: ["--baseline", "{file}"], message: "is not a JSON object of \"task/metric\": number",
                 file: "{\"age/mae\": \"ten\"}"),
        BadValue(arguments: ["--baseline", "{file}"], message: "is not a JSON object of \"task/metric\": number",
                 file: "{\"age/mae\": 10,"),
        // Found once the tasks are known (after the data is read), before any training.
        BadValue(arguments: ["--baseline", "{file}"], message: "has no metric of the tasks [\"age\", \"gender\", \"race\"]",
                 status: 1, file: "{\"height/mae\": 10}"),
        BadValue(arguments: ["--weighting", "static", "--weights", "1,2"], message: "static weighting: 2 weights for 3 tasks",
                 status: 1),
        BadValue(arguments: ["--freeze-heads", "age,wings"], message: "cannot freeze unknown heads [\"wings\"]", status: 1),
        BadValue(arguments: ["--resume", "{file}"], message: "{file}", status: 1, file: "garbage"),
    ]

    @Test("bad flag values are refused with a message", arguments: badValues)
    func refused(_ bad: BadValue) throws {
        let scratch = try ScratchFolder("cli-refused")
        defer { scratch.cleanUp() }
        let output = scratch.path("run")
        var arguments = Self.tiny + bad.arguments + ["--output", output]
        var message = bad.message
        if let contents = bad.file {
            let file = scratch.path("given-file")
            try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
            arguments = arguments.map { $0 == "{file}" ? file : $0 }
            message = message.replacingOccurrences(of: "{file}", with: file)
        }
        let outcome = try HydranetProcess.run(arguments, cache: scratch.path("cache"), logs: scratch.url)
        #expect(!outcome.signalled && outcome.status == bad.status, "\(outcome.summary)")
        #expect(outcome.stderr.contains(message), "expected '\(message)' in: \(outcome.stderr)")
        #expect(!outcome.stderr.contains("Fatal error"), "\(outcome.stderr)")
        if bad.status == 64 {
            // Refused before anything ran: no data generated, no output folder.
            #expect(!FileManager.default.fileExists(atPath: output))
            #expect(!FileManager.default.fileExists(atPath: scratch.path("cache")))
        } else {
            #expect((try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty ?? true,
                    "a refused run wrote outputs")
        }
    }

    @Test("--baseline: Δm of every epoch is measured against the baseline file")
    func baseline() throws {
        let scratch = try ScratchFolder("cli-baseline")
        defer { scratch.cleanUp() }
        let cache = scratch.path("cache")
        // Without a baseline, Δm is relative to epoch 1 (0 there).
        let first = try HydranetProcess.run(Self.tiny + ["--output", scratch.path("a")], cache: cache, logs: scratch.url)
        try #require(first.status == 0 && !first.signalled, "\(first.summary)")
        let plain = try RunFiles(scratch.path("a")).epochReports()
        try #require(plain.count == 2)
        #expect(try #require(plain[0].deltaM) == 0)

        // A baseline: the first run's test metrics, each scaled by 1.25 (so Δm moves away from
        // 0 at epoch 1); Δm must be the formula's value against it.
        let measured = try RunFiles(scratch.path("a")).decode([String: Double].self, "test-metrics.json")
        var baseline: [String: Double] = [:]
        for (key, value) in measured where value != 0 { baseline[key] = value * 1.25 }
        let baselineFile = scratch.path("baseline.json")
        try JSONSerialization.data(withJSONObject: baseline, options: [.sortedKeys]).write(to: URL(fileURLWithPath: baselineFile))
        let second = try HydranetProcess.run(Self.tiny + ["--output", scratch.path("b"), "--baseline", baselineFile],
                                             cache: cache, logs: scratch.url)
        try #require(second.status == 0 && !second.signalled, "\(second.summary)")
        let reports = try RunFiles(scratch.path("b")).epochReports()
        try #require(reports.count == 2)
        for report in reports {
            let validation = try #require(report.validation, "epoch \(report.epoch) has no validation")
            let deltaM = try #require(report.deltaM, "epoch \(report.epoch) has no Δm")
            let deltaP = try #require(report.deltaP, "epoch \(report.epoch) has no Δp")
            #expect(abs(deltaM - (try DeltaM.percent(validation.metrics, baseline: baseline))) < 1e-9)
            #expect(abs(deltaP - (try DeltaM.libMTL(validation.metrics, baseline: baseline))) < 1e-9)
        }
        // Same seed, same training: only the reference changed.
        #expect(reports.map { $0.validation?.metrics.map(\.value) } == plain.map { $0.validation?.metrics.map(\.value) })
        #expect(reports[0].deltaM != 0, "epoch 1's Δm is still measured against itself")
    }
}
