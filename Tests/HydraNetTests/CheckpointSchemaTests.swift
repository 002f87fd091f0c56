import CLITestSupport
import Foundation
import HydraData
import HydraNet
import Testing
import TestSupport
import Torch
import TorchNN

/// The checkpoint schema (docs/checkpoint-format.md): Python rebuilds the model from the
/// metadata alone and reproduces HydraNet's outputs; the description round-trips; files that
/// are not (current) HydraNet checkpoints are refused with a message naming what is missing.
@Suite("Checkpoint schema")
struct CheckpointSchemaTests {
    static let tasks: [HydraTask] = {
        var age = HydraTask(name: "age", kind: .regression)
        age.targetMean = 34.5
        age.targetStd = 19.25
        return [age,
                HydraTask(name: "gender", kind: .binary, classNames: ["male", "female"]),
                HydraTask(name: "race", kind: .multiclass(5), loss: .crossEntropy(classWeights: [1, 2, 1, 1, 3], labelSmoothing: 0.1),
                          classNames: ["White", "Black", "Asian", "Indian", "Others"]),
                HydraTask(name: "tags", kind: .multilabel(3), classNames: ["glasses", "hat", "beard"])]
    }()

    static func spec(_ backbone: ModelSpec.BackboneSpec, features: Int, size: Int) -> ModelSpec {
        ModelSpec(backbone: backbone, featureCount: features,
                  input: ModelSpec.InputSpec(transform: ImageTransform(size: size),
                                             normalization: Normalization(mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3])),
                  heads: ["age": .init(hidden: [32], dropout: 0.2), "gender": .init(hidden: [], dropout: 0),
                          "race": .init(hidden: [48, 16], dropout: 0), "tags": .init(hidden: [8], dropout: 0)],
                  tasks: tasks)
    }

    @Test("Python rebuilds the model from the metadata alone and matches (≤ 1e-4)",
          arguments: [("resnet18 small stem", ModelSpec.BackboneSpec.resnet(depth: 18, smallImageStem: true), 512, 32),
                      ("resnet18 ImageNet stem", .resnet(depth: 18, smallImageStem: false), 512, 64),
                      ("convnet", .convnet(channels: [8, 16]), 16, 24),
                      ("convnet, flip test-time augmentation", .convnet(channels: [8, 16]), 16, 24)])
    func pythonRebuilds(_ name: String, _ backbone: ModelSpec.BackboneSpec, _ features: Int, _ size: Int) throws {
        let scratch = try ScratchFolder("schema")
        defer { scratch.cleanUp() }
        let generator = Generator(seed: 11)
        var spec = Self.spec(backbone, features: features, size: size)
        spec.testTimeFlip = name.contains("flip")
        let model = try spec.makeModel(generator: generator)
        #expect(model.testTimeFlip == spec.testTimeFlip)
        // Non-trivial BatchNorm statistics: a few training-mode forwards.
        withNoGrad {
            model.train()
            for _ in 0..<3 { _ = model.outputs(Tensor.randn([6, 3, size, size], generator: generator) * 2 + 0.5) }
        }
        model.eval()
        let input = ModelSpec.InputSpec(transform: ImageTransform(size: size),
                                        normalization: Normalization(mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3]))
        let checkpoint = scratch.path("model.safetensors")
        try Checkpoint.save(model, input: input, to: checkpoint)

        let images = Tensor.randint(0, 256, [4, 3, size, size], generator: generator).to(dtype: .uint8)
        let x = input.normalization.apply(images)
        let outputs = withNoGrad { model.outputs(x) }
        let years = model.predict(x).map { prediction -> Double in
            guard case let .value(v)? = prediction["age"] else { return .nan }
            return v
        }
        var io: [(String, Tensor)] = [("images", images), ("units.age", Tensor(years))]
        for (task, out) in zip(model.tasks, outputs) { io.append(("out.\(task.name)", out)) }
        try SafeTensors.save(ordered: io, to: scratch.path("io.safetensors"))

        let script = PythonReference.packageRoot.appendingPathComponent("Tests/Python/rebuild_from_checkpoint.py")
        let output = try PythonReference.run([script.path, checkpoint, scratch.path("io.safetensors")])
        let line = try #require(output.split(separator: "\n").last.map(String.init), "no output from Python")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(output)")
        for task in model.tasks {
            let diff = try #require(result[task.name] as? Double, "Python reported no difference for \(task.name): \(output)")
            #expect(diff <= 1e-4, "\(name): \(task.name) differs by \(diff)")
        }
        let unitDiff = try #require(result["age/units"] as? Double, "\(output)")
        #expect(unitDiff <= 1e-3, "\(name): age in years differs by \(unitDiff)")
        let raceLabels = try #require(result["race/labels"] as? [String], "\(output)")
        let swiftLabels = model.predict(x).map { p -> String in
            guard case let .multiclass(_, label)? = p["race"] else { return "?" }
            return label
        }
        #expect(raceLabels == swiftLabels)
    }

    @Test("The description round-trips and rebuilds the same model")
    func roundTrip() throws {
        let scratch = try ScratchFolder("schema-rt")
        defer { scratch.cleanUp() }
        let spec = Self.spec(.resnet(depth: 18, smallImageStem: true), features: 512, size: 32)
        let model = try spec.makeModel(generator: Generator(seed: 3))
        try Checkpoint.save(model, input: spec.input, to: scratch.path("m.safetensors"))
        let (loaded, read) = try Checkpoint.loadModel(scratch.path("m.safetensors"))
        #expect(read == spec)
        #expect(loaded.tasks == Self.tasks)
        let x = Tensor.randn([2, 3, 32, 32], generator: Generator(seed: 4))
        model.eval()
        for (a, b) in zip(withNoGrad { model.outputs(x) }, withNoGrad { loaded.outputs(x) }) {
            #expect(a.equal(b))
        }
        // The JSON is language neutral: plain names, no Swift enum encoding.
        let json = try spec.json()
        #expect(json.contains("\"kind\":\"multiclass\"") && json.contains("\"small_image_stem\":true"))
        #expect(!json.contains("_0"))
    }

    @Test("Files that are not current HydraNet checkpoints are refused, naming what is missing",
          arguments: [
              ("foreign", ["format": "pt"], "not a HydraNet checkpoint"),
              ("older HydraNet", ["hydranet.tasks": "[]"], "older HydraNet"),
              ("training state", ["hydranet.optimizer": "adamw", "hydranet.tasks": "[]"], "training state"),
              ("malformed", ["hydranet.model": "{\"format\":\"hydranet-model\"}"], "format_version"),
              ("future", ["hydranet.model": "{\"format\":\"hydranet-model\",\"format_version\":9,\"backbone\":{\"kind\":\"convnet\","
                  + "\"channels\":[8],\"feature_count\":8},\"tasks\":[{\"name\":\"a\",\"kind\":\"regression\"}]}"], "version 9"),
              // 1 M × 1 M head layers (8 TB) for a file of two values: refused before allocating.
              ("huge layers", ["hydranet.model": "{\"format\":\"hydranet-model\",\"format_version\":1,\"backbone\":{\"kind\":"
                  + "\"convnet\",\"channels\":[8],\"feature_count\":8},\"heads\":{\"a\":{\"hidden\":[1048576,1048576],"
                  + "\"dropout\":0}},\"tasks\":[{\"name\":\"a\",\"kind\":\"regression\"}]}"], "does not fit the weights"),
          ])
    func refused(_ name: String, _ metadata: [String: String], _ expected: String) throws {
        let scratch = try ScratchFolder("schema-bad")
        defer { scratch.cleanUp() }
        let path = scratch.path("\(name).safetensors")
        try SafeTensors.save(ordered: [("w", Tensor.zeros([2]))], metadata: metadata, to: path)
        do {
            _ = try Checkpoint.loadModel(path)
            Issue.record("\(name) was accepted")
        } catch let error as HydraError {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains(path), "\(error)")
        }
    }

    @Test("A checkpoint is refused for another input size or stem")
    func mismatchRefused() throws {
        let spec = Self.spec(.resnet(depth: 18, smallImageStem: true), features: 512, size: 32)
        #expect(throws: HydraError.self) { try spec.check(path: "m", imageSize: 64) }
        #expect(throws: HydraError.self) { try spec.check(path: "m", smallImageStem: false) }
        #expect(throws: HydraError.self) { try spec.check(path: "m", backbone: "resnet34") }
        try spec.check(path: "m", imageSize: 32, backbone: "resnet18", smallImageStem: true)
    }
}
