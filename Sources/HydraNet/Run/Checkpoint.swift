import Foundation
import Torch
import TorchNN

/// A model checkpoint: the model's state dict in a safetensors file (readable by Python's
/// `safetensors.torch.load_file`), with the model's description (``ModelSpec``: backbone,
/// input preprocessing, heads, tasks) as JSON under `hydranet.model` in the header's
/// `__metadata__`, so the file alone rebuilds and runs the model (docs/checkpoint-format.md).
/// Writes are crash-safe (``AtomicFile``): the file is always the complete previous or the
/// complete new checkpoint.
public enum Checkpoint {
    /// Metadata keys: the model description, and the bare task list (training states).
    public static let modelKey = "hydranet.model"
    public static let tasksKey = "hydranet.tasks"
    public static let formatKey = "format"

    /// Saves the model, its description (with `input`, the preprocessing its images get;
    /// nil leaves it unrecorded) and optional extra metadata to `path`.
    public static func save(_ model: HydraNetModel, input: ModelSpec.InputSpec?, to path: String,
                            metadata: [String: String] = [:]) throws {
        let spec = ModelSpec(describing: model, input: input)
        var meta = metadata
        meta[modelKey] = try spec.json()
        meta[formatKey] = "pt"
        try model.stateDict().save(safetensors: path, metadata: meta)
    }

    /// The model description of a checkpoint, validated. Files of older HydraNet versions,
    /// training states and other safetensors files get an error saying what is missing.
    public static func spec(in archive: SafeTensorsArchive, path: String) throws -> ModelSpec {
        guard let json = archive.metadata[modelKey] else {
            if archive.metadata["hydranet.optimizer"] != nil {
                throw HydraError.checkpoint("\(path) is a training state (for --resume), not a model checkpoint: "
                    + "use best.safetensors or last.safetensors of the run")
            }
            if archive.metadata[tasksKey] != nil {
                throw HydraError.checkpoint("\(path) was written by an older HydraNet: it has a task list but no model "
                    + "description ('\(modelKey)': backbone, input size, normalization, heads), so it cannot be rebuilt; "
                    + "train it again with this version")
            }
            let keys = archive.metadata.keys.sorted()
            throw HydraError.checkpoint("\(path) is not a HydraNet checkpoint: its metadata has no '\(modelKey)' entry "
                + "(metadata keys: \(keys.isEmpty ? "none" : keys.prefix(8).joined(separator: ", ")))")
        }
        let spec: ModelSpec
        do {
            spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw HydraError.checkpoint("\(path): the model description is malformed (\(describe(error)))")
        } catch {
            throw HydraError.checkpoint("\(path): the model description is malformed (\(error))")
        }
        try naming(path) { try spec.validate() }
        return spec
    }

    /// The model description of the checkpoint at `path` (without loading its weights).
    public static func spec(at path: String) throws -> ModelSpec {
        let archive: SafeTensorsArchive
        do {
            archive = try SafeTensors.read(path)
        } catch {
            throw HydraError.checkpoint("cannot read \(path): \(error)")
        }
        return try spec(in: archive, path: path)
    }

    /// Rebuilds the model a checkpoint describes and loads its weights (strict), in eval
    /// mode on `device`.
    public static func loadModel(_ path: String, device: Device = .cpu) throws -> (model: HydraNetModel, spec: ModelSpec) {
        let archive: SafeTensorsArchive
        do {
            archive = try SafeTensors.read(path)
        } catch {
            throw HydraError.checkpoint("cannot read \(path): \(error)")
        }
        let spec = try spec(in: archive, path: path)
        // A description naming layers far larger than the file's tensors would allocate them
        // before strict loading could refuse the file: compare the sizes first.
        let stored = archive.names.reduce(0.0) { $0 + Double(archive.tensors[$1]!.count) }
        guard spec.sizedParameterCount <= stored else {
            throw HydraError.checkpoint("\(path): the model description names \(Int(min(spec.sizedParameterCount, 1e18))) head/ConvNet "
                + "parameters but the file holds \(Int(stored)) values: the description does not fit the weights")
        }
        let model = try naming(path) { try spec.makeModel() }
        try naming(path) { try model.loadStateDict(StateDict(archive.names.map { ($0, archive.tensors[$0]!) }), strict: true) }
        model.to(device: device)
        model.eval()
        return (model, spec)
    }

    /// The tasks stored in a checkpoint (from its model description) or a training state.
    public static func tasks(in archive: SafeTensorsArchive, path: String) throws -> [HydraTask] {
        if archive.metadata[modelKey] != nil { return try spec(in: archive, path: path).tasks }
        guard let json = archive.metadata[tasksKey] else {
            throw HydraError.checkpoint("\(path) has no HydraNet task list: not a HydraNet checkpoint")
        }
        do {
            return try JSONDecoder().decode([HydraTask].self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw HydraError.checkpoint("\(path): the task list is malformed (\(describe(error)))")
        } catch {
            throw HydraError.checkpoint("\(path): the task list is malformed (\(error))")
        }
    }

    /// A decoding error as one line: what is wrong, and where (the key path).
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "'\(key.stringValue)' is missing at \(path(context.codingPath))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case let .dataCorrupted(context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Runs `body`, turning any error into `HydraError.checkpoint` (without a file name).
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HydraError {
            throw error
        } catch {
            throw HydraError.checkpoint("\(error)")
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

extension ModelSpec {
    /// The description as compact JSON with sorted keys (what checkpoints store).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Refuses a model whose input or backbone differs from what a command asked for (nil:
    /// not asked), so that a checkpoint is never silently run at another size or stem.
    public func check(path: String, imageSize: Int? = nil, backbone: String? = nil, smallImageStem: Bool? = nil) throws {
        if let imageSize, let input, input.transform.height != imageSize || input.transform.width != imageSize {
            throw HydraError.checkpoint("\(path) is a model for \(inputSummary) images, not \(imageSize)×\(imageSize) "
                + "(--image-size): drop the flag or use a model trained at that size")
        }
        if let backbone {
            let own: String
            switch self.backbone {
            case let .resnet(depth, _): own = "resnet\(depth)"
            case .convnet: own = "convnet"
            case let .custom(name): own = name
            }
            guard own == backbone else {
                throw HydraError.checkpoint("\(path) has a \(own) backbone, not \(backbone) (--backbone)")
            }
        }
        if let smallImageStem, case let .resnet(_, small) = self.backbone, small != smallImageStem {
            throw HydraError.checkpoint("\(path) was trained \(small ? "with" : "without") the small-image stem; "
                + "the command asks for the \(smallImageStem ? "small-image" : "standard") stem")
        }
    }
}
