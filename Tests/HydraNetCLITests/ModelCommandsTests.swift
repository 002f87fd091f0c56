import CLITestSupport
import Foundation
import HydraData
import Testing
import TestSupport
import Torch

/// `hydranet evaluate`, `predict` and `finetune` (with `--add-task`) run as a user runs them:
/// the built binary as a subprocess, on a small model trained by `hydranet train` on
/// generated faces, checking exit statuses, JSON outputs and the files written.
@Suite("Model commands (subprocess)")
struct ModelCommandsTests {
    /// A model trained once for every test here (ConvNet, 300 generated faces, 2 epochs).
    struct Trained {
        let scratch: ScratchFolder
        var cache: String { scratch.path("cache") }
        var logs: URL { scratch.url.appendingPathComponent("logs") }
        var model: String { scratch.path("runs/base/best.safetensors") }
        /// The generated faces' folder.
        let faces: String
    }

    static let count = 300
    nonisolated(unsafe) static var trainedResult: Result<Trained, Error> = Result {
        let scratch = try ScratchFolder("model-commands")
        let r = try HydranetProcess.run(["train", "--backbone", "convnet", "--synthetic-count", String(count), "--epochs", "2",
                                         "--output", scratch.path("runs/base"), "--device", "cpu"],
                                        cache: scratch.path("cache"), logs: scratch.url.appendingPathComponent("logs"))
        guard r.status == 0 else { throw Failure("training the shared model failed: \(r.summary)") }
        let faces = SyntheticFaces(count: count, size: 64, seed: 0, missingRaceFraction: 0.05)
            .defaultFolder(cacheDirectory: scratch.path("cache"))
        return Trained(scratch: scratch, faces: faces)
    }
    static let lock = NSLock()
    static func trained() throws -> Trained { try lock.withLock { try trainedResult.get() } }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    func run(_ t: Trained, _ arguments: [String], stdin: URL? = nil) throws -> HydranetProcess.Outcome {
        try HydranetProcess.run(arguments, cache: t.cache, logs: t.logs, stdin: stdin)
    }

    func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// `predict --json` rows by image name.
    func predictions(_ t: Trained, model: String, _ paths: [String]) throws -> [String: [String: Any]] {
        let r = try run(t, ["predict", "--model", model, "--json"] + paths)
        try #require(r.status == 0, "\(r.summary)")
        let rows = try #require(try json(r.stdout) as? [[String: Any]], "\(r.stdout)")
        var out: [String: [String: Any]] = [:]
        for row in rows {
            let name = try #require(row["image"] as? String)
            out[name] = try #require(row["predictions"] as? [String: Any], "\(row)")
        }
        return out
    }

    /// Every number in a task's prediction object, by a path (`value`, `probabilities.male`, …).
    func numbers(_ object: Any, prefix: String = "") -> [String: Double] {
        var out: [String: Double] = [:]
        if let d = object as? [String: Any] {
            for (k, v) in d { out.merge(numbers(v, prefix: prefix.isEmpty ? k : "\(prefix).\(k)")) { a, _ in a } }
        } else if let v = object as? Double {
            out[prefix] = v
        }
        return out
    }

    @Test("evaluate: metrics equal the run's test metrics; details, --json, --output and per-image predictions")
    func evaluate() throws {
        let t = try Self.trained()
        let output = t.scratch.path("evaluation.json"), perImage = t.scratch.path("per-image.json")
        let r = try run(t, ["evaluate", "--model", t.model, "--synthetic-count", String(Self.count), "--split", "test", "--json",
                            "--output", output, "--predictions", perImage])
        try #require(r.status == 0, "\(r.summary)")
        let evaluation = try #require(try json(r.stdout) as? [String: Any], "stdout is not JSON: \(r.stdout)")
        let written = try #require(try json(String(contentsOfFile: output, encoding: .utf8)) as? [String: Any])
        #expect(NSDictionary(dictionary: evaluation).isEqual(to: written))
        #expect(r.stderr.contains("synthetic faces"), "the data report goes to standard error with --json: \(r.stderr)")
        let metrics = try #require(evaluation["metrics"] as? [String: Double])
        // The same best checkpoint on the same test split: the run's own test metrics.
        let runMetrics = try #require(try json(String(contentsOfFile: t.scratch.path("runs/base/test-metrics.json"), encoding: .utf8))
            as? [String: Double])
        #expect(!runMetrics.isEmpty)
        for (key, value) in runMetrics {
            let own = try #require(metrics[key], "evaluate has no \(key)")
            #expect(abs(own - value) <= 1e-6 * max(1, abs(value)), "\(key): evaluate \(own), run \(value)")
        }
        let tasks = try #require(evaluation["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["task"] as? String } == ["age", "gender", "race"])
        #expect((tasks[0]["by_decade"] as? [[String: Any]])?.isEmpty == false)
        let confusion = try #require(tasks[2]["confusion"] as? [[Int]])
        #expect(confusion.count == 5 && confusion.allSatisfy { $0.count == 5 })
        #expect(confusion.joined().reduce(0, +) == tasks[2]["labelled"] as? Int)
        #expect((tasks[2]["per_class"] as? [[String: Any]])?.count == 5)
        for task in tasks[1...] { #expect(task["ece"] is Double, "\(task["task"] ?? "?") has no ECE") }

        // predict equals evaluate's per-image outputs for the same images.
        let evaluated = try #require(try json(String(contentsOfFile: perImage, encoding: .utf8)) as? [[String: Any]])
        #expect(evaluated.count == evaluation["images"] as? Int)
        let names = evaluated.compactMap { $0["image"] as? String }
        let predicted = try predictions(t, model: t.model, names.map { (t.faces as NSString).appendingPathComponent($0) })
        #expect(predicted.count == names.count)
        for row in evaluated {
            let name = try #require(row["image"] as? String)
            let mine = numbers(try #require(row["predictions"]))
            let theirs = numbers(try #require(predicted[(t.faces as NSString).appendingPathComponent(name)], "\(name) not predicted"))
            #expect(mine.keys.sorted() == theirs.keys.sorted())
            for (key, value) in mine {
                #expect(abs(value - (theirs[key] ?? .nan)) <= 1e-4 * max(1, abs(value)), "\(name) \(key): \(value) vs \(theirs[key] ?? .nan)")
            }
        }

        // The table for people.
        let table = try run(t, ["evaluate", "--model", t.model, "--synthetic-count", String(Self.count), "--split", "validation"])
        try #require(table.status == 0, "\(table.summary)")
        for part in ["age/mae", "confusion (rows true, columns predicted)", "precision", "ECE", "true value"] {
            #expect(table.stdout.contains(part), "the table lacks '\(part)': \(table.stdout)")
        }
    }

    @Test("predict: files, folders and stdin; --csv and --top-k; a bad file fails alone")
    func predict() throws {
        let t = try Self.trained()
        let files = try ImageFiles.list(t.faces)
        #expect(files.count == Self.count)
        let one = files[0]
        let all = try predictions(t, model: t.model, [t.faces])
        #expect(all.count == Self.count)
        let fromStdin = try run(t, ["predict", "--model", t.model, "--json", "-"], stdin: URL(fileURLWithPath: one))
        try #require(fromStdin.status == 0, "\(fromStdin.summary)")
        let stdinRow = try #require((try json(fromStdin.stdout) as? [[String: Any]])?.first?["predictions"])
        // One image alone or among 300 (other batch sizes round differently in the last bits).
        let alone = numbers(stdinRow), batched = numbers(try #require(all[one]))
        #expect(alone.keys.sorted() == batched.keys.sorted())
        for (key, value) in alone { #expect(abs(value - batched[key]!) <= 1e-5 * max(1, abs(value)), "\(key)") }

        let notAnImage = t.scratch.path("notes.jpg")
        try Data("these are notes, not a photo".utf8).write(to: URL(fileURLWithPath: notAnImage))
        let mixed = try run(t, ["predict", "--model", t.model, "--csv", "--top-k", "2", files[1], notAnImage, files[2]])
        #expect(mixed.status == 1, "\(mixed.summary)")
        #expect(mixed.stderr.contains(notAnImage) && mixed.stderr.contains("not an image"), "\(mixed.stderr)")
        let lines = mixed.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "\(mixed.stdout)")
        #expect(lines[0] == "image,age,gender,gender_probability,race,race_probability,race_2,race_2_probability,error")
        #expect(lines[1].hasPrefix(files[1] + ",") && lines[1].hasSuffix(","), "a scored row has an empty error cell")
        #expect(lines[2].hasPrefix(notAnImage + ",,,,,,,,") && lines[2].contains("not an image"))
        #expect(lines[3].hasPrefix(files[2] + ","))

        let table = try run(t, ["predict", "--model", t.model, one])
        #expect(table.status == 0 && table.stdout.contains("age") && table.stdout.contains((one as NSString).lastPathComponent))
    }

    @Test("finetune --heads race --freeze-backbone: the frozen heads' outputs stay bit-identical")
    func finetuneOneHead() throws {
        let t = try Self.trained()
        let output = t.scratch.path("runs/race-only")
        let r = try run(t, ["finetune", "--model", t.model, "--synthetic-count", String(Self.count), "--heads", "race",
                            "--freeze-backbone", "--epochs", "2", "--lr", "0.01", "--output", output])
        try #require(r.status == 0, "\(r.summary)")
        for file in ["best.safetensors", "last.safetensors", "state.safetensors", "metrics.jsonl", "report.json"] {
            #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent(file)), "no \(file)")
        }
        let files = Array(try ImageFiles.list(t.faces).prefix(40))
        let before = try predictions(t, model: t.model, files)
        let after = try predictions(t, model: (output as NSString).appendingPathComponent("last.safetensors"), files)
        var raceChanged = false
        for file in files {
            let b = try #require(before[file]), a = try #require(after[file])
            for task in ["age", "gender"] {
                #expect(numbers(try #require(b[task])) == numbers(try #require(a[task])), "\(task) of \(file) changed")
            }
            if numbers(try #require(b["race"])) != numbers(try #require(a["race"])) { raceChanged = true }
        }
        #expect(raceChanged, "the race head was not trained")
    }

    @Test("finetune --add-task: new heads from a CSV on the shared backbone; the old heads keep working")
    func addTask() throws {
        let t = try Self.trained()
        let files = try ImageFiles.list(t.faces)
        // Labels derived from the faces' ages (in their names): learnable, no pixel leaks.
        var csv = "path,old,tags\n"
        for file in files {
            let age = Int((file as NSString).lastPathComponent.split(separator: "_")[0])!
            csv += "\(file),\(age >= 50 ? "yes" : "no"),\(age >= 60 ? "grey;wrinkles" : age < 15 ? "child" : "-")\n"
        }
        let manifest = t.scratch.path("faces.csv")
        try csv.write(toFile: manifest, atomically: true, encoding: .utf8)
        let output = t.scratch.path("runs/added")
        let r = try run(t, ["finetune", "--model", t.model, "--data", manifest, "--add-task", "old:binary:no,yes",
                            "--add-task", "tags:multilabel:child,grey,wrinkles", "--freeze-backbone", "--epochs", "2",
                            "--output", output])
        try #require(r.status == 0, "\(r.summary)")
        #expect(r.stdout.contains("added task old") && r.stdout.contains("added task tags"), "\(r.stdout)")
        let model = (output as NSString).appendingPathComponent("best.safetensors")
        let sample = Array(files.prefix(30))
        let before = try predictions(t, model: t.model, sample)
        let after = try predictions(t, model: model, sample)
        for file in sample {
            let a = try #require(after[file])
            #expect(Set(a.keys) == ["age", "gender", "race", "old", "tags"])
            for task in ["age", "gender", "race"] {
                #expect(numbers(try #require(before[file]?[task])) == numbers(try #require(a[task])), "\(task) of \(file) changed")
            }
            let tags = try #require(a["tags"] as? [String: Any])
            #expect((tags["probabilities"] as? [String: Double])?.count == 3)
        }
        let evaluation = try run(t, ["evaluate", "--model", model, "--data", manifest, "--json"])
        try #require(evaluation.status == 0, "\(evaluation.summary)")
        let e = try #require(try json(evaluation.stdout) as? [String: Any])
        let metrics = try #require(e["metrics"] as? [String: Double])
        #expect(metrics["old/accuracy"] != nil && metrics["tags/mean_f1"] != nil, "\(metrics)")
        #expect(e["unlabelled_tasks"] as? [String] == ["age", "gender", "race"])
    }

    /// A failing command: non-zero status, a message naming `mentions`, and nothing at `untouched`.
    func refused(_ t: Trained, _ arguments: [String], mentions: [String], untouched: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try run(t, arguments)
        #expect(r.status != 0, "accepted: \(arguments)\n\(r.summary)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.stderr.contains(m), "the error does not mention '\(m)': \(r.stderr)", sourceLocation: sourceLocation)
        }
        #expect(!r.stderr.contains("Fatal error") && !r.signalled, sourceLocation: sourceLocation)
        if let untouched {
            #expect(!FileManager.default.fileExists(atPath: untouched), "\(untouched) was written", sourceLocation: sourceLocation)
        }
    }

    @Test("bad input: a clear message naming the thing, nothing written, non-zero exit")
    func badInput() throws {
        let t = try Self.trained()
        let s = t.scratch
        let out = s.path("bad-evaluation.json")
        let missing = s.path("no-such-model.safetensors")
        try refused(t, ["evaluate", "--model", missing, "--output", out], mentions: [missing], untouched: out)
        try refused(t, ["predict", "--model", missing, t.faces], mentions: [missing])
        let garbage = s.path("garbage.safetensors")
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: garbage))
        try refused(t, ["evaluate", "--model", garbage, "--output", out], mentions: [garbage], untouched: out)
        let foreign = s.path("foreign.safetensors")
        try SafeTensors.save(ordered: [("w", Tensor.zeros([3]))], metadata: ["format": "pt"], to: foreign)
        try refused(t, ["predict", "--model", foreign, t.faces], mentions: [foreign, "not a HydraNet checkpoint"])
        try refused(t, ["predict", "--model", s.path("runs/base/state.safetensors"), t.faces], mentions: ["training state"])
        try refused(t, ["predict", "--model", t.model, "--image-size", "64", t.faces], mentions: ["32×32", "64×64"])
        try refused(t, ["finetune", "--model", t.model, "--image-size", "48", "--output", s.path("runs/x1")],
                    mentions: ["32×32"], untouched: s.path("runs/x1"))
        try refused(t, ["finetune", "--model", t.model, "--add-task", "age:regression", "--output", s.path("runs/x2")],
                    mentions: ["already has a task 'age'"], untouched: s.path("runs/x2"))
        let empty = s.path("empty-folder")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try refused(t, ["predict", "--model", t.model, empty], mentions: [empty, "no .jpg"])
        try refused(t, ["evaluate", "--model", t.model, "--data", empty, "--output", out], mentions: [empty], untouched: out)

        // CSV manifests.
        let face = try ImageFiles.list(t.faces)[0], other = try ImageFiles.list(t.faces)[1]
        func manifest(_ name: String, _ text: String) throws -> String {
            let path = s.path(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let noColumn = try manifest("no-column.csv", "path,smile\n\(face),yes\n")
        try refused(t, ["evaluate", "--model", t.model, "--data", noColumn, "--task", "hair:multiclass", "--output", out],
                    mentions: ["hair", "smile"], untouched: out)
        let unknownClass = try manifest("unknown-class.csv", "path,hair\n\(face),black\n\(other),green\n")
        try refused(t, ["finetune", "--model", t.model, "--data", unknownClass, "--add-task", "hair:multiclass:black,brown",
                        "--output", s.path("runs/x3")], mentions: ["green", "hair"], untouched: s.path("runs/x3"))
        let notNumeric = try manifest("not-numeric.csv", "path,age\n\(face),31\n\(other),thirty\n")
        try refused(t, ["evaluate", "--model", t.model, "--data", notNumeric, "--output", out], mentions: ["thirty", "age"],
                    untouched: out)
        let duplicate = try manifest("duplicate.csv", "path,age\n\(face),31\n\(face),32\n")
        try refused(t, ["evaluate", "--model", t.model, "--data", duplicate, "--output", out],
                    mentions: [(face as NSString).lastPathComponent], untouched: out)
        let wrongClasses = try manifest("wrong-classes.csv", "path,gender\n\(face),woman\n\(other),man\n")
        try refused(t, ["evaluate", "--model", t.model, "--data", wrongClasses, "--output", out], mentions: ["woman", "gender"],
                    untouched: out)
    }
}
