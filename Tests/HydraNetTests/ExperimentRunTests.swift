import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport

/// ``ExperimentRun`` in this process on a small generated dataset: checkpoint selection and
/// the files a run writes.
@Suite("experiment run")
struct ExperimentRunTests {
    /// 60 generated faces at 16×16, a small ConvNet, no schedule.
    static func configuration(_ scratch: ScratchFolder, epochs: Int) -> RunConfiguration {
        var c = RunConfiguration()
        c.data = .synthetic(count: 60, size: 16)
        c.imageSize = 16
        c.backbone = .convnet
        c.headHidden = [32]
        c.batchSize = 16
        c.schedule = .none
        c.training.epochs = epochs
        c.training.seed = 7
        c.device = .cpu
        c.cacheDirectory = scratch.path("cache")
        c.outputDirectory = scratch.path("run")
        return c
    }

    /// Runs with the log silenced (the run draws from its own seeded generator, so tests in
    /// parallel cannot disturb it).
    @discardableResult
    static func run(_ c: RunConfiguration, onEpoch: ((ExperimentRun, EpochReport) throws -> Void)? = nil) throws
        -> [EpochReport] {
        let run = try ExperimentRun(c, log: { _ in })
        // Unowned: the run keeps the closure, so a strong capture would be a cycle (every run
        // with a callback leaked its model and data; found by LeakSanitizer, scripts/sanitize).
        if let onEpoch { run.onEpoch = { [unowned run] in try onEpoch(run, $0) } }
        return try run.run()
    }

    @Test("the best checkpoint is the model of the epoch with the lowest validation Δm")
    func bestByDeltaM() throws {
        let scratch = try ScratchFolder("run-best")
        defer { scratch.cleanUp() }
        let c = Self.configuration(scratch, epochs: 4)
        let files = RunFiles(c.outputDirectory)
        var snapshots: [Int: SafeTensorsArchive] = [:]
        let reports = try Self.run(c) { run, report in
            snapshots[report.epoch] = try files.tensors("last.safetensors")
            // After epoch 3, wreck the heads (weights of size ~100): epoch 4 cannot be the best,
            // so the best checkpoint must be an earlier epoch's model, not the last.
            if report.epoch == 3 {
                var g = SeededGenerator(seed: 11)
                var state = run.model.stateDict()
                for key in state.keys where key.hasPrefix("heads.") && key.hasSuffix(".weight") {
                    let shape = state[key]!.shape
                    state[key] = Tensor((0..<shape.reduce(1, *)).map { _ in Float.random(in: -100...100, using: &g) },
                                        shape: shape)
                }
                try run.model.loadStateDict(state, strict: true)
            }
        }
        try #require(reports.map(\.epoch) == [1, 2, 3, 4])
        // Δm is against epoch 1's validation metrics; an epoch is best when it beats every
        // earlier one.
        let reference = Dictionary(uniqueKeysWithValues: try #require(reports[0].validation).metrics.map { ($0.key, $0.value) })
        var lowest = Double.infinity
        for r in reports {
            let deltaM = try #require(r.deltaM, "epoch \(r.epoch) has no Δm")
            #expect(abs(deltaM - (try DeltaM.percent(try #require(r.validation).metrics, baseline: reference))) < 1e-9)
            #expect(r.isBest == (deltaM < lowest), "epoch \(r.epoch): Δm \(deltaM), lowest before \(lowest)")
            lowest = min(lowest, deltaM)
        }
        let bestEpoch = try #require(reports.last { $0.isBest }).epoch
        #expect(bestEpoch < 4, "the wrecked last epoch was selected")
        #expect(try #require(reports.first { $0.deltaM == lowest }).epoch == bestEpoch)

        let best = try files.tensors("best.safetensors")
        #expect(sameTensors(best, try #require(snapshots[bestEpoch])), "best.safetensors is not epoch \(bestEpoch)'s model")
        #expect(!sameTensors(best, try #require(snapshots[4])))
        #expect(sameTensors(try files.tensors("last.safetensors"), try #require(snapshots[4])))
        // The flags agree in both records.
        #expect(try files.loggedEpochReports().map(\.isBest) == reports.map(\.isBest))
        #expect(try files.epochReports().map(\.isBest) == reports.map(\.isBest))
    }

    @Test("metrics.jsonl, report.json and test-metrics.json hold one consistent record of the run")
    func files() throws {
        let scratch = try ScratchFolder("run-files")
        defer { scratch.cleanUp() }
        let c = Self.configuration(scratch, epochs: 3)
        let reports = try Self.run(c)
        let files = RunFiles(c.outputDirectory)
        let tasks = ["age", "gender", "race"]
        let metricKeys = ["age/mae", "age/rmse", "gender/accuracy", "gender/auroc", "gender/f1", "race/accuracy",
                          "race/macro_f1"]

        // metrics.jsonl: step lines then one epoch line per epoch, epochs in order.
        let lines = try files.metricsLines()
        let epochLines = lines.filter { $0["type"] as? String == "epoch" }
        let stepLines = lines.filter { $0["type"] as? String == "step" }
        #expect(epochLines.count + stepLines.count == lines.count, "lines of unknown type")
        #expect(epochLines.map { $0["epoch"] as? Int } == [1, 2, 3])
        #expect(lines.map { $0["epoch"] as? Int ?? 0 } == lines.map { $0["epoch"] as? Int ?? 0 }.sorted())
        for line in epochLines { #expect(Set(line.keys) == ["type", "epoch", "report"]) }
        for line in stepLines {
            #expect(Set(line.keys) == ["type", "epoch", "step", "of", "losses", "weights", "gram_condition"], "\(line)")
            let (step, of) = (try #require(line["step"] as? Int), try #require(line["of"] as? Int))
            #expect(step >= 1 && step <= of)
            let losses = try #require(line["losses"] as? [String: Double])
            #expect(Set(losses.keys).isSubset(of: tasks) && !losses.isEmpty && losses.values.allSatisfy(\.isFinite))
        }
        // Every epoch logs its last step.
        for epoch in 1...3 {
            #expect(stepLines.contains { $0["epoch"] as? Int == epoch && $0["step"] as? Int == $0["of"] as? Int })
        }
        // The logged epoch reports are the run's, exactly.
        let logged = try files.loggedEpochReports()
        #expect(try withoutTimings(JSONSerialization.jsonObject(with: JSONEncoder().encode(logged)))
            == (try withoutTimings(JSONSerialization.jsonObject(with: JSONEncoder().encode(reports)))))
        #expect(logged.map(\.seconds) == reports.map(\.seconds))
        for r in reports {
            #expect(Set(r.trainLosses.keys) == Set(tasks) && Set(r.weights.keys) == Set(tasks))
            #expect(try #require(r.validation).metrics.map(\.key).sorted() == metricKeys)
        }

        // report.json: the epochs, the test evaluation of the best model, the method.
        let report = try files.report()
        #expect(Set(report.keys) == ["epochs", "test", "weighting"])
        #expect(report["weighting"] as? String == "uncertainty")
        #expect(try files.epochReports().map(\.epoch) == [1, 2, 3])
        let test = try JSONDecoder().decode(EvaluationReport.self,
                                            from: JSONSerialization.data(withJSONObject: try #require(report["test"])))
        #expect(test.metrics.map(\.key).sorted() == metricKeys)

        // test-metrics.json: the same test metrics, usable as a baseline.
        let testMetrics = try files.decode([String: Double].self, "test-metrics.json")
        #expect(testMetrics == Dictionary(uniqueKeysWithValues: test.metrics.map { ($0.key, $0.value) }))
        #expect(try DeltaM.loadBaseline(files.path("test-metrics.json")) == testMetrics)
        // Nothing else (no temporary files) is left in the folder.
        #expect(try files.names() == ["best.safetensors", "last.safetensors", "metrics.jsonl", "report.html", "report.json",
                                      "state.safetensors", "tensorboard", "test-evaluation.json",
                                      "test-metrics.json"])
        // test-evaluation.json: the details of the same test evaluation.
        let details = try files.decode([TaskEvaluation].self, "test-evaluation.json")
        #expect(details.map(\.task) == tasks)
        for d in details {
            for (name, value) in d.metrics where name != "ece" { #expect(testMetrics["\(d.task)/\(name)"] == value, "\(d.task)/\(name)") }
        }
    }

    @Test("a resumed run drops the log lines of lost work and reports every epoch once")
    func resumeLog() throws {
        let scratch = try ScratchFolder("run-resume")
        defer { scratch.cleanUp() }
        var c = Self.configuration(scratch, epochs: 2)
        try Self.run(c)
        let files = RunFiles(c.outputDirectory)
        // A crash after epoch 3's lines were logged but before its state was saved.
        let saved = try Data(contentsOf: URL(fileURLWithPath: files.path("metrics.jsonl")))
        let lost = #"{"epoch":3,"of":3,"step":3,"type":"step"}"# + "\n" + #"{"epoch":3,"report":{},"type":"epoch"}"# + "\n"
        try (saved + Data(lost.utf8)).write(to: URL(fileURLWithPath: files.path("metrics.jsonl")))
        c.training.epochs = 3
        c.resumeFrom = files.path("state.safetensors")
        let reports = try Self.run(c)
        #expect(reports.map(\.epoch) == [1, 2, 3])
        #expect(try files.loggedEpochReports().map(\.epoch) == [1, 2, 3])
        #expect(try files.epochReports().map(\.epoch) == [1, 2, 3])
        let stepEpochs = try files.metricsLines().filter { $0["type"] as? String == "step" }.compactMap { $0["epoch"] as? Int }
        #expect(stepEpochs.sorted() == stepEpochs && Set(stepEpochs) == [1, 2, 3])
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: files.path("metrics.jsonl"))), as: UTF8.self)
            .hasPrefix(String(decoding: saved, as: UTF8.self)))
    }

    @Test("a malformed baseline file is refused before anything runs, with a message naming it")
    func malformedBaseline() throws {
        let scratch = try ScratchFolder("run-baseline")
        defer { scratch.cleanUp() }
        var c = Self.configuration(scratch, epochs: 1)
        c.baselineFile = scratch.path("baseline.json")
        for contents in ["[1, 2]", "{\"age/mae\": \"ten\"}", "{\"age/mae\": 1", ""] {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: c.baselineFile!))
            #expect {
                try c.validate()
            } throws: { error in
                "\(error)".contains("baseline file \(c.baselineFile!) is not a JSON object of \"task/metric\": number")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: c.cacheDirectory))
    }
}
