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

    /// Loads weights into `model` (strict), after checking the tasks match.
    public static func load(_ path: String, into model: HydraNetModel) throws {
        let archive = try SafeTensors.read(path)
        let tasks = try tasks(in: archive, path: path)
        guard tasks.map(\.name) == model.tasks.map(\.name) else {
            throw HydraError.checkpoint("\(path) has tasks \(tasks.map(\.name)), the model \(model.tasks.map(\.name))")
        }
        try model.loadStateDict(StateDict(archive.names.map { ($0, archive.tensors[$0]!) }), strict: true)
        for t in tasks { model.updateTask(t) }
    }
}
