import Foundation
import Testing
import Torch
import TorchNN

@Suite("ResNet = torchvision")
struct ResNetTests {
    static let depths: [ResNet.Depth] = [.resnet18, .resnet34, .resnet50]

    static func weightsPath(_ depth: ResNet.Depth, _ ext: String) throws -> String {
        try PythonReference.fixtureURL("resnet").path + ".resnet\(depth.rawValue).\(ext)"
    }

    @Test("state-dict keys, order, shapes and dtypes equal torchvision's", arguments: depths)
    func stateDictMatches(_ depth: ResNet.Depth) throws {
        let refs = try PythonReference.fixtureArchive("resnet")
        let expectedKeys = try #require(refs.metadata["r\(depth.rawValue).keys"]).split(separator: "\n").map(String.init)
        let ours = ResNet(depth: depth).stateDict()
        #expect(ours.keys == expectedKeys)
        if depth == .resnet18 { #expect(ours.count == 122) }
        let torchvision = try StateDict.load(safetensors: try Self.weightsPath(depth, "safetensors"))
        for (key, tensor) in ours {
            guard let theirs = torchvision[key] else { continue }
            #expect(tensor.shape == theirs.shape, "\(key)")
            #expect(tensor.dtype == theirs.dtype, "\(key)")
        }
    }

    @Test("torchvision weights (.pth and .safetensors) load strictly and give torchvision's outputs, gradients and BatchNorm updates",
          arguments: depths)
    func outputsMatch(_ depth: ResNet.Depth) throws {
        let refs = try PythonReference.fixture("resnet")
        let p = "r\(depth.rawValue)"
        let fromPth = try PthFile.load(try Self.weightsPath(depth, "pth"))
        let fromSafetensors = try StateDict.load(safetensors: try Self.weightsPath(depth, "safetensors"))
        #expect(fromPth.keys.count == fromSafetensors.count)
        for (k, v) in fromSafetensors { #expect(fromPth[k]?.equal(v) == true, "\(k)") }

        let x = try #require(refs["\(p)/x"])
        let evalModel = ResNet(depth: depth)
        let report = try evalModel.loadStateDict(fromPth, strict: true)
        #expect(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty)
        evalModel.eval()
        let evalOut = withNoGrad { evalModel(x) }
        #expect(maxAbsDiff(evalOut, refs["\(p)/eval_out"]!) <= 1e-4)

        let trainModel = ResNet(depth: depth)
        try trainModel.loadStateDict(fromSafetensors, strict: true)
        trainModel.train()
        let out = withNoGrad { trainModel(x) }
        #expect(maxAbsDiff(out, refs["\(p)/train_out"]!) <= 1e-4)
        for (name, buffer) in trainModel.namedBuffers() {
            let expected = try #require(refs["\(p)/buffers/\(name)"], "\(name)")
            expectClose(buffer, expected, rtol: 1e-4, atol: 1e-5, name)
        }

        // Gradients in float64 on both sides (see resnet.py for why).
        guard let gw = refs["\(p)/gw"] else { return }
        let gradModel = ResNet(depth: depth)
        try gradModel.loadStateDict(fromSafetensors, strict: true)
        gradModel.to(dtype: .float64).train()
        try (gradModel(x.to(dtype: .float64)) * gw).sum().backward()
        for (name, param) in gradModel.namedParameters() {
            let expected = try #require(refs["\(p)/grad/\(name)"], "\(name)")
            let grad = try #require(param.grad, "no gradient for \(name)").to(dtype: .float32)
            let scale = Swift.max(expected.abs().max().item(), 1e-6)
            #expect(maxAbsDiff(grad, expected) <= 1e-5 * scale, "\(name)")
        }
    }

    @Test("a seeded generator initialises ResNet-18 exactly as torchvision after torch.manual_seed")
    func seededInitialisation() throws {
        let keys = ["conv1.weight", "layer1.0.conv1.weight", "layer3.0.downsample.0.weight", "layer4.1.conv2.weight",
                    "fc.weight", "fc.bias"]
        let reference = try PythonReference.runCode("""
            import sys, torch, torchvision
            torch.manual_seed(3)
            sd = torchvision.models.resnet18().state_dict()
            for k in sys.argv[1:]:
                v = sd[k].double()
                print(k, repr(v.sum().item()), repr(v.flatten()[7].item()))  # repr: shortest exact round trip
            """, arguments: keys)
        let ours = ResNet(depth: .resnet18, generator: Generator(seed: 3)).stateDict()
        let lines = reference.split(separator: "\n")
        try #require(lines.count == keys.count, "Python printed: \(reference)")
        for line in lines {
            let parts = line.split(separator: " ")
            let key = String(parts[0]), sum = Double(parts[1])!, seventh = Double(parts[2])!
            let t = try #require(ours[key], "no \(key)").to(dtype: .float64)
            #expect(Swift.abs(t.sum().item() - sum) <= 1e-6 * Swift.max(1, Swift.abs(sum)), "\(key) sum")
            #expect(t.reshaped([-1])[7].item() == seventh, "\(key)[7]")
        }
    }

    @Test("features mode: fc is Identity and forward returns the pooled features")
    func featureExtractor() {
        let model = ResNet(depth: .resnet18, numClasses: nil).eval()
        let y = withNoGrad { model(Tensor.randn([2, 3, 32, 32])) }
        #expect(y.shape == [2, 512])
        #expect(model.featureCount == 512)
        #expect(ResNet(depth: .resnet50, numClasses: nil).featureCount == 2048)
        #expect(!model.stateDict().keys.contains { $0.hasPrefix("fc.") })
    }

    @Test("small-image stem keeps spatial size through the stem and takes other input channels")
    func smallStem() {
        let model = ResNet(ResNet.Configuration(depth: .resnet18, numClasses: 5, inputChannels: 1,
                                                smallImageStem: true)).eval()
        #expect(model.conv1.weight.shape == [64, 1, 3, 3])
        let y = withNoGrad { model(Tensor.randn([2, 1, 32, 32])) }
        #expect(y.shape == [2, 5])
    }

    @Test("zero-init residual zeroes the last BatchNorm of every block")
    func zeroInitResidual() {
        let model = ResNet(ResNet.Configuration(depth: .resnet50, zeroInitResidual: true))
        for m in model.modules() {
            if let b = m as? Bottleneck { #expect(b.bn3.weight!.abs().sum().item() == 0) }
        }
    }
}
