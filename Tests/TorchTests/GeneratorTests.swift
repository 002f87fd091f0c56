import Foundation
import Testing
import Torch

/// Explicit generators: seeded draws that no other code can disturb.
@Suite("generators")
struct GeneratorTests {
    @Test("the same seed gives the same draws, whatever the global generator does meanwhile")
    func isolatedFromGlobal() {
        let a = Generator(seed: 42), b = Generator(seed: 42)
        let first = Tensor.randn([64], generator: a)
        // Draws from the global generator (as a parallel test would) between the two.
        _ = Tensor.randn([1000])
        _ = Tensor.rand([10])
        let second = Tensor.randn([64], generator: b)
        #expect(first.equal(second))
        #expect(!Tensor.randn([64], generator: a).equal(first), "a generator advances as it draws")
    }

    @Test("state round trip and clone replay the same sequence")
    func stateAndClone() throws {
        let g = Generator(seed: 3)
        _ = Tensor.rand([5], generator: g)
        let saved = g.state, twin = g.clone()
        let next = Tensor.randint(0, 1000, [20], generator: g)
        #expect(Tensor.randint(0, 1000, [20], generator: twin).equal(next))
        try g.setState(saved)
        #expect(Tensor.randint(0, 1000, [20], generator: g).equal(next))
        g.manualSeed(3)
        #expect(g.initialSeed == 3)
        #expect(Tensor.rand([5], generator: g).equal(Tensor.rand([5], generator: Generator(seed: 3))))
    }

    @Test("a malformed state is refused and leaves the generator unchanged")
    func badState() throws {
        let g = Generator(seed: 1)
        let reference = g.clone()
        #expect(throws: TorchError.self) { try g.setState(Tensor([1, 2, 3] as [UInt8])) }
        #expect(throws: TorchError.self) { try g.setState(Tensor([1.5, 2] as [Float])) }
        #expect(throws: TorchError.self) { try g.setState(Tensor.zeros([2, 3], dtype: .uint8)) }
        #expect(Tensor.randn([8], generator: g).equal(Tensor.randn([8], generator: reference)))
    }

    @Test("in-place fills, bernoulli and dropout draw from the generator")
    func fillsAndDropout() {
        func draws(_ seed: UInt64) -> [Tensor] {
            let g = Generator(seed: seed)
            return [Tensor.empty([6]).uniform_(-1, 1, generator: g), Tensor.empty([6]).normal_(mean: 2, std: 3, generator: g),
                    Tensor.full([50], 0.3).bernoulli(generator: g),
                    Functional.dropout(Tensor.ones([40]), p: 0.25, training: true, generator: g),
                    Tensor.zeros([4, 3]).randnLike(generator: g), Tensor.randperm(9, generator: g)]
        }
        let a = draws(11), b = draws(11), c = draws(12)
        for (x, y) in zip(a, b) { #expect(x.equal(y)) }
        #expect(zip(a, c).contains { !$0.0.equal($0.1) })
        // Dropout keeps 1/(1−p)-scaled values or zeros, and is the identity in eval mode.
        let kept = Set(a[3].scalars(as: Float.self))
        #expect(kept.isSubset(of: [0, Float(1 / 0.75)]))
        let x = Tensor.ones([10])
        #expect(Functional.dropout(x, p: 0.5, training: false, generator: Generator()).equal(x))
    }

    @Test("parallel users of their own generators get their own sequences")
    func parallel() async {
        let expected = Tensor.randn([256], generator: Generator(seed: 99)).scalars(as: Float.self)
        let results = await withTaskGroup(of: [Float].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let g = Generator(seed: 99)
                    _ = Tensor.randn([100])  // global draws in between change nothing
                    return Tensor.randn([256], generator: g).scalars(as: Float.self)
                }
            }
            return await group.reduce(into: [[Float]]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        for r in results { #expect(r == expected) }
    }
}
