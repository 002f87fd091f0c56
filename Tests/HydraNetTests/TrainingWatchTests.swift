import CLITestSupport
import Foundation
import HydraData
import HydraNet
import Testing
import TestSupport
import Torch

/// Watching a run: TensorBoard event files (encoding known answers, read back by Python's
/// `tensorboard`), stopping between steps and resuming inside an epoch, non-finite losses
/// (stop with a message, `best` untouched; or skip and count).
@Suite("training watch")
struct TrainingWatchTests {
    /// 48 generated faces at 16×16, a small ConvNet, batch 8, no schedule, no TensorBoard
    /// unless asked.
    static func configuration(_ scratch: ScratchFolder, epochs: Int, output: String = "run") -> RunConfiguration {
        var c = RunConfiguration()
        c.data = .synthetic(count: 48, size: 16)
        c.imageSize = 16
        c.backbone = .convnet
        c.headHidden = [16]
        c.batchSize = 8
        c.schedule = .none
        c.training.epochs = epochs
        c.training.seed = 3
        c.device = .cpu
        c.progress = .never
        c.logEvery = 0
        c.writesTensorBoard = false
        c.cacheDirectory = scratch.path("cache")
        c.outputDirectory = scratch.path(output)
        return c
    }

    // MARK: Encoding known answers

    @Test("CRC-32C known answers (RFC 3720 B.4) and TFRecord's mask")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
        #expect(CRC32C.checksum([]) == 0)
        // masked = rotate right by 15, plus 0xa282ead8.
        let crc = CRC32C.checksum(Array("123456789".utf8))
        #expect(CRC32C.masked(Array("123456789".utf8)) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    @Test("TFRecord framing and the Event/Summary wire format, byte for byte")
    func wireFormat() {
        // Event{wall_time: 1.5, file_version: "brain.Event:2"}
        let version = TensorBoardEvent.fileVersion(wallTime: 1.5)
        #expect(version == [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x1A, 13] + Array("brain.Event:2".utf8))
        // Event{wall_time: 0, step: 300, summary{value{tag: "a", simple_value: 1.0}}}
        let scalar = TensorBoardEvent.scalars([("a", 1.0)], step: 300, wallTime: 0)
        #expect(scalar == [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xAC, 0x02, 0x2A, 10, 0x0A, 8, 0x0A, 1, 0x61, 0x15, 0, 0, 0x80, 0x3F])
        let record = [UInt8](TFRecord.frame(scalar))
        #expect(record.count == scalar.count + 16)
        #expect(Array(record[0..<8]) == [UInt8(scalar.count), 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = CRC32C.masked(Array(record[0..<8]))
        #expect(Array(record[8..<12]) == (0..<4).map { UInt8(truncatingIfNeeded: lengthCRC >> ($0 * 8)) })
        #expect(Array(record[12..<(12 + scalar.count)]) == scalar)
        let dataCRC = CRC32C.masked(scalar)
        #expect(Array(record[(12 + scalar.count)...]) == (0..<4).map { UInt8(truncatingIfNeeded: dataCRC >> ($0 * 8)) })
    }

    /// Every scalar of the event files in `directory`, as Python's `tensorboard` reads them:
    /// tag → [(step, value)].
    static func readBack(_ directory: String) throws -> [String: [(step: Int, value: Float)]] {
        let code = """
        import json, sys
        from tensorboard.backend.event_processing import event_accumulator as ea
        acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0})
        acc.Reload()
        print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))
        """
        let text = try PythonReference.runCode(code, arguments: [directory])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [[Double]]],
                                "unexpected output: \(text)")
        // Python's floats are the float32 values widened exactly: narrowing back is exact.
        return json.mapValues { $0.map { (step: Int($0[0]), value: Float($0[1])) } }
    }

    @Test("Python's tensorboard reads a writer's scalars back exactly (float32)")
    func pythonReadsWriter() throws {
        let scratch = try ScratchFolder("tb-writer")
        defer { scratch.cleanUp() }
        var g = SeededGenerator(seed: 41)
        let writer = try TensorBoardWriter(directory: scratch.path("tb"))
        var written: [String: [(Int, Float)]] = [:]
        for step in [0, 1, 7, 128, 1_000_003] {
            let values: [(tag: String, value: Double)] = [
                ("loss/age", Double.random(in: 0..<30, using: &g)), ("weight/∆ unicode", Double.random(in: -1...1, using: &g)),
                ("tiny", 1e-30 * Double(step + 1)), ("big", -3e38),
            ]
            try writer.add(values, step: step)
            for v in values { written[v.tag, default: []].append((step, Float(v.value))) }
        }
        let read = try Self.readBack(scratch.path("tb"))
        #expect(Set(read.keys) == Set(written.keys), "\(read.keys.sorted())")
        for (tag, expected) in written {
            let got = try #require(read[tag], "tag \(tag) missing")
            #expect(got.map(\.step) == expected.map(\.0), "\(tag)")
            #expect(got.map(\.value) == expected.map(\.1), "\(tag): \(got) vs \(expected)")
        }
    }

    @Test("a run's event file holds the scalars it logged in metrics.jsonl (float32-exact, read by Python)")
    func runScalarsReadBack() throws {
        let scratch = try ScratchFolder("tb-run")
        defer { scratch.cleanUp() }
        var c = Self.configuration(scratch, epochs: 2)
        c.writesTensorBoard = true
        c.batchSize = 4  // 10 steps per epoch: a step line at step 10
        let run = try ExperimentRun(c, log: { _ in })
        let reports = try run.run()
        let file = try #require(run.tensorboardFile)
        #expect(file.hasPrefix(scratch.path("run/tensorboard/events.out.tfevents.")), "\(file)")
        let read = try Self.readBack(scratch.path("run/tensorboard"))
        let files = RunFiles(c.outputDirectory)
        // Epoch scalars: train losses and weights, every validation metric, Δm, learning rate.
        for r in reports {
            func expectScalar(_ tag: String, _ value: Double?) {
                guard let value else { Issue.record("no value for \(tag)"); return }
                let points = read[tag] ?? []
                #expect(points.filter { $0.value == Float(value) }.count >= 1, "\(tag) epoch \(r.epoch): \(points) vs \(value)")
            }
            for t in run.model.tasks {
                expectScalar("train/loss/\(t.name)", r.trainLosses[t.name])
                expectScalar("train/weight/\(t.name)", r.weights[t.name])
            }
            for m in try #require(r.validation).metrics where m.value.isFinite { expectScalar("val/\(m.key)", m.value) }
            expectScalar("val/delta_m", r.deltaM)
            expectScalar("train/learning_rate", r.learningRate)
            #expect(read["epoch"]?[r.epoch - 1].value == Float(r.epoch))
        }
        // Step scalars: the same steps and values as metrics.jsonl's step lines.
        let steps = try files.metricsLines().filter { $0["type"] as? String == "step" }
        try #require(!steps.isEmpty)
        let age = try #require(read["step/loss/age"])
        #expect(age.count == steps.count)
        for (line, point) in zip(steps, age) {
            let losses = try #require(line["losses"] as? [String: Any])
            let logged = try #require((losses["age"] as? NSNumber)?.doubleValue)
            #expect(point.value == Float(logged), "step \(point.step): \(point.value) vs \(logged)")
        }
    }

    // MARK: Stop and resume inside an epoch

    @Test("a stop request between steps saves a state that resumes to the uninterrupted run's exact weights")
    func stopInsideEpochAndResume() throws {
        let scratch = try ScratchFolder("stop-resume")
        defer { scratch.cleanUp() }
        let straight = Self.configuration(scratch, epochs: 2, output: "straight")
        try ExperimentRun(straight, log: { _ in }).run()

        let c = Self.configuration(scratch, epochs: 2, output: "stopped")
        let run = try ExperimentRun(c, log: { _ in })
        run.onStep = { [stop = run.stopRequest] e in if e.epoch == 2 && e.step == 3 { stop.request() } }
        do {
            try run.run()
            Issue.record("the run did not stop")
        } catch let stop as TrainingInterrupted {
            #expect(stop.epoch == 2 && stop.stepsDone == 3 && stop.statePath == RunFiles(c.outputDirectory).path("state.safetensors"),
                    "\(stop)")
        }
        let files = RunFiles(c.outputDirectory)
        let state = try files.tensors("state.safetensors")
        #expect(state.metadata["hydranet.epoch"] == "1" && state.metadata["hydranet.epoch_steps_done"] == "3",
                "\(state.metadata)")

        // Resumed with another batch size, the saved position would point into other batches: refused.
        var mismatched = c
        mismatched.resumeFrom = files.path("state.safetensors")
        mismatched.batchSize = 16
        do {
            try ExperimentRun(mismatched, log: { _ in }).run()
            Issue.record("a mid-epoch state was resumed into epochs of another length")
        } catch let error as HydraError {
            #expect(error.description.contains("stopped after step 3 of") && error.description.contains("other data or batch size"),
                    "\(error)")
        }

        var resumed = c
        resumed.resumeFrom = files.path("state.safetensors")
        try ExperimentRun(resumed, log: { _ in }).run()
        let reference = RunFiles(straight.outputDirectory)
        for name in ["last.safetensors", "best.safetensors", "state.safetensors"] {
            #expect(sameTensors(try files.tensors(name), try reference.tensors(name)), "\(name) differs from the uninterrupted run's")
        }
        #expect(try files.metricsLines().map(withoutTimings) == reference.metricsLines().map(withoutTimings))
        #expect(try withoutTimings(files.report()) == withoutTimings(reference.report()))
    }

    // MARK: Non-finite losses

    /// Makes the age label of training row `row` NaN (in place: the loaders share the tensor).
    static func poisonAge(_ run: ExperimentRun, row: Int) throws {
        let column = try #require(run.data.tasks.firstIndex { $0.name == "age" })
        let labels = run.data.labels[column]
        var values = labels.scalars(as: Float.self)
        values[row] = .nan
        withNoGrad { labels.copy_(Tensor(values, shape: labels.shape)) }
    }

    @Test("a NaN loss stops the run with the task, epoch and step; best, last and the state stay as they were")
    func nonFiniteStops() throws {
        let scratch = try ScratchFolder("nan-stop")
        defer { scratch.cleanUp() }
        let c = Self.configuration(scratch, epochs: 3)
        let files = RunFiles(c.outputDirectory)
        let run = try ExperimentRun(c, log: { _ in })
        let row = run.splits.train[5]
        // The 1-based step of epoch 2 whose batch holds the row (the loader's seeded order).
        let loader = try DataLoader(run.data, rows: run.splits.train,
                                    options: LoaderOptions(batchSize: c.batchSize, shuffle: true,
                                                           dropLast: run.splits.train.count % c.batchSize == 1,
                                                           seed: c.training.seed))
        let step = try #require(loader.order(epoch: 1).firstIndex(of: row)) / c.batchSize + 1
        let steps = loader.batchCount
        var saved: [String: Data] = [:]
        run.onEpoch = { [unowned run] report in
            // After epoch 1 (its checkpoints written): one training label becomes NaN.
            guard report.epoch == 1 else { return }
            for name in ["best.safetensors", "last.safetensors", "state.safetensors"] {
                saved[name] = try Data(contentsOf: URL(fileURLWithPath: files.path(name)))
            }
            try Self.poisonAge(run, row: row)
        }
        do {
            try run.run()
            Issue.record("a NaN loss did not stop the run")
        } catch let error as NonFiniteError {
            let text = "\(error)"
            #expect(text.contains("task 'age': the training loss became nan in epoch 2, step \(step)/\(steps)"), "\(text)")
            #expect(error.value.task == "age" && error.epoch == 2 && error.step == step)
        }
        for (name, bytes) in saved {
            #expect(try Data(contentsOf: URL(fileURLWithPath: files.path(name))) == bytes, "\(name) was rewritten")
        }
        let last = try #require(try files.metricsLines().last)
        #expect(last["type"] as? String == "nonfinite" && last["task"] as? String == "age" && last["step"] as? Int == step,
                "\(last)")
    }

    @Test("--on-nonfinite skip: the step with a NaN loss is skipped (no update), counted per epoch, and training goes on")
    func nonFiniteSkipped() throws {
        let scratch = try ScratchFolder("nan-skip")
        defer { scratch.cleanUp() }
        var c = Self.configuration(scratch, epochs: 2)
        c.training.onNonFinite = .skip
        var lines: [String] = []
        let run = try ExperimentRun(c, log: { lines.append($0) })
        try Self.poisonAge(run, row: run.splits.train[0])
        var skippedSteps: [Int] = []
        var parameters: [Tensor] = []
        run.onStep = { [unowned run] e in
            if e.result.skipped != nil {
                skippedSteps.append(e.globalStep)
                #expect(e.result.skipped?.task == "age")
                // Nothing was applied: the model is what it was after the previous step.
                #expect(zip(parameters, run.model.parameters()).allSatisfy { $0.contiguousBytes() == $1.contiguousBytes() })
            }
            parameters = run.model.parameters().map { $0.clone() }
        }
        let reports = try run.run()
        #expect(skippedSteps.count == 2, "one skipped step per epoch: \(skippedSteps)")
        #expect(reports.map(\.skippedSteps) == [1, 1])
        #expect(reports.allSatisfy { $0.trainLosses.values.allSatisfy(\.isFinite) }, "\(reports.map(\.trainLosses))")
        #expect(lines.filter { $0.contains("skipped 1 non-finite steps") }.count == 2, "\(lines)")
        let logged = try RunFiles(c.outputDirectory).loggedEpochReports()
        #expect(logged.map(\.skippedSteps) == [1, 1])
        #expect(run.model.parameters().allSatisfy { $0.isFinite().all().item() != 0 })
    }
}
