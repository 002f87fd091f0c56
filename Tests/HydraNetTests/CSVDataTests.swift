import CLITestSupport
import Foundation
import HydraData
import HydraNet
import Testing
import Torch
import TorchNN

@Suite("CSV data: multilabel training, data sources, config files")
struct CSVDataTests {
    @Test("a multilabel CSV column trains end to end: finite losses, mean_f1 among the metrics")
    func multilabelTraining() throws {
        let scratch = try ScratchFolder("csv-train")
        defer { scratch.cleanUp() }
        let path = try writeTinyCSV(in: scratch.url.path)
        let files = try CSVManifest.load(path, tasks: [.regression("age"), .classification("hair"),
                                                       .multilabel("tags", labelNames: ["glasses", "hat", "beard"])])
        let data = try DecodedCache.decode(files, transform: ImageTransform(size: 16), options: DecodeOptions(progress: .never))
        let tasks = data.tasks.map { HydraTask($0) }
        #expect(tasks[2].kind == .multilabel(3) && tasks[2].classNames == ["glasses", "hat", "beard"])
        #expect(tasks[2].loss == .binaryCrossEntropy(posWeight: nil))
        let g = Generator(seed: 7)
        let model = try HydraNetModel(backbone: ConvNet(channels: [4, 8], generator: g), featureCount: 8, tasks: tasks,
                                      headHidden: [8], generator: g)
        var config = TrainingConfiguration()
        config.optimizer = .adamw
        let trainer = try Trainer(model: model, weighting: .loss(EqualWeighting()), configuration: config)
        let loader = try DataLoader(data, options: LoaderOptions(batchSize: 8, shuffle: true, seed: 1, prefetch: false))
        var steps = 0
        for batch in loader.epoch(0) {
            #expect(batch.labels[2].shape == [batch.count, 3])
            let result = try trainer.step(batch, columns: try trainer.columns(for: data.tasks))
            #expect(result.losses.allSatisfy { $0.map(\.isFinite) ?? true }, "\(result.losses)")
            #expect(result.losses[2] != nil)
            steps += 1
        }
        #expect(steps == 3)
        let report = try trainer.evaluate(loader)
        let meanF1 = try #require(report["tags/mean_f1"], "metrics: \(report.metrics.map(\.key))")
        #expect((0...1).contains(meanF1))
        #expect(report["tags/f1_beard"] != nil)
        #expect(try #require(report.losses["tags"]).isFinite)
        // Rows with a tags cell ('-' included) are labelled; empty cells are not.
        #expect(report.labelled["tags"] == 20)

        // A model whose multilabel head has another number of labels does not fit the data.
        let other = try HydraNetModel(backbone: ConvNet(channels: [4], generator: g), featureCount: 4,
                                      tasks: [HydraTask(name: "tags", kind: .multilabel(2))], headHidden: [4], generator: g)
        let mismatched = try Trainer(model: other, weighting: .loss(EqualWeighting()), configuration: config)
        #expect(throws: HydraError.self) { try mismatched.columns(for: data.tasks) }
        // A batch whose multilabel labels have the wrong shape throws (never traps).
        var batch = loader.makeBatch([0, 1], epoch: 0, index: 0)
        batch.labels[2] = Tensor.zeros([2])
        #expect(throws: HydraError.self) { try trainer.step(batch, columns: [0, 1, 2]) }
    }

    @Test("data flags → data source: synthetic, folder, CSV with declarations; CSV errors list the columns")
    func dataSource() throws {
        let scratch = try ScratchFolder("csv-source")
        defer { scratch.cleanUp() }
        let path = try writeTinyCSV(in: scratch.url.path, count: 2)
        #expect(try RunConfiguration.DataSource.parse(data: "synthetic", syntheticCount: 50) == .synthetic(count: 50, size: 64))
        #expect(try RunConfiguration.DataSource.parse(data: "/some/folder") == .utkface(folder: "/some/folder"))
        let source = try RunConfiguration.DataSource.parse(data: path, tasks: ["age:regression", "tags:multilabel:glasses,hat"])
        #expect(source == .csv(path: path, columns: [.regression("age"), .multilabel("tags", labelNames: ["glasses", "hat"])],
                               imageColumn: "path"))

        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let columns = "the CSV's columns are: 'path', 'age', 'hair', 'tags'"
        let noTasks = message { try RunConfiguration.DataSource.parse(data: path) }
        #expect(noTasks.contains("declare the task columns to train on with --task") && noTasks.contains(columns), "\(noTasks)")
        let unknownColumn = message { try RunConfiguration.DataSource.parse(data: path, tasks: ["height:regression"]) }
        #expect(unknownColumn.contains("no column 'height'") && unknownColumn.contains(columns), "\(unknownColumn)")
        let imageColumn = message { try RunConfiguration.DataSource.parse(data: path, tasks: ["age:regression"], imageColumn: "file") }
        #expect(imageColumn.contains("no column 'file' for the image paths (set it with --image-column)"), "\(imageColumn)")
        let twice = message { try RunConfiguration.DataSource.parse(data: path, tasks: ["age:regression", "age:regression"]) }
        #expect(twice.contains("task 'age' is declared twice"), "\(twice)")
        let bad = message { try RunConfiguration.DataSource.parse(data: path, tasks: ["age:number"]) }
        #expect(bad.contains("task declaration 'age:number': unknown kind 'number'"), "\(bad)")
        let missing = message { try RunConfiguration.DataSource.parse(data: "/nonexistent/faces.csv", tasks: ["age:regression"]) }
        #expect(missing.contains("CSV manifest not found: /nonexistent/faces.csv"), "\(missing)")
        let synthetic = message { try RunConfiguration.DataSource.parse(data: "synthetic", tasks: ["age:regression"]) }
        #expect(synthetic.contains("--task declares columns of a CSV manifest"), "\(synthetic)")
    }

    @Test("YAML config → argument tokens: scalars, lists, booleans, nulls, exclusions")
    func yamlTokens() throws {
        let yaml = """
            # a run
            epochs: 5
            weighting: upgrad
            task: [age:regression, "hair:multiclass:black,brown"]
            small-stem: true
            no-augment: false
            pretrained: ~
            weight-decay: -1e-4
            output: "true"
            """
        #expect(try ConfigFile.arguments(yaml: yaml, source: "run.yaml") == [
            "--epochs=5", "--weighting=upgrad", "--task=age:regression", "--task=hair:multiclass:black,brown",
            "--small-stem", "--weight-decay=-1e-4", "--output=true",
        ])
        #expect(try ConfigFile.arguments(yaml: yaml, source: "run.yaml", excluding: ["task", "epochs"]) == [
            "--weighting=upgrad", "--small-stem", "--weight-decay=-1e-4", "--output=true",
        ])
        #expect(try ConfigFile.arguments(yaml: "# nothing\n", source: "empty.yaml") == [])
        // YAML 1.1's other booleans are words: `tensorboard: off` is the value "off".
        #expect(try ConfigFile.arguments(yaml: "tensorboard: off\nsmall-stem: TRUE\nquiet: false\n", source: "run.yaml") == [
            "--tensorboard=off", "--small-stem",
        ])
        // A flag with an inversion: false gives the inversion (the default may be on), unless
        // the command line gives either name.
        let known: Set<String> = ["flip-tta", "no-flip-tta", "channels-last", "no-channels-last", "quiet"]
        #expect(try ConfigFile.arguments(yaml: "flip-tta: false\nchannels-last: true\nquiet: false\n", source: "run.yaml",
                                         knownKeys: known) == ["--no-flip-tta", "--channels-last"])
        #expect(try ConfigFile.arguments(yaml: "flip-tta: false\n", source: "run.yaml", knownKeys: known,
                                         excluding: ["no-flip-tta"]) == [])
    }

    @Test("a task declared with another kind than the model's, and duplicate class names, are refused")
    func modelTaskChecks() throws {
        let scratch = try ScratchFolder("csv-model-tasks")
        defer { scratch.cleanUp() }
        let path = try writeTinyCSV(in: scratch.url.path)
        let age = HydraTask(name: "age", kind: .regression)
        #expect(throws: HydraError.self) {
            _ = try RunConfiguration.DataSource.parse(data: path, tasks: ["age:multiclass"], modelTasks: [age])
        }
        guard case let .csv(_, columns, _)? = try? RunConfiguration.DataSource.parse(data: path, modelTasks: [age]) else {
            Issue.record("the model's task was not read from the CSV")
            return
        }
        #expect(columns.map(\.name) == ["age"])
        #expect(throws: HydraError.self) {
            try HydraTask(name: "g", kind: .binary, classNames: ["yes", "yes"]).validate()
        }
    }

    @Test("bad config files: unknown keys, not a mapping, nesting, bad YAML, unreadable files", arguments: [
        ("epochs: 5\nbogus: 1\n", "config file run.yaml, line 2: unknown key 'bogus'; the command's flags are: epochs, task"),
        ("- epochs\n- 5\n", "config file run.yaml, line 1: expected a mapping of flag names to values"),
        ("just text\n", "found a single value"),
        ("epochs:\n  value: 5\n", "the value of 'epochs' is a mapping"),
        ("task: [[a]]\n", "the list of 'task' may hold only single values"),
        ("epochs: [5\n", "config file run.yaml: not valid YAML"),
        ("epochs: 5\nepochs: 6\n", "key 'epochs' appears twice"),
        ("config: other.yaml\n", "a config file cannot name another config file"),
    ])
    func badYAML(_ yaml: String, _ message: String) throws {
        do {
            let tokens = try ConfigFile.arguments(yaml: yaml, source: "run.yaml", knownKeys: ["epochs", "task", "config"])
            Issue.record("accepted: \(tokens)")
        } catch let error as HydraError {
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test("--config FILE expands after the subcommand; command-line flags override the file")
    func expand() throws {
        let scratch = try ScratchFolder("config-expand")
        defer { scratch.cleanUp() }
        let file = scratch.path("run.yaml")
        try Data("epochs: 5\ntask: [a:regression, b:binary]\nseed: 3\n".utf8).write(to: URL(fileURLWithPath: file))
        var seen: [[String]] = []
        let known: ([String]) -> Set<String>? = { path in
            seen.append(path)
            return ["epochs", "task", "seed"]
        }
        let subcommands: Set<String> = ["train", "evaluate"]
        #expect(try ConfigFile.expand(["train", "--config", file, "--epochs", "1", "--task=c:binary"],
                                      subcommands: subcommands, knownKeys: known)
                == ["train", "--seed=3", "--epochs", "1", "--task=c:binary"])
        #expect(try ConfigFile.expand(["--config=\(file)", "train"], subcommands: subcommands, knownKeys: known)
                == ["train", "--epochs=5", "--task=a:regression", "--task=b:binary", "--seed=3"])
        #expect(try ConfigFile.expand(["--config", file], subcommands: subcommands, knownKeys: known)
                == ["--epochs=5", "--task=a:regression", "--task=b:binary", "--seed=3"])
        #expect(seen == [["train"], ["train"], []])
        // No --config: unchanged (also after a `--` terminator).
        #expect(try ConfigFile.expand(["train", "--epochs", "2"], subcommands: subcommands) == ["train", "--epochs", "2"])
        #expect(try ConfigFile.expand(["train", "--", "--config", "x"], subcommands: subcommands) == ["train", "--", "--config", "x"])

        for (arguments, message) in [
            (["train", "--config"], "--config needs a file name"),
            (["--config", file, "--config", file], "--config is given more than once"),
            (["--config", scratch.path("missing.yaml")], "config file \(scratch.path("missing.yaml")): no such file"),
            (["--config", scratch.url.path], "cannot be read"),
        ] {
            do {
                let expanded = try ConfigFile.expand(arguments, subcommands: subcommands)
                Issue.record("\(arguments) accepted: \(expanded)")
            } catch let error as HydraError {
                #expect(error.description.contains(message), "\(arguments): \(error)")
            }
        }
    }
}
