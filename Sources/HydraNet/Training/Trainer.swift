import Foundation
import HydraData
import Torch
import TorchNN

/// Trains a ``HydraNetModel`` on batches of a ``DataLoader`` with a multi-task
/// ``WeightingMethod``: backbone once per forward, masked per-task losses, the weighting
/// (loss-level, or gradient-level from exact or feature gradients), one optimizer step.
public final class Trainer {
    public let model: HydraNetModel
    public let configuration: TrainingConfiguration
    public let weighting: WeightingMethod
    public let optimizer: any Optimizer
    public let scheduler: LRScheduler?
    /// Optimizer steps taken.
    public internal(set) var globalStep = 0
    /// Epochs completed.
    public internal(set) var epoch = 0
    /// The best validation Δm so far and the metrics Δm is measured against (kept in the
    /// training state so that a resumed run selects checkpoints as an uninterrupted one).
    public internal(set) var bestDeltaM: Double?
    public internal(set) var deltaReference: [String: Double]?
    /// Compute gradient cosines and the Gram condition number every this many steps (they
    /// cost a float64 copy of the Jacobian); 0 turns them off.
    public var geometryEvery = 20
    /// Checked between steps: once requested, training stops with ``TrainingInterrupted``
    /// (the step under way finishes first).
    public var stopRequest: StopRequest?
    /// The epoch under way: its position and running sums (restored by
    /// ``loadTrainingState(from:)`` for a run stopped inside an epoch).
    /// Steps skipped in the last finished epoch.
    var lastEpochSkipped = 0
    public internal(set) lazy var epochProgress = EpochProgress(taskCount: model.tasks.count)

    // Parameter lists, built once (reflection over the module tree is not free). Whether a
    // parameter is trainable is read at each use, so freezing later takes effect.
    private let backboneParameters: [Tensor]
    private let headParameters: [[Tensor]]
    let allModelParameters: [Tensor]
    let modelBuffers: [Tensor]
    /// The gradient synchronisation of a distributed trainer (its settings and last step's
    /// statistics); set by ``distribute(over:bucketCapMB:synchronizedBatchNorm:)``.
    public internal(set) var dataParallel: DistributedDataParallel?
    private let hasBatchNorm: Bool

    /// - Parameters:
    ///   - model: the model to train (its current trainable state is not frozen in: every
    ///     parameter goes to the optimizer, which skips those without a gradient).
    ///   - weighting: how tasks are combined.
    ///   - configuration: optimizer, learning rate, schedule, clipping, epochs.
    /// - Throws: `HydraError.invalidConfiguration` for invalid settings or combinations.
    public init(model: HydraNetModel, weighting: WeightingMethod, configuration: TrainingConfiguration) throws {
        try configuration.validate()
        try weighting.validate()
        if case let .loss(w) = weighting, let s = w as? StaticWeighting, s.weights.count != model.tasks.count {
            throw HydraError.invalidConfiguration("static weighting has \(s.weights.count) weights for \(model.tasks.count) tasks")
        }
        self.model = model
        self.configuration = configuration
        self.weighting = weighting
        backboneParameters = model.backbone.parameters()
        headParameters = model.tasks.map { model.heads[$0.name]!.parameters() }
        allModelParameters = model.parameters()
        modelBuffers = model.namedBuffers().map(\.1)
        hasBatchNorm = model.modules().contains { $0 is BatchNorm }
        if configuration.channelsLast { try model.convertToChannelsLast() }
        let optimizer = try Trainer.makeOptimizer(model: model, weighting: weighting, configuration: configuration)
        self.optimizer = optimizer
        scheduler = try configuration.schedule.map { try LRScheduler(optimizer, schedule: $0) }
    }

    /// Parameter groups: backbone (scaled lr), heads, the weighting's own parameters (no
    /// weight decay); biases and norm weights without weight decay when configured.
    static func makeOptimizer(model: HydraNetModel, weighting: WeightingMethod,
                              configuration c: TrainingConfiguration) throws -> any Optimizer {
        // Frozen parameters are included too: they get no gradient, so the optimizer skips
        // them (as PyTorch does), and unfreezing them later makes them train.
        func split(_ params: [Tensor]) -> (decay: [Tensor], noDecay: [Tensor]) {
            guard c.noWeightDecayOnNormsAndBiases else { return (params, []) }
            return (params.filter { $0.rank > 1 }, params.filter { $0.rank <= 1 })
        }
        let backbone = split(model.backbone.parameters())
        let heads = split(model.heads.parameters())
        var extra: [Tensor] = []
        if case let .loss(w) = weighting { extra = w.parameters }
        // (parameters, lr, weight decay)
        let groups: [([Tensor], Double, Double)] = [
            (backbone.decay, c.learningRate * c.backboneLearningRateScale, c.weightDecay),
            (backbone.noDecay, c.learningRate * c.backboneLearningRateScale, 0),
            (heads.decay, c.learningRate, c.weightDecay),
            (heads.noDecay, c.learningRate, 0),
            (extra, c.learningRate, 0),
        ].filter { !$0.0.isEmpty }
        switch c.optimizer {
        case .sgd:
            return try SGD(groups: groups.map {
                ParameterGroup($0.0, SGD.Options(lr: $0.1, momentum: c.momentum, weightDecay: $0.2))
            })
        case .adam, .adamw:
            return try Adam(groups: groups.map {
                ParameterGroup($0.0, Adam.Options(lr: $0.1, weightDecay: $0.2, decoupledWeightDecay: c.optimizer == .adamw))
            })
        case .rmsprop:
            return try RMSprop(groups: groups.map {
                ParameterGroup($0.0, RMSprop.Options(lr: $0.1, weightDecay: $0.2, momentum: c.momentum))
            })
        }
    }

    /// Maps the model's tasks to the batch's label columns (by name). Throws if the data
    /// lacks a task or has a different kind.
    public func columns(for dataTasks: [TaskSpec]) throws -> [Int] {
        try model.tasks.map { task in
            guard let i = try task.column(in: dataTasks) else {
                throw HydraError.invalidData("the data has no labels for task '\(task.name)' (it has \(dataTasks.map(\.name)))")
            }
            return i
        }
    }

    // MARK: One step

    /// One optimizer step on a batch. `columns` maps model tasks to batch label columns.
    @discardableResult
    public func step(_ batch: Batch, columns: [Int]) throws -> StepResult {
        try validate(batch, columns: columns)
        // Training mode is set by trainEpoch/fit; a module the user put in eval mode stays
        // so. A model left entirely in eval mode by evaluation is switched back (frozen parts
        // stay in eval mode).
        if !model.isTraining { model.enterTrainingMode() }
        let targets = columns.map { batch.labels[$0] }
        let masks = columns.map { batch.masks[$0] }
        let labelled = masks.map { $0.to(dtype: .int64).sum().itemInt() }
        let present = labelled.map { $0 > 0 }
        // With skipping on, BatchNorm statistics are kept so that a skipped step leaves no trace.
        let savedBuffers = configuration.onNonFinite == .skip ? modelBuffers.map { $0.clone() } : nil
        var result: StepResult
        do {
            switch weighting {
            case let .loss(method):
                try dataParallel?.beforeForward()
                let outputs = forwardOutputs(batch.images)
                try dataParallel?.group.throwRecordedFailure()
                let losses = taskLosses(outputs, targets, masks, present)
                let global = try globalLosses(losses.map { $0?.item() }, labelled: labelled)
                let values = global.values
                try checkFinite(values)
                let total = method.combine(losses, epoch: epoch, step: globalStep)
                optimizer.zeroGrad()
                if total.requiresGrad { try total.backward() }
                try dataParallel?.finishGradientSync()
                try checkFiniteGradients()
                clipAndStep()
                if method.needsLossesAfterStep {
                    method.afterStep(lossesAfter: recomputeLosses(batch.images, targets, masks, present))
                }
                result = StepResult(losses: values, weights: method.lastWeights, labelled: global.labelled)
            case let .gradient(aggregator, source):
                result = try gradientStep(aggregator, source, batch.images, targets, masks, labelled)
            }
        } catch let problem as NonFiniteValue {
            // Nothing of the step is applied: no update, gradients cleared, statistics restored.
            optimizer.zeroGrad()
            if let savedBuffers {
                withNoGrad { for (b, saved) in zip(modelBuffers, savedBuffers) { b.copy_(saved) } }
            }
            guard configuration.onNonFinite == .skip else { throw problem }
            result = StepResult(losses: Array(repeating: nil, count: model.tasks.count),
                                weights: Array(repeating: nil, count: model.tasks.count), labelled: labelled,
                                skipped: problem)
        }
        scheduler?.step()
        globalStep += 1
        return result
    }

    /// Throws ``NonFiniteValue`` for the first task whose loss is not finite.
    private func checkFinite(_ losses: [Double?]) throws {
        if let t = losses.firstIndex(where: { $0.map { !$0.isFinite } ?? false }) {
            throw NonFiniteValue(task: model.tasks[t].name, quantity: .loss, value: losses[t]!)
        }
    }

    /// Throws ``NonFiniteValue`` if a trainable parameter's gradient holds a NaN or infinity.
    private func checkFiniteGradients() throws {
        let grads = allModelParameters.filter(\.requiresGrad).compactMap(\.grad)
        if !Trainer.allFinite(grads) {
            let norm = Tensor.stack(grads.map { $0.to(dtype: .float64).square().sum() }).sum().sqrt().item()
            throw NonFiniteValue(task: nil, quantity: .gradient, value: norm)
        }
    }

    /// Whether every element of `tensors` is finite. A NaN or infinity anywhere makes the
    /// sum non-finite, so a finite sum (one read pass, no temporaries: the step's common case)
    /// proves them all finite; a non-finite sum, which huge finite values can also give by
    /// overflowing, is settled element by element.
    static func allFinite(_ tensors: [Tensor]) -> Bool {
        guard !tensors.isEmpty else { return true }
        if Tensor.stack(tensors.map { $0.sum().to(dtype: .float32) }).sum().item().isFinite { return true }
        return Tensor.stack(tensors.map { $0.isFinite().all() }).all().item() != 0
    }

    private func taskLosses(_ outputs: [Tensor], _ targets: [Tensor], _ masks: [Tensor], _ present: [Bool]) -> [Tensor?] {
        model.tasks.indices.map { t in
            present[t] ? model.tasks[t].maskedLoss(output: outputs[t], target: targets[t], mask: masks[t]) : nil
        }
    }

    /// Checks a batch against the model before any op runs, so that a malformed batch
    /// throws instead of trapping inside libtorch.
    func validate(_ batch: Batch, columns: [Int]) throws {
        guard columns.count == model.tasks.count, columns.allSatisfy({ $0 >= 0 && $0 < batch.labels.count && $0 < batch.masks.count }) else {
            throw HydraError.invalidData("the batch has \(batch.labels.count) label columns; columns \(columns) do not fit "
                + "the model's \(model.tasks.count) tasks")
        }
        let n = batch.images.size(0)
        if hasBatchNorm && n < 2 {
            throw HydraError.invalidData("a training batch of \(n) sample cannot be batch-normalised (one value per channel); "
                + "use a batch size ≥ 2 and drop a final batch of one")
        }
        for (t, column) in columns.enumerated() {
            let labels = batch.labels[column], mask = batch.masks[column]
            guard labels.size(0) == n, mask.size(0) == n, mask.dtype == .bool else {
                throw HydraError.invalidData("task '\(model.tasks[t].name)': labels/mask have \(labels.size(0))/\(mask.size(0)) rows "
                    + "(mask \(mask.dtype)) for \(n) images")
            }
            let expected = model.tasks[t].kind.targetShape(batch: n)
            guard labels.shape == expected else {
                throw HydraError.invalidData("task '\(model.tasks[t].name)': labels have shape \(labels.shape), expected \(expected)")
            }
            if case let .multiclass(classes) = model.tasks[t].kind, mask.any().item() != 0 {
                let present = labels.to(dtype: .int64).maskedFill(mask.logicalNot(), 0)
                let (lo, hi) = (present.min().itemInt(), present.max().itemInt())
                guard lo >= 0, hi < classes else {
                    throw HydraError.invalidData("task '\(model.tasks[t].name)': class index \(lo < 0 ? lo : hi) outside 0..<\(classes)")
                }
            }
        }
    }

    /// The losses on the same batch after the step, without gradients and without
    /// changing BatchNorm running statistics (FAMO's extra forward).
    private func recomputeLosses(_ images: Tensor, _ targets: [Tensor], _ masks: [Tensor], _ present: [Bool]) -> [Double?] {
        let buffers = modelBuffers.map { ($0, $0.clone()) }
        defer { withNoGrad { for (b, saved) in buffers { b.copy_(saved) } } }
        return withNoGrad { taskLosses(forwardOutputs(images), targets, masks, present).map { $0?.item() } }
    }

    /// The task outputs of a training forward, in the configured precision and layout; float32.
    func forwardOutputs(_ images: Tensor) -> [Tensor] {
        withPrecision(configuration.precision, device: images.device) { model.outputs(inputLayout(images)) }.map(float32)
    }

    private func inputLayout(_ images: Tensor) -> Tensor {
        configuration.channelsLast && images.rank == 4 ? images.channelsLast() : images
    }

    private func float32(_ t: Tensor) -> Tensor { t.dtype == .float32 ? t : t.to(dtype: .float32) }

    private func clipAndStep() {
        if let c = configuration.gradientClipNorm {
            GradientClipping.clipNorm(allModelParameters.filter(\.requiresGrad), maxNorm: c)
        }
        optimizer.step()
    }

    private func gradientStep(_ aggregator: any GradientAggregator, _ source: GradientSource, _ images: Tensor,
                              _ targets: [Tensor], _ masks: [Tensor], _ labelled: [Int]) throws -> StepResult {
        optimizer.zeroGrad()
        try dataParallel?.beforeForward()
        let features = float32(withPrecision(configuration.precision, device: images.device) {
            model.features(inputLayout(images))
        })
        try dataParallel?.group.throwRecordedFailure()
        let z = source == .features ? features.detached().requiringGrad() : features
        let outputs = withPrecision(configuration.precision, device: images.device) { model.headOutputs(z) }.map(float32)
        let losses = taskLosses(outputs, targets, masks, labelled.map { $0 > 0 })
        let global = try globalLosses(losses.map { $0?.item() }, labelled: labelled)
        let lossValues = global.values
        try checkFinite(lossValues)
        // Rows for the tasks labelled on any rank (a rank without labels for one adds zeros).
        let rowsTasks = model.tasks.indices.filter { global.labelled[$0] > 0 }
        let backboneTrains = backboneParameters.contains(where: \.requiresGrad)
        let shared = source == .features ? (backboneTrains ? [z] : []) : backboneParameters.filter(\.requiresGrad)
        var rows: [Tensor] = []
        let sharedCount = shared.reduce(0) { $0 + $1.count }
        let lastLocal = rowsTasks.last { losses[$0]?.requiresGrad == true }
        for t in rowsTasks {
            let head = headParameters[t].filter(\.requiresGrad)
            guard !(shared.isEmpty && head.isEmpty), let loss = losses[t], loss.requiresGrad else {
                rows.append(Tensor.zeros([dataParallel == nil || shared.isEmpty ? 0 : sharedCount]))
                continue
            }
            let grads = try Autograd.grad(outputs: [loss], inputs: shared + head,
                                          retainGraph: t != lastLocal || source == .features)
            for (p, g) in zip(head, grads[shared.count...]) { p.grad = g }
            let parts = zip(shared, grads.prefix(shared.count)).map { p, g in (g ?? p.zerosLike()).reshaped([-1]) }
            rows.append(parts.isEmpty ? Tensor.zeros([0]) : Tensor.cat(parts))
        }
        var weights: [Double?] = Array(repeating: nil, count: model.tasks.count)
        var cosines: [[Double?]]?
        var condition: Double?
        // Distributed: every rank gets the combined batch's Jacobian (parameter gradients
        // averaged; feature gradients gathered side by side, each scaled by 1/world size).
        let world = dataParallel?.group.worldSize ?? 1
        if let group = dataParallel?.group, !rowsTasks.isEmpty, !shared.isEmpty {
            let local = Tensor.stack(rows)
            if source == .features {
                rows = try group.allGather(local).map { $0 * (1.0 / Double(world)) }
                rows = rowsTasks.indices.map { k in Tensor.cat(rows.map { $0[k] }) }
            } else {
                let mean = try dataParallel!.averaged(local)
                rows = rowsTasks.indices.map { mean[$0] }
            }
        }
        dataParallel?.markGradientsReady(headParameters.joined().filter(\.requiresGrad))
        // A task's non-finite gradient is found before the aggregator (and its state) sees it.
        for (k, t) in rowsTasks.enumerated() where rows[k].count > 0 && rows[k].isFinite().all().item() == 0 {
            throw NonFiniteValue(task: model.tasks[t].name, quantity: .gradient,
                                 value: rows[k].to(dtype: .float64).square().sum().sqrt().item())
        }
        // (Distributed: head gradients are still local here; they are checked once averaged.)
        for p in headParameters.joined() where p.requiresGrad && dataParallel == nil {
            if let g = p.grad, g.isFinite().all().item() == 0 {
                let t = headParameters.firstIndex { $0.contains { $0 === p } }!
                throw NonFiniteValue(task: model.tasks[t].name, quantity: .gradient,
                                     value: g.to(dtype: .float64).square().sum().sqrt().item())
            }
        }
        if !rowsTasks.isEmpty, !shared.isEmpty {
            let jacobian = Tensor.stack(rows)
            let context = AggregationContext(taskIndices: rowsTasks, losses: rowsTasks.map { lossValues[$0]! },
                                             epoch: epoch, step: globalStep)
            let aggregation = aggregator.aggregate(jacobian, context: context)
            if let w = aggregation.weights { for (k, t) in rowsTasks.enumerated() { weights[t] = w[k] } }
            if geometryEvery > 0 && globalStep % geometryEvery == 0 {
                (cosines, condition) = Trainer.gramStatistics(jacobian, rowsTasks, taskCount: model.tasks.count)
            }
            if source == .features {
                // This rank's slice of the combined update, times the world size: the
                // gradient average restores the combined batch's backbone gradient.
                let n = features.count
                let mine = world == 1 ? aggregation.update
                    : aggregation.update.narrow(dim: 0, start: dataParallel!.group.rank * n, length: n) * Double(world)
                try features.backward(gradient: mine.reshaped(features.shape).to(dtype: features.dtype))
                try dataParallel?.finishGradientSync()
            } else {
                var offset = 0
                for p in shared {
                    let n = p.count
                    p.grad = aggregation.update.narrow(dim: 0, start: offset, length: n).reshaped(p.shape).to(dtype: p.dtype)
                    offset += n
                }
                try dataParallel?.finishGradientSync(alreadyReduced: shared)
            }
        } else {
            try dataParallel?.finishGradientSync()
        }
        if dataParallel != nil { try checkFiniteGradients() }
        clipAndStep()
        return StepResult(losses: lossValues, weights: weights, cosines: cosines, gramCondition: condition,
                          labelled: global.labelled)
    }

    /// Pairwise cosines (by task index) and the condition number of the Gram matrix of the
    /// rows (present tasks only).
    static func gramStatistics(_ jacobian: Tensor, _ tasks: [Int], taskCount: Int) -> ([[Double?]], Double) {
        let geometry = GradientGeometry(jacobian: jacobian)
        var cos = [[Double?]](repeating: [Double?](repeating: nil, count: taskCount), count: taskCount)
        for (a, ta) in tasks.enumerated() {
            for (b, tb) in tasks.enumerated() { cos[ta][tb] = geometry.cosines[a][b] }
        }
        return (cos, geometry.conditionNumber)
    }
}
