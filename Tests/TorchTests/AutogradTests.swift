import Testing
import Torch

@Suite("Autograd")
struct AutogradTests {
    struct Thrown: Error {}

    // MARK: (a) per-loss gradients over shared parameters

    @Test("Autograd.grad gives each loss's gradient of shared parameters (retainGraph)")
    func twoLossesSharedParameter() throws {
        let s = Tensor([1, 2, 3] as [Float]).requiringGrad()
        let h = s * s
        let l1 = (h * Tensor([1, 1, 1] as [Float])).sum()
        let l2 = (h * Tensor([2, 0, -1] as [Float])).sum()

        let g1 = try Autograd.grad(outputs: [l1], inputs: [s], retainGraph: true)
        let g2 = try Autograd.grad(outputs: [l2], inputs: [s])
        #expect(g1.count == 1 && g2.count == 1)
        #expect(try #require(g1[0]).scalars(as: Float.self) == [2, 4, 6])
        #expect(try #require(g2[0]).scalars(as: Float.self) == [4, 0, -6])
        // Autograd.grad does not touch .grad.
        #expect(s.grad == nil)
    }

    @Test("Autograd.grad: nil for an unused input, explicit gradOutputs for a vector output")
    func unusedInputAndGradOutputs() throws {
        let a = Tensor([1, 2] as [Float]).requiringGrad()
        let unused = Tensor([5] as [Float]).requiringGrad()
        let y = a * 3
        let g = try Autograd.grad(outputs: [y], inputs: [a, unused],
                                  gradOutputs: [Tensor([1, -2] as [Float])])
        #expect(try #require(g[0]).scalars(as: Float.self) == [3, -6])
        #expect(g[1] == nil)
        #expect(throws: TorchError.self) {
            _ = try Autograd.grad(outputs: [y], inputs: [a], gradOutputs: [])
        }
    }

    @Test("two task losses of a small MLP: per-loss gradients equal torch.autograd.grad")
    func mlpTwoLossesMatchesPython() throws {
        let fx = try PythonReference.fixture("autograd")
        func t(_ key: String) throws -> Tensor { try #require(fx["mlp/\(key)"], "missing mlp/\(key)") }
        let names = ["w1", "b1", "w2", "b2"]
        let params = try names.map { try t($0).clone().requiringGrad() }
        let x = try t("x"), yReg = try t("y_reg"), yBin = try t("y_bin")

        let h = Functional.relu(Functional.linear(x, weight: params[0], bias: params[1]))
        let out = Functional.linear(h, weight: params[2], bias: params[3])
        let all = TensorIndex.all
        let l1 = Functional.mseLoss(out[all, 0], yReg)
        let l2 = Functional.binaryCrossEntropyWithLogits(out[all, 1], yBin) + 0.5 * out[all, 2].pow(2).mean()
        expectClose(l1, try t("l1"), "l1")
        expectClose(l2, try t("l2"), "l2")

        let g1 = try Autograd.grad(outputs: [l1], inputs: params, retainGraph: true)
        let g2 = try Autograd.grad(outputs: [l2], inputs: params)
        for (k, name) in names.enumerated() {
            expectClose(try #require(g1[k], "g1 \(name) nil"), try t("g1/\(name)"), "g1/\(name)")
            expectClose(try #require(g2[k], "g2 \(name) nil"), try t("g2/\(name)"), "g2/\(name)")
        }
        for p in params { #expect(p.grad == nil) }
    }

    // MARK: (b) freed graph throws

    @Test("backward through a freed graph throws TorchError instead of trapping")
    func freedGraphThrows() throws {
        let s = Tensor([1, 2, 3] as [Float]).requiringGrad()
        let l = (s * s).sum()
        try l.backward()
        #expect(s.grad?.scalars(as: Float.self) == [2, 4, 6])
        #expect(throws: TorchError.self) { try l.backward() }

        let m = (s * s).sum()
        _ = try Autograd.grad(outputs: [m], inputs: [s])  // retainGraph false frees it
        #expect(throws: TorchError.self) { _ = try Autograd.grad(outputs: [m], inputs: [s]) }
        #expect(throws: TorchError.self) { try m.backward() }
    }

    @Test("backward of a tensor that does not require grad throws TorchError")
    func backwardWithoutGradThrows() {
        let x = Tensor([1, 2] as [Float]).sum()
        #expect(throws: TorchError.self) { try x.backward() }
        let v = Tensor([1, 2] as [Float]).requiringGrad() * 2
        #expect(throws: TorchError.self) { try v.backward() }  // non-scalar without gradient
    }

    @Test("relu_ in place gives relu's value and gradient; overwriting a tensor the backward needs throws")
    func inPlaceReLU() throws {
        let x = Tensor([-2, -0.5, 0.5, 3] as [Float]).requiringGrad()
        let y = (x * 3).relu_()  // overwrites a fresh, non-leaf product
        #expect(y.scalars(as: Float.self) == [0, 0, 1.5, 9])
        try (y * Tensor([1, 2, 3, 4] as [Float])).sum().backward()
        #expect(x.grad?.scalars(as: Float.self) == [0, 0, 9, 12])

        let z = x * 2
        let square = (z * z).sum()  // saves z for its backward
        z.relu_()
        #expect(throws: TorchError.self) { try square.backward() }
    }

    // MARK: (c) no-grad scopes

    @Test("withNoGrad turns recording off and restores it")
    func noGradScope() throws {
        let w = Tensor([1, 2] as [Float]).requiringGrad()
        #expect(Autograd.isGradEnabled)
        let inside = withNoGrad { () -> Tensor in
            #expect(!Autograd.isGradEnabled)
            return w * 2
        }
        #expect(!inside.requiresGrad)
        #expect(Autograd.isGradEnabled)
        #expect((w * 2).requiresGrad)

        // Nested scopes restore the enclosing mode, not unconditionally "on".
        withNoGrad {
            withGradEnabled(true) {
                #expect(Autograd.isGradEnabled)
                #expect((w * 2).requiresGrad)
            }
            #expect(!Autograd.isGradEnabled)
        }
        #expect(Autograd.isGradEnabled)
    }

    @Test("withNoGrad restores recording when the body throws")
    func noGradScopeRestoresOnThrow() {
        #expect(Autograd.isGradEnabled)
        #expect(throws: Thrown.self) {
            try withNoGrad {
                #expect(!Autograd.isGradEnabled)
                throw Thrown()
            }
        }
        #expect(Autograd.isGradEnabled)
        #expect(throws: Thrown.self) {
            try withNoGrad { try withGradEnabled(true) { throw Thrown() } }
        }
        #expect(Autograd.isGradEnabled)
    }

    // MARK: (d) accumulation and zeroGrad

    @Test("backward accumulates into .grad; zeroGrad clears it")
    func accumulateAndZeroGrad() throws {
        let x = Tensor([1, -1, 0.5] as [Float]).requiringGrad()
        #expect(x.grad == nil)
        try (x * 2).sum().backward()
        #expect(x.grad?.scalars(as: Float.self) == [2, 2, 2])
        try (x * 3).sum().backward()
        #expect(x.grad?.scalars(as: Float.self) == [5, 5, 5])

        x.zeroGrad()
        #expect(x.grad == nil)

        try (x * x).sum().backward()
        #expect(x.grad?.scalars(as: Float.self) == [2, -2, 1])
        x.zeroGrad(setToNone: false)
        #expect(x.grad?.scalars(as: Float.self) == [0, 0, 0])
        try (x * 4).sum().backward()
        #expect(x.grad?.scalars(as: Float.self) == [4, 4, 4])
    }
}
