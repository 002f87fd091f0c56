import Foundation
import Torch
import TorchNN

extension Trainer {
    /// The training state's metadata key for the run's epoch count (``TrainingConfiguration/epochs``):
    /// a run planned by a time budget resumes with it.
    public static let plannedEpochsKey = "hydranet.epochs"

    /// Saves everything needed to resume: the model (`model.*`), the optimizer's moments and
    /// learning rates (`optimizer.*`), the weighting method's state (`weighting.*`: UW's s,
    /// DWA's history, FAMO's logits and Adam moments, Nash-MTL's α, …), and epoch, step and
    /// scheduler position and the epoch count in the metadata. One safetensors file, written atomically.
    public func saveTrainingState(to path: String) throws {
        var entries: [(String, Tensor)] = model.stateDict().map { ("model.\($0.key)", $0.value) }
        entries += optimizer.stateDict().map { ("optimizer.\($0.key)", $0.value) }
        let weightingState: [String: Tensor]
        switch weighting {
        case let .loss(w): weightingState = w.stateDict()
        case let .gradient(a, _): weightingState = a.stateDict()
        }
        entries += weightingState.sorted { $0.key < $1.key }.map { ("weighting.\($0.key)", $0.value.detached()) }
        // The generators the model's dropout layers draw from (also in FAMO's extra forward),
        // so a resumed run replays the same masks; libtorch's global generator only for a
        // model that draws from it.
        for (i, g) in model.randomGenerators().enumerated() { entries.append(("rng.model.\(i)", g.state)) }
        if model.drawsFromGlobalGenerator { entries.append(("rng.cpu", Torch.rngState())) }
        var metadata = [
            Checkpoint.tasksKey: String(decoding: try JSONEncoder().encode(model.tasks), as: UTF8.self),
            "hydranet.epoch": String(epoch), "hydranet.global_step": String(globalStep),
            Trainer.plannedEpochsKey: String(configuration.epochs),
            "hydranet.scheduler_step": String(scheduler?.stepCount ?? 0), "hydranet.weighting": weighting.name,
            "hydranet.optimizer": configuration.optimizer.rawValue, Checkpoint.formatKey: "pt",
        ]
        // Stopped inside an epoch: where it stands and its running sums (exact, as tensors).
        let progress = epochProgress
        if progress.stepsDone > 0 {
            entries += [("progress.loss_sums", Tensor(progress.lossSums)),
                        ("progress.loss_counts", Tensor(progress.lossCounts.map(Int64.init))),
                        ("progress.weight_sums", Tensor(progress.weightSums)),
                        ("progress.weight_counts", Tensor(progress.weightCounts.map(Int64.init)))]
            metadata["hydranet.epoch_steps_done"] = String(progress.stepsDone)
            metadata["hydranet.epoch_steps_total"] = String(progress.stepsPerEpoch)
            metadata["hydranet.epoch_skipped_steps"] = String(progress.skipped)
        }
        if let bestDeltaM { metadata["hydranet.best_delta_m"] = String(bestDeltaM) }
        if let deltaReference {
            metadata["hydranet.delta_reference"] = String(decoding: try JSONEncoder().encode(deltaReference), as: UTF8.self)
        }
        try SafeTensors.save(ordered: entries, metadata: metadata, to: path)
    }

    /// Restores a state saved by ``saveTrainingState(to:)`` into this trainer (same tasks,
    /// model layout, optimizer and weighting method). Training then continues the same
    /// trajectory as an uninterrupted run.
    public func loadTrainingState(from path: String) throws {
        let archive = try SafeTensors.read(path)
        let tasks = try Checkpoint.tasks(in: archive, path: path, matching: model.tasks)
        guard archive.metadata["hydranet.optimizer"] == configuration.optimizer.rawValue else {
            throw HydraError.checkpoint("\(path) was trained with the '\(archive.metadata["hydranet.optimizer"] ?? "?")' optimizer, "
                + "this trainer uses '\(configuration.optimizer.rawValue)'")
        }
        guard archive.metadata["hydranet.weighting"] == weighting.name else {
            throw HydraError.checkpoint("\(path) was trained with '\(archive.metadata["hydranet.weighting"] ?? "?")', "
                + "this trainer uses '\(weighting.name)'")
        }
        func int(_ key: String) throws -> Int {
            // Bounded so that counting on from it cannot overflow.
            guard let text = archive.metadata[key], let v = Int(text), v >= 0, v <= 1 << 53 else {
                throw HydraError.checkpoint("\(path): metadata '\(key)' is missing or not a count")
            }
            return v
        }
        let (savedEpoch, savedStep, schedulerStep) = (try int("hydranet.epoch"), try int("hydranet.global_step"),
                                                      try int("hydranet.scheduler_step"))
        var progress = EpochProgress(taskCount: model.tasks.count)
        if archive.metadata["hydranet.epoch_steps_done"] != nil {
            progress.stepsDone = try int("hydranet.epoch_steps_done")
            progress.stepsPerEpoch = try int("hydranet.epoch_steps_total")
            progress.skipped = try int("hydranet.epoch_skipped_steps")
            func values(_ name: String, _ dtype: DType) throws -> Tensor {
                guard let t = archive.tensors[name], t.dtype == dtype, t.shape == [model.tasks.count] else {
                    throw HydraError.checkpoint("\(path): '\(name)' is missing or not \(model.tasks.count) \(dtype) values")
                }
                return t
            }
            progress.lossSums = try values("progress.loss_sums", .float64).scalars(as: Double.self)
            progress.weightSums = try values("progress.weight_sums", .float64).scalars(as: Double.self)
            progress.lossCounts = try values("progress.loss_counts", .int64).scalars(as: Int64.self).map { Int($0) }
            progress.weightCounts = try values("progress.weight_counts", .int64).scalars(as: Int64.self).map { Int($0) }
        }
        var modelState = StateDict(), optimizerState = StateDict()
        var weightingState: [String: Tensor] = [:]
        for name in archive.names {
            let t = archive.tensors[name]!
            if name.hasPrefix("model.") { modelState[String(name.dropFirst(6))] = t }
            else if name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst(10))] = t }
            else if name.hasPrefix("weighting.") { weightingState[String(name.dropFirst(10))] = t }
        }
        var reference: [String: Double]?
        if let json = archive.metadata["hydranet.delta_reference"] {
            guard let r = try? JSONDecoder().decode([String: Double].self, from: Data(json.utf8)) else {
                throw HydraError.checkpoint("\(path): the Δm reference in the metadata is malformed")
            }
            reference = r
        }
        // Generator states are checked (on clones) before anything changes.
        let generators = model.randomGenerators()
        let savedGenerators = archive.names.filter { $0.hasPrefix("rng.model.") }.count
        var generatorStates: [(Generator, Tensor)] = []
        if savedGenerators > 0 {
            guard savedGenerators == generators.count else {
                throw HydraError.checkpoint("\(path) holds \(savedGenerators) generator states, the model draws from \(generators.count)")
            }
            for (i, g) in generators.enumerated() {
                guard let state = archive.tensors["rng.model.\(i)"] else {
                    throw HydraError.checkpoint("\(path): generator state 'rng.model.\(i)' is missing")
                }
                do { try g.clone().setState(state) } catch {
                    throw HydraError.checkpoint("\(path): invalid generator state 'rng.model.\(i)' (\(error))")
                }
                generatorStates.append((g, state))
            }
        }
        var globalState: Tensor?
        if model.drawsFromGlobalGenerator, let rng = archive.tensors["rng.cpu"] {
            do { try Generator().setState(rng) } catch {
                throw HydraError.checkpoint("\(path): invalid generator state 'rng.cpu' (\(error))")
            }
            globalState = rng
        }
        // Loading validates shapes and dtypes before changing anything (model first: a
        // failure there leaves the trainer as it was).
        try Checkpoint.naming(path) { try model.loadStateDict(modelState, strict: true) }
        for t in tasks { model.updateTask(t) }
        try Checkpoint.naming(path) { try optimizer.loadStateDict(optimizerState) }
        switch weighting {
        case let .loss(w): try Checkpoint.naming(path) { try w.loadStateDict(weightingState) }
        case let .gradient(a, _): try Checkpoint.naming(path) { try a.loadStateDict(weightingState) }
        }
        for (g, state) in generatorStates { try? g.setState(state) }  // validated above
        if let globalState { try? Torch.setRNGState(globalState) }
        epoch = savedEpoch
        globalStep = savedStep
        bestDeltaM = archive.metadata["hydranet.best_delta_m"].flatMap(Double.init)
        deltaReference = reference
        scheduler?.resume(atStep: schedulerStep)
        epochProgress = progress
    }
}
