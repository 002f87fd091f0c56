import CLITestSupport
import Foundation
import HydraNet
import Testing

/// `hydranet train` on a CSV manifest (with a multilabel column), with `--config`, and the
/// CSV's bad inputs: the built executable in a subprocess.
@Suite("command line: CSV data and config files")
struct CSVCommandLineTests {
    /// A one-epoch run of a tiny ConvNet at 16×16 on one thread.
    static let small = ["--image-size", "16", "--backbone", "convnet", "--batch-size", "8", "--epochs", "1",
                        "--schedule", "none", "--seed", "2", "--threads", "1", "--device", "cpu"]
    static let tasks = ["--task", "age:regression", "--task", "hair:multiclass:black,brown,blond",
                        "--task", "tags:multilabel:glasses,hat,beard"]

    @Test("train --data faces.csv --task …: a multilabel head trains; its metrics are in the test metrics")
    func csvTrain() throws {
        let scratch = try ScratchFolder("cli-csv")
        defer { scratch.cleanUp() }
        let csv = try writeTinyCSV(in: scratch.url.path)
        let output = scratch.path("run")
        let outcome = try HydranetProcess.run(["train", "--data", csv] + Self.tasks + Self.small + ["--output", output],
                                              cache: scratch.path("cache"), logs: scratch.url)
        try #require(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        #expect(outcome.stdout.contains("tags (3 labels: glasses/hat/beard)"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("tags: 20 labelled, 4 missing; glasses"), "\(outcome.stdout)")
        let metrics = try RunFiles(output).decode([String: Double].self, "test-metrics.json")
        #expect(metrics["tags/mean_f1"] != nil && metrics["hair/accuracy"] != nil, "\(metrics.keys.sorted())")
    }

    @Test("--config run.yaml supplies the flags; the command line overrides it")
    func config() throws {
        let scratch = try ScratchFolder("cli-config")
        defer { scratch.cleanUp() }
        let csv = try writeTinyCSV(in: scratch.url.path)
        let yaml = """
            data: \(csv)
            task: [age:regression, "tags:multilabel:glasses,hat,beard"]
            image-size: 16
            backbone: convnet
            batch-size: 8
            epochs: 3
            schedule: none
            no-augment: true
            threads: 1
            device: cpu
            output: \(scratch.path("from-file"))
            """
        let file = scratch.path("run.yaml")
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))
        let output = scratch.path("run")
        let outcome = try HydranetProcess.run(["train", "--config", file, "--epochs", "1", "--output", output],
                                              cache: scratch.path("cache"), logs: scratch.url)
        try #require(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        #expect(outcome.stdout.contains("heads age (regression, L1); tags (3 labels, BCE)"), "\(outcome.stdout)")
        #expect(try RunFiles(output).epochReports().count == 1, "--epochs on the command line overrides the file's 3")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("from-file")))

        // An unknown key is refused before anything runs.
        try Data("epochs: 1\nlearning-rate: 0.1\n".utf8).write(to: URL(fileURLWithPath: file))
        let bad = try HydranetProcess.run(["train", "--config", file, "--output", output], cache: scratch.path("cache"),
                                          logs: scratch.url)
        #expect(bad.status == 64 && !bad.signalled, "\(bad.summary)")
        #expect(bad.stderr.contains("config file \(file), line 2: unknown key 'learning-rate'; the command's flags are: "),
                "\(bad.stderr)")
    }

    @Test("bad CSV input: no --task (the columns are listed), a duplicate image, an unknown label, a missing column")
    func badCSV() throws {
        let scratch = try ScratchFolder("cli-csv-bad")
        defer { scratch.cleanUp() }
        let csv = try writeTinyCSV(in: scratch.url.path, count: 12)
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        let duplicate = scratch.path("duplicate.csv")
        try Data((text + "img/3.jpg,30,black,hat\n").utf8).write(to: URL(fileURLWithPath: duplicate))
        let cases: [([String], Int32, String)] = [
            (["--data", csv], 64, "declare the task columns to train on with --task NAME:KIND[:CLASSES] (KIND: regression, "
                + "binary, multiclass, multilabel; e.g. --task age:regression); the CSV's columns are: 'path', 'age', 'hair', 'tags'"),
            (["--data", csv, "--task", "height:regression"], 64, "no column 'height'"),
            (["--data", csv, "--task", "tags:multilabel:glasses,"], 64, "task declaration 'tags:multilabel:glasses,': an empty class name"),
            (["--data", duplicate, "--task", "age:regression"], 1,
             "\(duplicate), line 14: image 'img/3.jpg' is listed twice (first on line 5)"),
            (["--data", csv, "--task", "tags:multilabel:glasses,beard"], 1,
             "\(csv), line 4: unknown class 'hat' in column 'tags' (known: 'glasses', 'beard')"),
        ]
        for (arguments, status, message) in cases {
            let output = scratch.path("run")
            let outcome = try HydranetProcess.run(["train"] + arguments + Self.small + ["--output", output],
                                                  cache: scratch.path("cache"), logs: scratch.url)
            #expect(outcome.status == status && !outcome.signalled, "\(arguments): \(outcome.summary)")
            #expect(outcome.stderr.contains(message), "\(arguments): expected '\(message)' in \(outcome.stderr)")
            #expect(!outcome.stderr.contains("Fatal error"))
            #expect((try? FileManager.default.contentsOfDirectory(atPath: output))?.isEmpty ?? true, "a refused run wrote outputs")
        }
    }
}
