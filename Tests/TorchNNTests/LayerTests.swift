import Foundation
import Testing
import Torch
import TorchNN

/// Mirrors Tests/Fixtures/nn_layers.py: each layer with PyTorch's weights gives PyTorch's
/// outputs, input and parameter gradients, and buffer updates.
@Suite("layers = PyTorch")
struct LayerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let make: @Sendable () -> Module
        var train = true
        var passes = 1
        var seed: UInt64 = 0
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "linear", make: { Linear(5, 4) }),
        Case(name: "linear_nobias", make: { Linear(5, 4, bias: false) }),
        Case(name: "conv2d", make: { Conv2d(3, 6, kernelSize: 3, stride: 2, padding: 1) }),
        Case(name: "conv2d_groups", make: { Conv2d(4, 8, kernelSize: 3, padding: 2, dilation: 2, groups: 2, bias: false) }),
        Case(name: "bn1d_train", make: { BatchNorm1d(4) }),
        Case(name: "bn1d_3d_train", make: { BatchNorm1d(4) }),
        Case(name: "bn2d_train", make: { BatchNorm2d(3) }, passes: 2),
        Case(name: "bn2d_eval", make: { BatchNorm2d(3) }, train: false),
        Case(name: "bn2d_cumulative", make: { BatchNorm2d(3, momentum: nil) }, passes: 3),
        Case(name: "bn2d_no_affine", make: { BatchNorm2d(3, momentum: 0.3, affine: false) }),
        Case(name: "bn2d_no_stats", make: { BatchNorm2d(3, trackRunningStats: false) }, train: false),
        Case(name: "layernorm", make: { LayerNorm([5]) }),
        Case(name: "layernorm_2d", make: { LayerNorm([4, 5]) }),
        Case(name: "groupnorm", make: { GroupNorm(2, 4) }),
        Case(name: "dropout_eval", make: { Dropout(0.3) }, train: false),
        Case(name: "dropout_train", make: { Dropout(0.3) }, seed: 123),
        Case(name: "relu", make: { ReLU() }),
        Case(name: "leakyrelu", make: { LeakyReLU(negativeSlope: 0.2) }),
        Case(name: "gelu", make: { GELU() }),
        Case(name: "gelu_tanh", make: { GELU(tanhApproximation: true) }),
        Case(name: "silu", make: { SiLU() }),
        Case(name: "sigmoid", make: { Sigmoid() }),
        Case(name: "tanh", make: { Tanh() }),
        Case(name: "maxpool", make: { MaxPool2d(kernelSize: 3, stride: 2, padding: 1) }),
        Case(name: "avgpool", make: { AvgPool2d(kernelSize: 2) }),
        Case(name: "adaptive_1x1", make: { AdaptiveAvgPool2d(outputSize: (1, 1)) }),
        Case(name: "adaptive_2x3", make: { AdaptiveAvgPool2d(outputSize: (2, 3)) }),
        Case(name: "flatten", make: { Flatten() }),
        Case(name: "identity", make: { Identity() }),
        Case(name: "embedding", make: { Embedding(10, 3) }),
        Case(name: "sequential", make: { Sequential(Linear(4, 3), ReLU(), Linear(3, 2)) }),
    ]

    @Test("forward, backward and buffer updates", arguments: cases)
    func layer(_ c: Case) throws {
        let fx = try PythonReference.fixture("nn_layers")
        let layer = c.make()
        var sd = StateDict()
        for (k, v) in fx where k.hasPrefix("\(c.name)/sd/") { sd[String(k.dropFirst("\(c.name)/sd/".count))] = v }
        try layer.loadStateDict(sd, strict: true)
        layer.train(c.train)
        let x = try #require(fx["\(c.name)/x"])
        let input = x.dtype.isFloatingPoint ? x.clone().requiringGrad() : x
        // Seeded layers (dropout) draw from their own generator, seeded as Python seeded its
        // global one before the forward passes.
        if c.seed != 0 { layer.useGenerator(Generator(seed: c.seed)) }
        let expectedOut = fx["\(c.name)/out"]!
        var out: Tensor!
        for _ in 0..<c.passes { out = layer(input) }
        expectClose(out, expectedOut, rtol: 1e-5, atol: 1e-6, "\(c.name) output")
        try (out * fx["\(c.name)/gw"]!).sum().backward()
        if let gx = fx["\(c.name)/gx"] {
            expectClose(input.grad ?? gx.zerosLike(), gx, rtol: 1e-5, atol: 1e-5, "\(c.name) input grad")
        }
        for (name, p) in layer.namedParameters() {
            let expected = try #require(fx["\(c.name)/grad/\(name)"])
            expectClose(p.grad ?? expected.zerosLike(), expected, rtol: 1e-5, atol: 1e-5, "\(c.name) grad \(name)")
        }
        for (name, b) in layer.namedBuffers() {
            let expected = try #require(fx["\(c.name)/after/\(name)"])
            expectClose(b, expected, rtol: 1e-5, atol: 1e-6, "\(c.name) buffer \(name)")
        }
    }

    @Test("every fixture case has a Swift case")
    func coverage() throws {
        let fx = try PythonReference.fixture("nn_layers")
        let names = Set(fx.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
        #expect(names == Set(Self.cases.map(\.name)))
    }
}
