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

    public init(model: HydraNetModel, weighting: WeightingMethod, configuration: TrainingConfiguration) throws {
        try configuration.validate()
        try weighting.validate()
        if case let .loss(w) = weighting, let s = w as? StaticWeighting, s.weights.count != model.tasks.count {
            throw HydraError.invalidConfiguration("static weighting has \(s.weights.count) weights for \(model.tasks.count) tasks")
        }
        self.model = model
        self.configuration = configuration
        self.weighting = weighting
        let optimizer = try Trainer.makeOptimizer(model: model, weighting: weighting, configuration: configuration)
        self.optimizer = optimizer
        scheduler = try configuration.schedule.map { try LRScheduler(optimizer, schedule: $0) }
    }

    /// Parameter groups: backbone (scaled lr), heads, the weighting's own parameters (no
    /// weight decay); biases and norm weights without weight decay when configured.
    static func makeOptimizer(model: HydraNetModel, weighting: WeightingMethod,
                              configuration c: TrainingConfiguration) throws -> any Optimizer {
        func split(_ params: [Tensor]) -> (decay: [Tensor], noDecay: [Tensor]) {
            let trainable = params.filter(\.requiresGrad)
            guard c.noWeightDecayOnNormsAndBiases else { return (trainable, []) }
            return (trainable.filter { $0.rank > 1 }, trainable.filter { $0.rank <= 1 })
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
            guard let i = dataTasks.firstIndex(where: { $0.name == task.name }) else {
                throw HydraError.invalidData("the data has no labels for task '\(task.name)' (it has \(dataTasks.map(\.name)))")
            }
            let compatible: Bool
            switch (task.kind, dataTasks[i].kind) {
            case (.regression, .regression), (.binary, .binary): compatible = true
            case let (.multiclass(a), .classification(b)): compatible = a == b
            default: compatible = false
            }
            guard compatible else {
                throw HydraError.invalidData("task '\(task.name)' is \(task.kind) in the model but \(dataTasks[i].kind) in the data")
            }
            return i
        }
    }

    // MARK: One step

    /// One optimizer step on a batch. `columns` maps model tasks to batch label columns.
    @discardableResult
    public func step(_ batch: Batch, columns: [Int]) throws -> StepResult {
        model.train()
        let targets = columns.map { batch.labels[$0] }
        let masks = columns.map { batch.masks[$0] }
        let labelled = masks.map { $0.to(dtype: .int64).sum().itemInt() }
        let present = labelled.map { $0 > 0 }
        var result: StepResult
        switch weighting {
        case let .loss(method):
            let outputs = model.outputs(batch.images)
            let losses = taskLosses(outputs, targets, masks, present)
            let total = method.combine(losses, epoch: epoch, step: globalStep)
            optimizer.zeroGrad()
            if total.requiresGrad { try total.backward() }
            clipAndStep()
            if method.needsLossesAfterStep {
                method.afterStep(lossesAfter: recomputeLosses(batch.images, targets, masks, present))
            }
            result = StepResult(losses: losses.map { $0?.item() }, weights: method.lastWeights, labelled: labelled)
        case let .gradient(aggregator, source):
            result = try gradientStep(aggregator, source, batch.images, targets, masks, present)
            result.labelled = labelled
        }
        scheduler?.step()
        globalStep += 1
        return result
    }

    private func taskLosses(_ outputs: [Tensor], _ targets: [Tensor], _ masks: [Tensor], _ present: [Bool]) -> [Tensor?] {
        model.tasks.indices.map { t in
            present[t] ? model.tasks[t].maskedLoss(output: outputs[t], target: targets[t], mask: masks[t]) : nil
        }
    }

    /// The losses on the same batch after the step, without gradients and without
    /// changing BatchNorm running statistics (FAMO's extra forward).
    private func recomputeLosses(_ images: Tensor, _ targets: [Tensor], _ masks: [Tensor], _ present: [Bool]) -> [Double?] {
        let buffers = model.namedBuffers().map { ($0.1, $0.1.clone()) }
        defer { withNoGrad { for (b, saved) in buffers { b.copy_(saved) } } }
        return withNoGrad { taskLosses(model.outputs(images), targets, masks, present).map { $0?.item() } }
    }

    private func clipAndStep() {
        if let c = configuration.gradientClipNorm {
            GradientClipping.clipNorm(model.parameters().filter(\.requiresGrad), maxNorm: c)
        }
        optimizer.step()
    }

    private func gradientStep(_ aggregator: any GradientAggregator, _ source: GradientSource, _ images: Tensor,
                              _ targets: [Tensor], _ masks: [Tensor], _ present: [Bool]) throws -> StepResult {
        optimizer.zeroGrad()
        let features = model.features(images)
        let z = source == .features ? features.detached().requiringGrad() : features
        let outputs = model.headOutputs(z)
        let losses = taskLosses(outputs, targets, masks, present)
        let rowsTasks = model.tasks.indices.filter { present[$0] }
        let shared = source == .features ? [z] : model.sharedParameters.filter(\.requiresGrad)
        var rows: [Tensor] = []
        for (k, t) in rowsTasks.enumerated() {
            let head = model.heads[model.tasks[t].name]!.parameters().filter(\.requiresGrad)
            let grads = try Autograd.grad(outputs: [losses[t]!], inputs: shared + head,
                                          retainGraph: k < rowsTasks.count - 1 || source == .features)
            for (p, g) in zip(head, grads[shared.count...]) { p.grad = g }
            let parts = zip(shared, grads.prefix(shared.count)).map { p, g in (g ?? p.zerosLike()).reshaped([-1]) }
            rows.append(parts.isEmpty ? Tensor.zeros([0]) : Tensor.cat(parts))
        }
        var weights: [Double?] = Array(repeating: nil, count: model.tasks.count)
        var cosines: [[Double?]]?
        var condition: Double?
        if !rowsTasks.isEmpty, !shared.isEmpty {
            let jacobian = Tensor.stack(rows)
            let context = AggregationContext(taskIndices: rowsTasks, losses: rowsTasks.map { losses[$0]!.item() },
                                             epoch: epoch, step: globalStep)
            let aggregation = aggregator.aggregate(jacobian, context: context)
            if let w = aggregation.weights { for (k, t) in rowsTasks.enumerated() { weights[t] = w[k] } }
            (cosines, condition) = Trainer.gramStatistics(jacobian, rowsTasks, taskCount: model.tasks.count)
            if source == .features {
                try features.backward(gradient: aggregation.update.reshaped(features.shape).to(dtype: features.dtype))
            } else {
                var offset = 0
                for p in shared {
                    let n = p.count
                    p.grad = aggregation.update.narrow(dim: 0, start: offset, length: n).reshaped(p.shape).to(dtype: p.dtype)
                    offset += n
                }
            }
        }
        clipAndStep()
        return StepResult(losses: losses.map { $0?.item() }, weights: weights, cosines: cosines, gramCondition: condition,
                          labelled: [])
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
