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
    /// The run's configuration (with ``RunConfiguration/timeBudget``, the epoch count it planned).
    public private(set) var configuration: RunConfiguration
    public let data: DecodedDataset
    public let splits: DatasetSplits
    public let model: HydraNetModel
    public let trainer: Trainer
    /// The preprocessing of the run's images (recorded in every checkpoint).
    public let input: ModelSpec.InputSpec
    /// Human-readable progress lines (the CLI prints them).
    public var log: (String) -> Void
    /// Called after each epoch, once its report is logged and its checkpoints and training
    /// state are written (e.g. to copy or inspect them); an error thrown here stops the run.
    public var onEpoch: ((EpochReport) throws -> Void)?
    /// Called after every training step (the progress display and TensorBoard have seen it).
    public var onStep: ((TrainingStepEvent) -> Void)?
    /// The run's final lines (test results, files written); nil: `log`. A quiet front end
    /// silences `log` and keeps these.
    public var summaryLog: ((String) -> Void)?
    /// Set (from any thread, e.g. a signal handler) to stop after the current step: the run
    /// saves the full training state and throws ``TrainingInterrupted`` (with its path).
    public var stopRequest = StopRequest()
    /// The TensorBoard event file of the last ``run()`` (nil when off or not started).
    public private(set) var tensorboardFile: String?
    /// The data-parallel group of a distributed run (nil: one process).
    public let processGroup: ProcessGroup?

    public init(_ configuration: RunConfiguration, log: @escaping (String) -> Void = writeLine) throws {
        try configuration.validate()
        self.configuration = configuration
        self.log = log
        // Distributed: every rank joins first (fails fast, within the timeout, if one is missing).
        let group = try configuration.distributed.map {
            try ProcessGroup(environment: $0, timeout: configuration.distributedTimeout)
        }
        processGroup = group
        if let group {
            log("distributed: rank \(group.rank) of \(group.worldSize) (gloo, rendezvous at "
                + "\(configuration.distributed!.masterAddress):\(configuration.distributed!.masterPort))")
        }
        let files = try configuration.data.files(seed: configuration.training.seed,
                                                 cacheDirectory: configuration.cacheDirectory, log: log)
        // A fine-tuning run starts from a checkpoint: its description fixes the input.
        let initial = try configuration.initialModel.map { try Checkpoint.loadModel($0, device: .cpu) }
        if let initial, let path = configuration.initialModel {
            guard initial.spec.input != nil else {
                throw HydraError.checkpoint("\(path) does not record its input preprocessing: it cannot be fine-tuned here")
            }
            log("model: \(path) (\(initial.spec.backbone.summary), input \(initial.spec.inputSummary), tasks "
                + initial.spec.tasks.map(\.name).joined(separator: ", ") + ")")
        }
        input = initial?.spec.input ?? ModelSpec.InputSpec(size: configuration.imageSize)
        var options = DecodeOptions()
        options.progress = configuration.progress
        var decoded = try DecodedCache(directory: configuration.cacheDirectory)
            .load(files, transform: input.transform, options: options)
        log("decoded \(decoded.count) images at \(input.transform.height)×\(input.transform.width) (\(decoded.cacheStatus))")

        let freshTasks: [HydraTask]
        if let initial {
            // Tasks the model has but the data lacks are unlabelled here (and their heads frozen).
            let missing = initial.model.tasks.filter { t in !decoded.tasks.contains { $0.name == t.name } }
            if !missing.isEmpty {
                decoded = try decoded.addingUnlabelledTasks(missing.map(\.dataSpec))
                log("tasks without labels in the data (heads kept fixed): " + missing.map(\.name).joined(separator: ", "))
            }
            freshTasks = []
        } else if let chosen = configuration.tasks {
            // A subset of the data's tasks (e.g. a single-task baseline): the others' labels stay unused.
            for name in chosen where !decoded.tasks.contains(where: { $0.name == name }) {
                throw HydraError.invalidConfiguration("cannot train task '\(name)': the data has no labels for it "
                    + "(its tasks: \(decoded.tasks.map(\.name).joined(separator: ", ")))")
            }
            freshTasks = decoded.tasks.filter { chosen.contains($0.name) }.map { HydraTask($0) }
        } else {
            freshTasks = decoded.tasks.map { HydraTask($0) }
        }
        let data = decoded, splits = try decoded.splits()
        log("split: \(splits.train.count) train / \(splits.validation.count) validation / \(splits.test.count) test")

        // One generator, seeded from the run's seed, draws the initial weights and then the
        // dropout masks: the run never touches libtorch's global generator.
        let generator = Generator(seed: configuration.training.seed)
        let net: HydraNetModel
        if let initial {
            net = initial.model
            for name in configuration.addTasks {
                guard !net.tasks.contains(where: { $0.name == name }) else {
                    throw HydraError.invalidConfiguration("cannot add task '\(name)': the model already has it "
                        + "(its tasks: \(net.tasks.map(\.name).joined(separator: ", ")))")
                }
                guard let spec = data.tasks.first(where: { $0.name == name }) else {
                    throw HydraError.invalidData("cannot add task '\(name)': the data has no labels for it "
                        + "(its tasks: \(data.tasks.map(\.name).joined(separator: ", ")))")
                }
                var task = HydraTask(spec)
                ExperimentRun.fitStandardization(&task, data: data, rows: splits.train)
                ExperimentRun.fitClassifierLoss(&task, configuration, data: data, rows: splits.train)
                try net.addTask(task, headHidden: configuration.headHidden, headDropout: configuration.headDropout,
                                  generator: generator)
                log("added task \(task.description) with a new head")
            }
            net.useGenerator(generator)
            let ignored = data.tasks.filter { t in !net.tasks.contains { $0.name == t.name } }
            if !ignored.isEmpty {
                log("data columns the model has no head for (ignored; add one with --add-task): "
                    + ignored.map(\.name).joined(separator: ", "))
            }
        } else {
            var fitted = freshTasks
            for i in fitted.indices {
                ExperimentRun.fitStandardization(&fitted[i], data: data, rows: splits.train)
                ExperimentRun.fitClassifierLoss(&fitted[i], configuration, data: data, rows: splits.train)
            }
            let backbone = try ExperimentRun.makeBackbone(configuration, generator: generator)
            net = try HydraNetModel(backbone: backbone.module, featureCount: backbone.features, tasks: fitted,
                                      headHidden: configuration.headHidden, headDropout: configuration.headDropout,
                                      generator: generator)
        }
        if let flip = configuration.testTimeFlip { net.testTimeFlip = flip }
        net.to(device: configuration.device)
        if configuration.freezeBackbone { net.freeze(backbone: true) }
        var frozen = configuration.frozenHeads
        if let trained = configuration.trainHeads {
            let unknown = trained.filter { name in !net.tasks.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw HydraError.invalidConfiguration("cannot train unknown heads \(unknown); the tasks are \(net.tasks.map(\.name))")
            }
            frozen += net.tasks.map(\.name).filter { !trained.contains($0) && !frozen.contains($0) }
        }
        if initial != nil {
            // A head whose task has no labels here would only drift (weight decay): keep it fixed.
            frozen += net.tasks.indices.filter { t in
                data.tasks.firstIndex { $0.name == net.tasks[t].name }.map { data.masks[$0].any().item() == 0 } ?? true
            }.map { net.tasks[$0].name }.filter { !frozen.contains($0) }
        }
        if !frozen.isEmpty {
            let unknown = frozen.filter { name in !net.tasks.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw HydraError.invalidConfiguration("cannot freeze unknown heads \(unknown); the tasks are \(net.tasks.map(\.name))")
            }
            net.freeze(heads: frozen)
        }
        guard net.parameters().contains(where: \.requiresGrad) else {
            throw HydraError.invalidConfiguration("everything is frozen: nothing would be trained")
        }
        let tasks = net.tasks
        self.data = data
        self.splits = splits
        model = net
        var training = configuration.training
        if let budget = configuration.timeBudget {
            training.epochs = try ExperimentRun.plannedEpochs(budget: budget, configuration, model: net, data: data,
                                                              splits: splits, input: input, group: group, log: log)
            self.configuration.training.epochs = training.epochs
        }
        let perRank = group.map { DataShard(rank: $0.rank, count: $0.worldSize).sampleCount(of: splits.train.count) }
            ?? splits.train.count
        let steps = training.epochs * ((perRank + configuration.batchSize - 1) / configuration.batchSize)
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
        if let group { try trainer.distribute(over: group, synchronizedBatchNorm: configuration.synchronizedBatchNorm) }
        let spec = ModelSpec(describing: model, input: input)
        log("model: \(spec.backbone.summary) backbone (\(model.featureCount) features), heads "
            + tasks.map(\.description).joined(separator: "; ") + "; \(model.parameterCount()) parameters")
        log("weighting: \(weighting.name)\(gradientSourceNote(weighting)); optimizer \(configuration.training.optimizer.rawValue) "
            + "lr \(configuration.training.learningRate); device \(configuration.device)"
            + (configuration.training.precision == .fp32 ? "" : ", \(configuration.training.precision.rawValue)")
            + (configuration.training.channelsLast ? ", channels-last" : "") + (model.testTimeFlip ? "; flip TTA" : "")
            + "; augmentation: \(configuration.augmentationDescription)")
    }

    /// The epochs of a run with a time budget: a resumed run's recorded count (its state's
    /// `hydranet.epochs`), else the count ``EpochBudget`` measures on this machine (in a
    /// distributed run, rank 0's, broadcast to all).
    static func plannedEpochs(budget: Double, _ c: RunConfiguration, model: HydraNetModel, data: DecodedDataset,
                              splits: DatasetSplits, input: ModelSpec.InputSpec, group: ProcessGroup?,
                              log: (String) -> Void) throws -> Int {
        if let resume = c.resumeFrom {
            let metadata = try SafeTensors.read(resume).metadata
            guard let text = metadata[Trainer.plannedEpochsKey], let epochs = Int(text),
                  (1...TrainingConfiguration.maxEpochs).contains(epochs) else {
                throw HydraError.checkpoint("\(resume) does not record the epoch count its time budget planned: resume it "
                    + "with --epochs N (N: the count its log gave)")
            }
            log("time budget: resuming the \(epochs) epochs planned at the start")
            return epochs
        }
        let weighting = try WeightingFactory.make(c.weighting, tasks: model.tasks, source: c.gradientSource,
                                                  seed: c.training.seed, staticWeights: c.staticWeights)
        let plan = try EpochBudget.measure(budget: budget, spec: ModelSpec(describing: model, input: input), model: model,
                                           weighting: weighting, configuration: c.training, data: data,
                                           train: splits.train, validation: splits.validation,
                                           options: trainingLoaderOptions(c, input: input, trainCount: splits.train.count, group: group),
                                           device: c.device)
        var epochs = plan.epochs
        if let group {
            let shared = Tensor([Int64(epochs)])
            try group.broadcast(shared, root: 0)
            epochs = Int(shared.scalars(as: Int64.self)[0])
            if epochs != plan.epochs { log("time budget: rank 0 planned \(epochs) epochs (this rank measured \(plan.epochs))") }
        }
        log(plan.summary)
        return epochs
    }

    /// The training loader's options: the run's batch size, seed, augmentation and
    /// normalization, this rank's shard, and no final batch of one sample (it cannot be
    /// batch-normalised).
    static func trainingLoaderOptions(_ c: RunConfiguration, input: ModelSpec.InputSpec, trainCount: Int,
                                      group: ProcessGroup?) -> LoaderOptions {
        var options = LoaderOptions(batchSize: c.batchSize, shuffle: true, dropLast: false, seed: c.training.seed,
                                    augmentation: c.trainingAugmentation, normalization: input.normalization, device: c.device)
        options.shard = group.map { DataShard(rank: $0.rank, count: $0.worldSize) }
        let perRank = options.shard?.sampleCount(of: trainCount) ?? trainCount
        options.dropLast = perRank % c.batchSize == 1
        return options
    }

    /// Fits a new regression task's standardisation on the labelled targets of `rows`.
    static func fitStandardization(_ task: inout HydraTask, data: DecodedDataset, rows: [Int]) {
        guard task.kind == .regression, let i = data.tasks.firstIndex(where: { $0.name == task.name }) else { return }
        let values = Tensor.where(data.masks[i], data.labels[i].to(dtype: .float64), Tensor.full([data.count], .nan, dtype: .float64))
            .indexSelect(dim: 0, index: Tensor(rows.map(Int64.init))).scalars(as: Double.self)
            .filter { !$0.isNaN }
        task.fitStandardization(values)
    }

    /// A new multiclass task's cross-entropy with the run's label smoothing and class
    /// weights (``RunConfiguration/classBalance``, fitted on the labelled targets of `rows`).
    static func fitClassifierLoss(_ task: inout HydraTask, _ c: RunConfiguration, data: DecodedDataset, rows: [Int]) {
        guard case let .multiclass(classes) = task.kind, c.labelSmoothing > 0 || c.classBalance != .none,
              let i = data.tasks.firstIndex(where: { $0.name == task.name }) else { return }
        let index = Tensor(rows.map(Int64.init))
        let labels = data.labels[i].indexSelect(dim: 0, index: index).to(dtype: .int64).scalars(as: Int64.self)
        let present = data.masks[i].indexSelect(dim: 0, index: index).to(dtype: .int64).scalars(as: Int64.self)
        var counts = [Int](repeating: 0, count: classes)
        for (label, p) in zip(labels, present) where p != 0 && (0..<Int64(classes)).contains(label) { counts[Int(label)] += 1 }
        task.loss = .crossEntropy(classWeights: c.classBalance.weights(counts: counts), labelSmoothing: c.labelSmoothing)
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
    ///
    /// - Throws: ``TrainingInterrupted`` (with ``TrainingInterrupted/statePath``) once
    ///   ``stopRequest`` is set: the step under way finished and the full training state,
    ///   position inside the epoch included, is saved. ``NonFiniteError`` for a non-finite
    ///   loss or gradient (``TrainingConfiguration/onNonFinite`` `.stop`): nothing of that
    ///   step is applied or saved; `best`, `last` and the state stay those of the last epoch.
    @discardableResult
    public func run() throws -> [EpochReport] {
        var c = configuration
        let fm = FileManager.default
        // Only rank 0 writes the run folder; the other ranks write into a scratch folder of
        // their own (removed at the end) and keep no TensorBoard events.
        var scratch: String?
        if let group = processGroup, group.rank != 0 {
            scratch = (NSTemporaryDirectory() as NSString)
                .appendingPathComponent("hydranet-rank\(group.rank)-\(ProcessInfo.processInfo.processIdentifier)")
            c.outputDirectory = scratch!
            c.writesTensorBoard = false
        }
        defer { if let scratch { try? fm.removeItem(atPath: scratch) } }
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
        var loaderOptions = ExperimentRun.trainingLoaderOptions(c, input: input, trainCount: splits.train.count,
                                                                group: processGroup)
        let train = try DataLoader(data, rows: splits.train, options: loaderOptions)
        loaderOptions.shard = nil
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
            let inside = trainer.epochProgress.stepsDone
            log("resumed from \(resume) after epoch \(trainer.epoch)"
                + (inside > 0 ? " and \(inside) steps of epoch \(trainer.epoch + 1)" : "") + " (step \(trainer.globalStep))")
            // Lines of epochs after the saved state belong to work lost with the crash.
            metricsLog = try MetricsLog.resume(at: output("metrics.jsonl"), afterEpoch: trainer.epoch, stepsDone: inside)
            reports = try earlierReports(metricsLog)
        } else {
            // A new run: nothing of an earlier run in this folder may pass for this one's. The
            // state goes first: killed midway, the next run starts afresh rather than resuming.
            for name in ["state.safetensors", "best.safetensors", "last.safetensors", "report.json", "test-metrics.json",
                         "report.html", "test-evaluation.json"] {
                if fm.fileExists(atPath: output(name)) { try fm.removeItem(atPath: output(name)) }
            }
            // The event files of an earlier run in the run folder's own TensorBoard folder
            // (a folder given with --tensorboard is the user's, and left alone).
            let events = output("tensorboard")
            if c.tensorboardDirectory == nil, let names = try? fm.contentsOfDirectory(atPath: events) {
                for name in names where name.hasPrefix("events.out.tfevents.") {
                    try fm.removeItem(atPath: (events as NSString).appendingPathComponent(name))
                }
            }
            metricsLog = try MetricsLog.create(at: output("metrics.jsonl"))
        }
        // TensorBoard: a new event file per process (a resumed run adds one beside the earlier).
        let tensorboard = c.writesTensorBoard
            ? try TensorBoardWriter(directory: c.tensorboardDirectory ?? output("tensorboard")) : nil
        tensorboardFile = tensorboard?.path
        let meta = ["hydranet.weighting": trainer.weighting.name]
        let taskNames = model.tasks.map(\.name)
        let progress = TrainingProgress(mode: c.progress, logEvery: c.logEvery, log: log)
        var sideError: Error?
        // The epoch's clock starts when the previous epoch's work (validation, saves) ends.
        var mark = DispatchTime.now().uptimeNanoseconds
        var epochStart: (time: UInt64, step: Int, epoch: Int)?
        trainer.stopRequest = stopRequest
        defer { trainer.stopRequest = nil }
        let onStep: (Int, Int, StepResult) -> Void = { step, total, r in
            let now = DispatchTime.now().uptimeNanoseconds
            if epochStart?.epoch != self.trainer.epoch { epochStart = (mark, step - 1, self.trainer.epoch) }
            let elapsed = Double(now - epochStart!.time) / 1e9
            let done = step - epochStart!.step
            let images = Double(Swift.min(done * c.batchSize, train.epochRowCount) * (self.processGroup?.worldSize ?? 1))
            let rate = elapsed > 0 ? images / elapsed : 0
            let secondsLeft = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
            let running = self.trainer.epochProgress
            let event = TrainingStepEvent(
                epoch: self.trainer.epoch + 1, epochs: c.training.epochs, step: step, steps: total,
                globalStep: self.trainer.globalStep, result: r, tasks: taskNames,
                runningLosses: self.named(running.meanLosses), runningWeights: self.named(running.meanWeights),
                skippedSteps: running.skipped, imagesPerSecond: rate, secondsLeft: secondsLeft,
                learningRate: self.trainer.optimizer.learningRates.first ?? 0)
            progress.step(event)
            // Every 20th step, the last of an epoch, and each step that measured the gradients' geometry.
            if sideError == nil, step % 20 == 0 || step == total || r.cosines != nil {
                do {
                    var line: [String: Any] = ["type": "step", "epoch": event.epoch, "step": step, "of": total,
                                               "losses": self.named(r.losses), "weights": self.named(r.weights),
                                               "gram_condition": r.gramCondition.flatMap { $0.isFinite ? $0 : nil } as Any]
                    if let cosines = r.cosines { line["cosines"] = self.namedPairs(cosines) }
                    if r.skipped != nil { line["skipped"] = true }
                    try metricsLog.append(line)
                    try tensorboard?.add(self.stepScalars(event), step: event.globalStep)
                } catch {
                    sideError = error
                }
            }
            self.onStep?(event)
        }
        do {
            reports += try trainer.fit(train: train, validation: validation, baseline: baseline, onStep: onStep) { report in
                progress.clear()
                if let sideError { throw sideError }
                self.log(self.describe(report))
                try metricsLog.append(["type": "epoch", "epoch": report.epoch, "report": try JSONSerialization.jsonObject(
                    with: JSONEncoder().encode(report))])
                try tensorboard?.add(self.epochScalars(report), step: self.trainer.globalStep)
                if report.isBest { try Checkpoint.save(self.model, input: self.input, to: best, metadata: meta) }
                try Checkpoint.save(self.model, input: self.input, to: last, metadata: meta)
                try self.trainer.saveTrainingState(to: state)
                try self.report(RunHistory(entries: metricsLog.entries), test: nil).write(to: output("report.html"))
                try self.onEpoch?(report)
                mark = DispatchTime.now().uptimeNanoseconds
            }
        } catch var stop as TrainingInterrupted {
            // The step under way has finished: save everything needed to continue from here.
            progress.clear()
            try trainer.saveTrainingState(to: state)
            stop.statePath = state
            throw stop
        } catch let error as NonFiniteError {
            // Nothing of the step was applied and nothing is saved: best, last and the state
            // stay those of the last finished epoch.
            progress.clear()
            try? metricsLog.append(["type": "nonfinite", "epoch": error.epoch, "step": error.step, "of": error.stepsPerEpoch,
                                    "task": error.value.task as Any, "quantity": error.value.quantity.rawValue,
                                    "value": String(error.value.value)])
            throw error
        } catch {
            progress.clear()
            throw error
        }
        let summaryLog = self.summaryLog ?? log
        if fm.fileExists(atPath: best) { try Checkpoint.load(best, into: model) }
        let (testReport, testDetails) = try trainer.evaluateInDetail(test)
        summaryLog("test (best epoch): " + testReport.metrics.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", "))
        let summary: [String: Any] = [
            "epochs": try JSONSerialization.jsonObject(with: JSONEncoder().encode(reports)),
            "test": try JSONSerialization.jsonObject(with: JSONEncoder().encode(testReport)),
            "weighting": trainer.weighting.name,
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: output("report.json"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(testDetails), to: output("test-evaluation.json"))
        let bestEpoch = reports.last(where: \.isBest)?.epoch
        try report(RunHistory(entries: metricsLog.entries),
                   test: RunReport.TestResults(metrics: testReport.metrics, details: testDetails, epoch: bestEpoch))
            .write(to: output("report.html"))
        // Last: a run folder with test-metrics.json is finished (``Comparison`` reuses it).
        try DeltaM.saveBaseline(testReport.metrics, to: output("test-metrics.json"))
        summaryLog("wrote best.safetensors, last.safetensors, state.safetensors (resume with --resume), metrics.jsonl, "
            + "report.json, report.html, test-evaluation.json and test-metrics.json in \(c.outputDirectory)"
            + (tensorboard.map { "; TensorBoard events in \(($0.path as NSString).deletingLastPathComponent)" } ?? ""))
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

    /// Step-level TensorBoard scalars: the step's per-task losses and weights, the Gram
    /// condition number (gradient methods), the learning rate.
    func stepScalars(_ e: TrainingStepEvent) -> [(tag: String, value: Double)] {
        var out: [(tag: String, value: Double)] = []
        for (t, v) in zip(e.tasks, e.result.losses) { if let v { out.append(("step/loss/\(t)", v)) } }
        for (t, v) in zip(e.tasks, e.result.weights) { if let v { out.append(("step/weight/\(t)", v)) } }
        if let g = e.result.gramCondition { out.append(("step/gram_condition", g)) }
        out.append(("step/learning_rate", e.learningRate))
        return out
    }

    /// Epoch-level TensorBoard scalars: per-task train loss and mean weight, every validation
    /// metric (`val/<task>/<metric>`), Δm and Δp, the learning rate, skipped steps.
    func epochScalars(_ r: EpochReport) -> [(tag: String, value: Double)] {
        var out: [(tag: String, value: Double)] = [("epoch", Double(r.epoch))]
        for t in model.tasks {
            if let l = r.trainLosses[t.name] { out.append(("train/loss/\(t.name)", l)) }
            if let w = r.weights[t.name] { out.append(("train/weight/\(t.name)", w)) }
        }
        for m in r.validation?.metrics ?? [] where m.value.isFinite { out.append(("val/\(m.key)", m.value)) }
        if let dm = r.deltaM { out.append(("val/delta_m", dm)) }
        if let dp = r.deltaP { out.append(("val/delta_p", dp)) }
        out.append(("train/learning_rate", r.learningRate))
        out.append(("train/skipped_steps", Double(r.skippedSteps ?? 0)))
        return out
    }

    /// Pairwise values (i < j) keyed `"a,b"` by task names, finite ones only.
    private func namedPairs(_ values: [[Double?]]) -> [String: Double] {
        var out: [String: Double] = [:]
        let tasks = model.tasks
        for i in tasks.indices where i < values.count {
            for j in tasks.indices where j > i && j < values[i].count {
                if let v = values[i][j], v.isFinite { out["\(tasks[i].name),\(tasks[j].name)"] = v }
            }
        }
        return out
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
        if let skipped = r.skippedSteps, skipped > 0 { parts.append("skipped \(skipped) non-finite steps") }
        if r.isBest { parts.append("*") }
        parts.append(String(format: "%.1fs", r.seconds))
        return parts.joined(separator: " | ")
    }
}
