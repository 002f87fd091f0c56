import Testing
import Torch

@Suite("printing")
struct DescriptionTests {
    /// Python expressions paired with the Swift tensor they build.
    static let cases: [(String, @Sendable () -> Tensor)] = [
        ("torch.tensor([[1., 2.], [3., 4.]])", { Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]) }),
        ("torch.tensor([0.5, -1.25, 3.0])", { Tensor([0.5, -1.25, 3] as [Float]) }),
        ("torch.tensor([1e-6, 1.0, 2e5])", { Tensor([1e-6, 1, 2e5] as [Float]) }),
        ("torch.arange(6).reshape(2, 3)", { Tensor.arange(0, 6).reshaped([2, 3]) }),
        ("torch.tensor([True, False])", { Tensor([true, false]) }),
        ("torch.tensor(3.5)", { Tensor(Float(3.5)) }),
        ("torch.zeros(0, 3)", { Tensor.zeros([0, 3]) }),
        ("torch.arange(8, dtype=torch.float64).reshape(2, 2, 2)",
         { Tensor.arange(0, 8, dtype: .float64).reshaped([2, 2, 2]) }),
        ("torch.tensor([1.5, float('nan'), float('inf')], dtype=torch.float16)",
         { Tensor([1.5, .nan, .infinity] as [Float]).to(dtype: .float16) }),
        ("torch.arange(30, dtype=torch.float32) / 7", { Tensor.arange(0, 30, dtype: .float32) / 7 }),
        ("torch.arange(2000, dtype=torch.int32).reshape(40, 50)",
         { Tensor.arange(0, 2000, dtype: .int32).reshaped([40, 50]) }),
        ("torch.ones(2, requires_grad=True)", { Tensor.ones([2]).requiringGrad() }),
    ]

    /// Python's `str()` of every case, from one interpreter run.
    static let pythonStrings: Result<[String], any Error> = Result {
        let list = cases.map(\.0).joined(separator: ", ")
        let out = try PythonReference.runCode(
            "import torch, sys; sys.stdout.write('\\0'.join(str(t) for t in [\(list)]))")
        return out.components(separatedBy: "\0")
    }

    @Test("tensors print as PyTorch prints them", arguments: cases.indices)
    func matchesPython(_ index: Int) throws {
        let (expression, make) = Self.cases[index]
        let python = try Self.pythonStrings.get()
        try #require(python.count == Self.cases.count)
        #expect(make().description == python[index], "\(expression)")
    }
}
