import Foundation
import Torch
import TorchNN

/// A model checkpoint: the model's state dict in a safetensors file (readable by Python's
/// `safetensors.torch.load_file`), with the tasks (and any extra metadata the caller passes,
/// e.g. the backbone name) as JSON in the header's `__metadata__`. Writes are crash-safe
/// (``AtomicFile``): the file is always the complete previous or the complete new checkpoint.
public enum Checkpoint {
    /// Metadata keys.
    public static let tasksKey = "hydranet.tasks"
    public static let formatKey = "format"

    /// Saves the model (and optional extra metadata) to `path`.
    public static func save(_ model: HydraNetModel, to path: String, metadata: [String: String] = [:]) throws {
        let tasks = String(decoding: try JSONEncoder().encode(model.tasks), as: UTF8.self)
        var meta = metadata
        meta[tasksKey] = tasks
        meta[formatKey] = "pt"
        try model.stateDict().save(safetensors: path, metadata: meta)
    }

    /// The tasks stored in a checkpoint.
    public static func tasks(in archive: SafeTensorsArchive, path: String) throws -> [HydraTask] {
        guard let json = archive.metadata[tasksKey] else {
            throw HydraError.checkpoint("\(path) has no HydraNet task list: not a HydraNet checkpoint")
        }
        do {
            return try JSONDecoder().decode([HydraTask].self, from: Data(json.utf8))
        } catch {
            throw HydraError.checkpoint("\(path): the task list is malformed (\(error))")
        }
    }

    /// The tasks stored in a checkpoint, checked to be usable by a model with `expected`
    /// tasks: the same names and kinds (so the heads' output counts agree), each task valid (loss fits the kind, class
    /// weights count the classes) with a finite, positive target standardisation. A task
    /// list that would make a loss or a metric trap later is refused here, naming the file.
    public static func tasks(in archive: SafeTensorsArchive, path: String, matching expected: [HydraTask]) throws
        -> [HydraTask] {
        let tasks = try tasks(in: archive, path: path)
        guard tasks.map(\.name) == expected.map(\.name) else {
            throw HydraError.checkpoint("\(path) has tasks \(tasks.map(\.name)), the model \(expected.map(\.name))")
        }
        for (saved, own) in zip(tasks, expected) {
            guard saved.kind == own.kind else {
                throw HydraError.checkpoint("\(path): task '\(saved.name)' is \(saved.kind) in the file, \(own.kind) in the model")
            }
            do {
                try saved.validate()
            } catch {
                throw HydraError.checkpoint("\(path): \(error)")
            }
            guard saved.targetMean.isFinite, saved.targetStd.isFinite, saved.targetStd > 0 else {
                throw HydraError.checkpoint("\(path): task '\(saved.name)' has target standardisation mean "
                    + "\(saved.targetMean), std \(saved.targetStd) (finite values and a positive std are needed)")
            }
        }
        return tasks
    }

    /// Runs `body`, turning its error into `HydraError.checkpoint` naming `path` (loading
    /// state from a checkpoint throws errors that do not know the file).
    static func naming<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HydraError {
            if case let .checkpoint(message) = error, message.contains(path) { throw error }
            throw HydraError.checkpoint("\(path): \(error)")
        } catch {
            throw HydraError.checkpoint("\(path): \(error)")
        }
    }

    /// Loads weights into `model` (strict), after checking the tasks match.
    public static func load(_ path: String, into model: HydraNetModel) throws {
        let archive = try SafeTensors.read(path)
        let tasks = try tasks(in: archive, path: path, matching: model.tasks)
        try naming(path) { try model.loadStateDict(StateDict(archive.names.map { ($0, archive.tensors[$0]!) }), strict: true) }
        for t in tasks { model.updateTask(t) }
    }
}
