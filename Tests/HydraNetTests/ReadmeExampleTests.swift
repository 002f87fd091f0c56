import Foundation
import HydraNet
import Testing
import Torch
import TorchNN

/// The README's Swift example, kept compiling and working.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("ResNet-18 HydraNet with torchvision weights: one step, save, Python reads it")
    func example() throws {
        let torchvisionWeights = try PythonReference.fixtureURL("resnet").path + ".resnet18.pth"
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("hydra-\(getpid()).safetensors").path

        // --- README example begins ---
        // A ResNet-18 feature extractor with torchvision's weights (fc dropped).
        let backbone = ResNet(depth: .resnet18, numClasses: nil)
        var weights = try PthFile.load(torchvisionWeights)          // torch.save(resnet18().state_dict(), …)
        weights["fc.weight"] = nil
        weights["fc.bias"] = nil
        try backbone.loadStateDict(weights, strict: true)

        // One head per task; the backbone runs once per forward. Heads are initialised from a
        // seeded generator of the model's own (as torch.Generator), not a global one.
        let generator = Generator(seed: 0)
        let model = try HydraNetModel(backbone: backbone, tasks: [
            HydraTask(name: "age", kind: .regression),
            HydraTask(name: "gender", kind: .binary, classNames: ["male", "female"]),
            HydraTask(name: "race", kind: .multiclass(5)),
        ], generator: generator)
        let trainer = try Trainer(model: model, weighting: try WeightingFactory.make("uncertainty", tasks: model.tasks, source: nil),
                                  configuration: TrainingConfiguration())

        // One training step on a batch (images B×3×H×W; labels and presence masks per task).
        let images = Tensor.randn([8, 3, 32, 32], generator: generator)
        let batch = Batch(images: images,
                          labels: [Tensor.full([8], 30), Tensor.ones([8]), Tensor.full([8], integer: 2)],
                          masks: [Tensor.ones([8], dtype: .bool), Tensor.ones([8], dtype: .bool),
                                  Tensor([true, true, false, true, true, true, false, true])],  // 2 races unknown
                          indices: Array(0..<8))
        let step = try trainer.step(batch, columns: [0, 1, 2])
        print(step.losses)                                          // per-task losses

        try Checkpoint.save(model, input: .init(size: 32), to: checkpoint)  // weights + model description
        print(model.predict(images)[0])                             // ["age": 31.2, "gender": female (p=…), …]
        // --- README example ends ---

        #expect(step.losses.allSatisfy { ($0 ?? .nan).isFinite })
        let output = try PythonReference.runCode("""
            import sys
            from safetensors.torch import load_file
            sd = load_file(sys.argv[1])
            print(len(sd), sd["backbone.conv1.weight"].shape, sd["heads.race.2.weight"].shape)
            """, arguments: [checkpoint])
        #expect(output.contains("torch.Size([64, 3, 7, 7]) torch.Size([5, 256])"), "\(output)")
        #expect(output.hasPrefix("\(model.stateDict().count) "), "\(output)")
    }
}
