import Foundation
import HydraData
import Torch
import TorchNN

/// A complete training run: loads (or generates) the data, decodes it through the cache,
/// splits it, builds the model and trainer, trains with validation after each epoch, keeps
/// the best checkpoint (validation Δm), the last, and the full training state (resumable),
/// evaluates the best on the test split, and writes `metrics.jsonl`, `report.json` and
/// `test-metrics.json` in the output folder — every file crash-safely (``AtomicFile``).
public final class ExperimentRun {
    public let configuration: RunConfiguration
    public let data: DecodedDataset
    public let splits: DatasetSplits
    public let model: HydraNetModel
    public let trainer: Trainer
    /// Human-readable progress lines (the CLI prints them).
    public var log: (String) -> Void
    /// Called after each epoch, once its report is logged and its checkpoints and training
    /// state are written (e.g. to copy or inspect them); an error thrown here stops the run.
    public var onEpoch: ((EpochReport) throws -> Void)?

    public init(_ configuration: RunConfiguration, log: @escaping (String) -> Void = { print($0) }) throws {
        try configuration.validate()
        self.configuration = configuration
        self.log = log
        let files: FileDataset
        switch configuration.data {
        case let .synthetic(count, size):
            let generator = SyntheticFaces(count: count, size: size, seed: configuration.training.seed,
                                           missingRaceFraction: 0.05)
            let folder = generator.defaultFolder(cacheDirectory: configuration.cacheDirectory)
            log("data: \(count) synthetic faces (\(size)×\(size)) in \(folder)")
            files = try generator.write(to: folder)
        case let .utkface(folder):
            files = try UTKFace.load(folder: folder)
            log("data: \(files.count) UTKFace images from \(folder)")
            log(files.report.description)
        case let .csv(path, columns, imageColumn):
            files = try CSVManifest.load(path, imageColumn: imageColumn, tasks: columns)
            log("data: \(files.count) images from the CSV manifest \(path) (tasks "
                + files.tasks.map(\.description).joined(separator: "; ") + ")")
            log(files.report.description)
        }
        var options = DecodeOptions()
        options.progress = .auto
        data = try DecodedCache(directory: configuration.cacheDirectory)
            .load(files, transform: ImageTransform(size: configuration.imageSize), options: options)
        log("decoded \(data.count) images at \(configuration.imageSize)×\(configuration.imageSize) (cache \(data.cacheStatus))")
        splits = try data.splits()
        log("split: \(splits.train.count) train / \(splits.validation.count) validation / \(splits.test.count) test")

        var tasks = data.tasks.map { HydraTask($0) }
        for (i, task) in tasks.enumerated() where task.kind == .regression {
            let values = Tensor.where(data.masks[i], data.labels[i].to(dtype: .float64), Tensor.full([data.count], .nan, dtype: .float64))
                .indexSelect(dim: 0, index: Tensor(splits.train.map(Int64.init))).scalars(as: Double.self)
                .filter { !$0.isNaN }
            tasks[i].fitStandardization(values)
        }
        // One generator, seeded from the run's seed, draws the initial weights and then the
        // dropout masks: the run never touches libtorch's global generator.
        let generator = Generator(seed: configuration.training.seed)
        let backbone = try ExperimentRun.makeBackbone(configuration, generator: generator)
        model = try HydraNetModel(backbone: backbone.module, featureCount: backbone.features, tasks: tasks,
                                  headHidden: configuration.headHidden, headDropout: configuration.headDropout,
                                  generator: generator)
        model.to(device: configuration.device)
        if configuration.freezeBackbone { model.freeze(backbone: true) }
        if !configuration.frozenHeads.isEmpty {
            let unknown = configuration.frozenHeads.filter { name in !tasks.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw HydraError.invalidConfiguration("cannot freeze unknown heads \(unknown); the tasks are \(tasks.map(\.name))")
            }
            model.freeze(heads: configuration.frozenHeads)
        }
        var training = configuration.training
        let steps = training.epochs * ((splits.train.count + configuration.batchSize - 1) / configuration.batchSize)
        switch configuration.schedule {
        case .none: break
        case .cosine: training.schedule = .cosineAnnealing(tMax: Swift.max(steps, 1))
        case .onecycle:
            training.schedule = .oneCycle(maxLR: training.learningRate * training.backboneLearningRateScale,
                                          totalSteps: Swift.max(steps, 4) + 1)
        }
        let weighting = try WeightingFactory.make(configuration.weighting, tasks: tasks, source: configuration.gradientSource,
                                                  seed: configuration.training.seed,
                                                  staticWeights: configuration.staticWeights)
        trainer = try Trainer(model: model, weighting: weighting, configuration: training)
        log("model: \(configuration.backbone.rawValue) backbone (\(backbone.features) features), heads "
            + tasks.map(\.description).joined(separator: "; ") + "; \(model.parameterCount()) parameters")
        log("weighting: \(weighting.name)\(gradientSourceNote(weighting)); optimizer \(configuration.training.optimizer.rawValue) "
            + "lr \(configuration.training.learningRate); device \(configuration.device)")
    }

    private func gradientSourceNote(_ w: WeightingMethod) -> String {
        if case let .gradient(_, source) = w { return " (\(source.rawValue) gradients)" }
        return ""
    }

    static func makeBackbone(_ c: RunConfiguration, generator: Generator) throws -> (module: Module, features: Int) {
        let depth: ResNet.Depth
        switch c.backbone {
        case .convnet:
            if c.pretrainedWeights != nil {
                throw HydraError.invalidConfiguration("--pretrained loads torchvision ResNet weights: use a resnet backbone")
            }
            let net = ConvNet(channels: [32, 64, 128], generator: generator)
            return (net, net.featureCount)
        case .resnet18: depth = .resnet18
        case .resnet34: depth = .resnet34
        case .resnet50: depth = .resnet50
        }
        let net = ResNet(ResNet.Configuration(depth: depth, numClasses: nil, smallImageStem: c.smallImageStem),
                         generator: generator)
        if let path = c.pretrainedWeights {
            var weights = path.hasSuffix(".safetensors") ? try StateDict.load(safetensors: path) : try PthFile.load(path)
            for key in weights.keys where key.hasPrefix("fc.") { weights[key] = nil }
            let report = try net.loadStateDict(weights, strict: false)
            guard report.missingKeys.isEmpty else {
                throw HydraError.invalidConfiguration("pretrained weights \(path) lack \(report.missingKeys.count) backbone "
                    + "keys, e.g. \(report.missingKeys.prefix(3)): not a torchvision \(c.backbone.rawValue)?")
            }
        }
        return (net, net.featureCount)
    }

    /// Trains, checkpoints and reports; returns the reports of every epoch of the run (for
    /// a resumed run, those of the epochs before the resume come from `metrics.jsonl`).
    ///
    /// Every file is written crash-safely (``AtomicFile``): killed at any moment, the output
    /// folder holds complete files only, and the run continues with
    /// ``RunConfiguration/resumeFrom`` set to its `state.safetensors`. A new run (no resume)
    /// first removes the outputs of an earlier run in the same folder.
    @discardableResult
    public func run() throws -> [EpochReport] {
        let c = configuration
        let fm = FileManager.default
        try fm.createDirectory(atPath: c.outputDirectory, withIntermediateDirectories: true)
        AtomicFile.removeStaleTemporaries(in: c.outputDirectory)
        let baseline = try c.baselineFile.map(DeltaM.loadBaseline)
        if let baseline, let path = c.baselineFile {
            // A baseline for other tasks would leave Δm (and so the best checkpoint) undefined.
            let names = model.tasks.map(\.name)
            guard baseline.keys.contains(where: { key in names.contains { key.hasPrefix($0 + "/") } }) else {
                throw HydraError.invalidConfiguration("baseline file \(path) has no metric of the tasks \(names) "
                    + "(its keys: \(baseline.keys.sorted().prefix(6).joined(separator: ", ")); expected e.g. "
                    + "\"\(names[0])/…\")")
            }
        }
        var loaderOptions = LoaderOptions(batchSize: c.batchSize, shuffle: true, dropLast: false, seed: c.training.seed,
                                          augmentation: c.augment ? .standard : nil, device: c.device)
        // A final training batch of one sample cannot be batch-normalised: drop it.
        loaderOptions.dropLast = splits.train.count % c.batchSize == 1
        let train = try DataLoader(data, rows: splits.train, options: loaderOptions)
        loaderOptions.dropLast = false
        loaderOptions.shuffle = false
        loaderOptions.augmentation = nil
        loaderOptions.batchSize = Swift.max(c.batchSize, 256)
        let validation = try DataLoader(data, rows: splits.validation, options: loaderOptions)
        let test = try DataLoader(data, rows: splits.test, options: loaderOptions)
        func output(_ name: String) -> String { (c.outputDirectory as NSString).appendingPathComponent(name) }
        let (best, last, state) = (output("best.safetensors"), output("last.safetensors"), output("state.safetensors"))
        let metricsLog: MetricsLog
        var reports: [EpochReport] = []
        if let resume = c.resumeFrom {
            try trainer.loadTrainingState(from: resume)
            log("resumed from \(resume) after epoch \(trainer.epoch) (step \(trainer.globalStep))")
            // Lines of epochs after the saved state belong to work lost with the crash.
            metricsLog = try MetricsLog.resume(at: output("metrics.jsonl"), afterEpoch: trainer.epoch)
            reports = try earlierReports(metricsLog)
        } else {
            // A new run: nothing of an earlier run in this folder may pass for this one's. The
            // state goes first: killed midway, the next run starts afresh rather than resuming.
            for name in ["state.safetensors", "best.safetensors", "last.safetensors", "report.json", "test-metrics.json"] {
                if fm.fileExists(atPath: output(name)) { try fm.removeItem(atPath: output(name)) }
            }
            metricsLog = try MetricsLog.create(at: output("metrics.jsonl"))
        }
        let meta = ["hydranet.weighting": trainer.weighting.name, "hydranet.image_size": String(c.imageSize),
                    "hydranet.backbone": c.backbone.rawValue]
        var stepLogError: Error?
        reports += try trainer.fit(train: train, validation: validation, baseline: baseline, onStep: { step, total, r in
            guard step % 20 == 0 || step == total, stepLogError == nil else { return }
            do {
                try metricsLog.append(["type": "step", "epoch": self.trainer.epoch + 1, "step": step, "of": total,
                                       "losses": self.named(r.losses), "weights": self.named(r.weights),
                                       "gram_condition": r.gramCondition as Any])
            } catch {
                stepLogError = error
            }
        }) { report in
            if let stepLogError { throw stepLogError }
            self.log(self.describe(report))
            try metricsLog.append(["type": "epoch", "epoch": report.epoch, "report": try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(report))])
            if report.isBest { try Checkpoint.save(self.model, to: best, metadata: meta) }
            try Checkpoint.save(self.model, to: last, metadata: meta)
            try self.trainer.saveTrainingState(to: state)
            try self.onEpoch?(report)
        }
        if fm.fileExists(atPath: best) { try Checkpoint.load(best, into: model) }
        let testReport = try trainer.evaluate(test)
        log("test (best epoch): " + testReport.metrics.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", "))
        let summary: [String: Any] = [
            "epochs": try JSONSerialization.jsonObject(with: JSONEncoder().encode(reports)),
            "test": try JSONSerialization.jsonObject(with: JSONEncoder().encode(testReport)),
            "weighting": trainer.weighting.name,
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: output("report.json"))
        try DeltaM.saveBaseline(testReport.metrics, to: output("test-metrics.json"))
        log("wrote best.safetensors, last.safetensors, state.safetensors (resume with --resume), metrics.jsonl, "
            + "report.json and test-metrics.json in \(c.outputDirectory)")
        return reports
    }

    /// The epoch reports an earlier (interrupted) part of this run logged.
    private func earlierReports(_ log: MetricsLog) throws -> [EpochReport] {
        try log.entries.filter { $0["type"] as? String == "epoch" }.map { entry in
            guard let report = entry["report"],
                  let value = try? JSONDecoder().decode(EpochReport.self, from: JSONSerialization.data(withJSONObject: report))
            else {
                throw HydraError.invalidData("\(log.path): the report of epoch \(entry["epoch"] ?? "?") is malformed")
            }
            return value
        }
    }

    private func named(_ values: [Double?]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (t, v) in zip(model.tasks, values) where v != nil { out[t.name] = v }
        return out
    }

    /// One line per epoch: losses, weights, key validation metrics, Δm.
    public func describe(_ r: EpochReport) -> String {
        var parts = ["epoch \(r.epoch)/\(configuration.training.epochs)"]
        parts.append("loss " + model.tasks.compactMap { t in r.trainLosses[t.name].map { String(format: "%@ %.3f", t.name, $0) } }
            .joined(separator: " "))
        if !r.weights.isEmpty {
            parts.append("w " + model.tasks.compactMap { t in r.weights[t.name].map { String(format: "%.2f", $0) } }
                .joined(separator: "/"))
        }
        if let v = r.validation {
            // Each task's primary metric (its first: MAE, accuracy, mean F1).
            let primary = model.tasks.compactMap { t in v.metrics.first { $0.task == t.name } }
            parts.append("val " + primary.map { String(format: "%@ %.3f", $0.key, $0.value) }.joined(separator: " "))
        }
        if let dm = r.deltaM { parts.append(String(format: "Δm %+.2f%%", dm)) }
        if r.isBest { parts.append("*") }
        parts.append(String(format: "%.1fs", r.seconds))
        return parts.joined(separator: " | ")
    }
}
