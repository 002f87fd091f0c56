import Foundation
import Testing
import Torch
import TorchNN

/// A user-defined module with the kinds of members Module reflection must find.
private final class TwoHeads: Module {
    let trunk = Sequential(Linear(4, 8), ReLU())
    let heads = ModuleDict([("age", Linear(8, 1)), ("race", Linear(8, 5))])
    let extras: [Module] = [Linear(2, 2), Identity()]
    let optional: Linear? = nil
    @Parameter var scale: Tensor = Tensor.ones([1])
    @Buffer var stepCount: Tensor = Tensor.zeros([], dtype: .int64)
    @Buffer(persistent: false) var scratch: Tensor = Tensor.zeros([3])
    @Parameter(key: "logVar") var logVariance: Tensor = Tensor.zeros([2])
    let notAParameter = Tensor.ones([7])
}

@Suite("Module")
struct ModuleTests {
    @Test("names follow PyTorch: snake_case properties, indexed lists, ModuleDict keys, own slots first")
    func names() {
        let m = TwoHeads()
        #expect(m.stateDict().keys == [
            "scale", "logVar", "step_count",
            "trunk.0.weight", "trunk.0.bias",
            "heads.age.weight", "heads.age.bias", "heads.race.weight", "heads.race.bias",
            "extras.0.weight", "extras.0.bias",
        ])
        #expect(m.namedBuffers().map(\.0) == ["step_count", "scratch"])
        #expect(m.parameterCount() == 1 + 2 + (4 * 8 + 8) + (8 + 1) + (8 * 5 + 5) + (2 * 2 + 2))
        #expect(m.namedModules().map(\.0) == ["", "trunk", "trunk.0", "trunk.1", "heads", "heads.age", "heads.race",
                                              "extras.0", "extras.1"])
    }

    @Test("train/eval propagate; freeze/unfreeze set requiresGrad")
    func modes() {
        let m = TwoHeads()
        m.eval()
        #expect(m.modules().allSatisfy { !$0.isTraining })
        m.train()
        #expect(m.modules().allSatisfy { $0.isTraining })
        m.heads.freeze()
        #expect(m.heads.parameters().allSatisfy { !$0.requiresGrad })
        #expect(m.trunk.parameters().allSatisfy { $0.requiresGrad })
        #expect(m.parameterCount(trainableOnly: true) == m.parameterCount() - (8 + 1) - (8 * 5 + 5))
        m.heads.unfreeze()
        #expect(m.parameters().allSatisfy { $0.requiresGrad })
    }

    @Test("loadStateDict reports missing and unexpected keys, throws on shape and dtype mismatches without changing anything")
    func loading() throws {
        let a = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
        let b = Sequential(Linear(3, 2), ReLU(), Linear(2, 1))
        try b.loadStateDict(a.stateDict())
        for (k, v) in a.stateDict() { #expect(b.stateDict()[k]!.equal(v)) }

        var partial = a.stateDict()
        partial["0.bias"] = nil
        partial["extra.weight"] = Tensor.zeros([1])
        #expect(throws: StateDictError.keysMismatch(missing: ["0.bias"], unexpected: ["extra.weight"])) {
            try b.loadStateDict(partial)
        }
        let report = try b.loadStateDict(partial, strict: false)
        #expect(report == LoadStateDictReport(missingKeys: ["0.bias"], unexpectedKeys: ["extra.weight"]))

        let before = b.stateDict()["0.weight"]!.clone()
        var wrongShape = a.stateDict()
        wrongShape["2.weight"] = Tensor.zeros([1, 3])
        wrongShape["0.weight"] = Tensor.full([2, 3], 9)
        #expect(throws: StateDictError.shapeMismatch(key: "2.weight", expected: [1, 2], found: [1, 3])) {
            try b.loadStateDict(wrongShape)
        }
        #expect(b.stateDict()["0.weight"]!.equal(before), "a failed load must not change the model")
        var wrongType = a.stateDict()
        wrongType["0.bias"] = Tensor.zeros([2], dtype: .float64)
        #expect(throws: StateDictError.dtypeMismatch(key: "0.bias", expected: .float32, found: .float64)) {
            try b.loadStateDict(wrongType)
        }
    }

    @Test("a state dict round-trips through safetensors, readable by Python")
    func safetensorsRoundTrip() throws {
        let m = ResNet(depth: .resnet18, numClasses: 7)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("r18-\(getpid()).safetensors").path
        try m.stateDict().save(safetensors: path, metadata: ["arch": "resnet18"])
        let other = ResNet(depth: .resnet18, numClasses: 7)
        try other.loadStateDict(try StateDict.load(safetensors: path))
        for (k, v) in m.stateDict() { #expect(other.stateDict()[k]!.equal(v), "\(k)") }
        let output = try PythonReference.runCode("""
            import sys, torch, torchvision
            from safetensors.torch import load_file
            m = torchvision.models.resnet18(num_classes=7)
            print(m.load_state_dict(load_file(sys.argv[1]), strict=True))
            """, arguments: [path])
        #expect(output.contains("All keys matched successfully"), "\(output)")
    }

    @Test("moving to float64 keeps requiresGrad and converts buffers but not integer ones")
    func dtypeMove() {
        let m = Sequential(Linear(2, 2), BatchNorm1d(2))
        m[0].freeze()
        m.to(dtype: .float64)
        #expect(m.parameters().allSatisfy { $0.dtype == .float64 })
        #expect(m.parameters().map(\.requiresGrad) == [false, false, true, true])
        #expect(m.stateDict()["1.num_batches_tracked"]!.dtype == .int64)
        #expect(m.stateDict()["1.running_mean"]!.dtype == .float64)
    }

    @Test("print(model) looks like PyTorch's")
    func description() throws {
        let m = Sequential(Conv2d(3, 64, kernelSize: 7, stride: 2, padding: 3, bias: false), BatchNorm2d(64), ReLU(),
                           MaxPool2d(kernelSize: 3, stride: 2, padding: 1), AdaptiveAvgPool2d(), Flatten(),
                           Linear(64, 10), Dropout(0.5))
        let python = try PythonReference.runCode("""
            from torch import nn
            print(nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                nn.MaxPool2d(3, 2, 1), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(64, 10), nn.Dropout(0.5)), end="")
            """)
        #expect(m.description == python)
    }

    @Test("default initialisation: same seed gives PyTorch's exact values; statistics match the distributions")
    func initialisation() throws {
        let reference = try PythonReference.runCode("""
            import torch, sys
            from torch import nn
            torch.manual_seed(3)
            l = nn.Linear(64, 32); c = nn.Conv2d(8, 16, 3)
            sys.stdout.write(" ".join(f"{v:.9e}" for v in [l.weight[0, 0].item(), l.weight[31, 63].item(),
                l.bias[5].item(), c.weight[2, 3, 1, 1].item(), c.bias[15].item()]))
            """).split(separator: " ").compactMap { Double($0) }
        func draw() -> [Double] {
            let g = Generator(seed: 3)
            let l = Linear(64, 32, generator: g), c = Conv2d(8, 16, kernelSize: 3, generator: g)
            return [l.weight[0, 0].item(), l.weight[31, 63].item(), l.bias![5].item(), c.weight[2, 3, 1, 1].item(),
                    c.bias![15].item()]
        }
        let ours = draw()
        #expect(draw() == ours, "the same seed must give the same initial values")
        try #require(reference.count == 5)
        for (a, b) in zip(ours, reference) { #expect(Swift.abs(a - b) <= 1e-7 * Swift.abs(b) + 1e-12) }

        // U(-b, b) has std b/√3; N(0, s) has std s. Sample statistics within 4 standard errors.
        func check(_ t: Tensor, mean: Double, std: Double, _ label: String) {
            let n = Double(t.count)
            let m = t.mean().item(), s = t.std().item()
            #expect(Swift.abs(m - mean) < 4 * std / n.squareRoot(), "\(label) mean \(m)")
            #expect(Swift.abs(s - std) < 4 * std / (2 * n).squareRoot(), "\(label) std \(s)")
        }
        let g = Generator(seed: 17)
        let w = Tensor.empty([512, 256])
        check(Linear(256, 512, generator: g).weight, mean: 0, std: 1 / 256.0.squareRoot() / 3.0.squareRoot(), "Linear")
        check(Conv2d(64, 128, kernelSize: 3, generator: g).weight, mean: 0, std: 1 / 576.0.squareRoot() / 3.0.squareRoot(), "Conv2d")
        check(Init.kaimingNormal(w, mode: .fanOut, nonlinearity: .relu, generator: g), mean: 0, std: (2.0 / 512).squareRoot(), "kaiming_normal")
        check(Init.kaimingUniform(w, generator: g), mean: 0, std: (2.0 / (1 + 0.0001) / 256).squareRoot(), "kaiming_uniform")
        check(Init.xavierUniform(w, generator: g), mean: 0, std: (2.0 / 768).squareRoot(), "xavier_uniform")
        check(Init.xavierNormal(w, gain: 2, generator: g), mean: 0, std: 2 * (2.0 / 768).squareRoot(), "xavier_normal")
        check(Init.normal(w, mean: 1, std: 0.5, generator: g), mean: 1, std: 0.5, "normal")
        check(Init.uniform(w, low: -3, high: 1, generator: g), mean: -1, std: 4 / 12.0.squareRoot(), "uniform")
        Init.truncNormal(w, mean: 0, std: 1, a: -1, b: 1, generator: g)
        #expect(w.abs().max().item() <= 1)
        // Truncated to ±1σ: variance 1 − 2φ(1)/(Φ(1) − Φ(−1)).
        check(w, mean: 0, std: (1 - 2 * 0.2419707245 / 0.6826894921).squareRoot(), "trunc_normal")
        #expect(Init.constant(w, 0.25).eq(0.25).all().item() == 1)
        #expect(Init.zeros(w).abs().sum().item() == 0)
        #expect(Init.ones(w).sum().item() == Double(w.count))
    }
}
