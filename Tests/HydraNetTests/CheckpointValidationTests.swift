import Foundation
import HydraNet
import Testing

/// A checkpoint's task list replaces the model's tasks when it is loaded; one that does not
/// fit the model (another kind, a loss that does not fit, class weights of the wrong count,
/// a zero or NaN standardisation) made the losses or metrics trap later. These are refused
/// when the file is read, naming it. Models here draw from their own generator.
@Suite("checkpoint validation")
struct CheckpointValidationTests {
    static let path = "/runs/x/best.safetensors"
    static let tasks = [
        HydraTask(name: "age", kind: .regression),
        HydraTask(name: "race", kind: .multiclass(3)),
    ]

    /// An archive whose task list is `json`, as `Checkpoint.save` writes it.
    func archive(_ json: String) throws -> SafeTensorsArchive {
        let bytes = try SafeTensors.encode(ordered: [], metadata: [Checkpoint.tasksKey: json])
        return try SafeTensors.read(data: Data(bytes), name: Self.path)
    }

    func json(_ tasks: [HydraTask]) throws -> String {
        String(decoding: try JSONEncoder().encode(tasks), as: UTF8.self)
    }

    func refusal(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        do {
            _ = try Checkpoint.tasks(in: try archive(json), path: Self.path, matching: Self.tasks)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch let HydraError.checkpoint(message) {
            #expect(message.contains(Self.path), "names the file: \(message)", sourceLocation: sourceLocation)
            return message
        }
        return ""
    }

    @Test("the model's own tasks (with a fitted standardisation) are accepted")
    func accepted() throws {
        var fitted = Self.tasks
        fitted[0].fitStandardization([20, 30, 40])
        let read = try Checkpoint.tasks(in: try archive(try json(fitted)), path: Self.path, matching: Self.tasks)
        #expect(read == fitted)
    }

    @Test("another kind, another class count, or other names are refused")
    func kinds() throws {
        var other = Self.tasks
        other[1].kind = .multiclass(1000)
        #expect(try refusal(try json(other)).contains("task 'race' is multiclass(1000) in the file, multiclass(3) in the model"))
        other[1].kind = .binary
        #expect(try refusal(try json(other)).contains("'race' is binary in the file"))
        #expect(try refusal(try json([Self.tasks[0]])).contains("has tasks [\"age\"]"))
    }

    @Test("a loss that does not fit, class weights of the wrong count, a bad standardisation are refused")
    func invalidTasks() throws {
        var tasks = Self.tasks
        tasks[1].loss = .l1
        #expect(try refusal(try json(tasks)).contains("does not fit"))
        tasks = Self.tasks
        tasks[1].loss = .crossEntropy(classWeights: [1, 2], labelSmoothing: 0)
        #expect(try refusal(try json(tasks)).contains("needs 3 non-negative class weights"))
        tasks = Self.tasks
        tasks[0].targetStd = 0
        #expect(try refusal(try json(tasks)).contains("positive std"))
        // NaN is not JSON; a hand-edited 1e999 is refused (as malformed, by the JSON decoder).
        tasks = Self.tasks
        tasks[0].targetMean = 12345
        let infinite = try refusal(try json(tasks).replacingOccurrences(of: "12345", with: "1e999"))
        #expect(infinite.contains("malformed") || infinite.contains("standardisation"), "\(infinite)")
        #expect(try refusal("[{\"name\": 3}]").contains("the task list is malformed"))
    }

    func model() throws -> HydraNetModel {
        let g = Generator(seed: 7)
        return try HydraNetModel(backbone: ConvNet(channels: [4], generator: g), tasks: Self.tasks, headHidden: [],
                                 generator: g)
    }

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(getpid())-\(name)").path
    }

    @Test("weights of the wrong shape are refused with the file's name, and the model is unchanged")
    func wrongShape() throws {
        let model = try model()
        let path = temporaryPath("shape.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var state = model.stateDict()
        let key = try #require(state.keys.first { $0.hasPrefix("heads.race") && $0.hasSuffix("weight") })
        state[key] = Tensor.zeros([7, 7])
        try state.save(safetensors: path, metadata: [Checkpoint.tasksKey: try json(Self.tasks)])
        let before = model.stateDict().map { ($0.key, $0.value.clone()) }
        do {
            try Checkpoint.load(path, into: model)
            Issue.record("loaded")
        } catch let HydraError.checkpoint(message) {
            #expect(message.hasPrefix(path) && message.contains("size mismatch for \(key)"), "\(message)")
        }
        for (k, v) in before { #expect(model.stateDict()[k]!.equal(v), "\(k) changed") }
    }

    @Test("a training state whose counts would overflow is refused with the file's name")
    func hugeCounts() throws {
        let trainer = try Trainer(model: try model(), weighting: .loss(EqualWeighting()), configuration: TrainingConfiguration())
        let path = temporaryPath("state.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try trainer.saveTrainingState(to: path)
        let archive = try SafeTensors.read(path)
        var metadata = archive.metadata
        metadata["hydranet.epoch"] = String(Int.max)
        try SafeTensors.save(ordered: archive.names.map { ($0, archive.tensors[$0]!) }, metadata: metadata, to: path)
        #expect(throws: HydraError.checkpoint("\(path): metadata 'hydranet.epoch' is missing or not a count")) {
            try trainer.loadTrainingState(from: path)
        }
    }

    @Test("a Nash-MTL step that is not a count (NaN, negative, huge) is refused instead of trapping in Int(_:)",
          arguments: [Double.nan, -1, 1e300, 2.5])
    func nashStep(step: Double) {
        #expect(throws: HydraError.self) {
            try NashMTLAggregator().loadStateDict(["step": Tensor(scalar: step)])
        }
    }
}
