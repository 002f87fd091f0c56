import Testing
import Torch

/// Every input that crashed the `safetensors` fuzz target (Fuzz/regressions/safetensors) is
/// refused with an error instead.
@Suite("Fuzz regressions: safetensors")
struct SafeTensorsFuzzRegressionTests {
    @Test("inputs that crashed the reader throw", arguments: FuzzRegressions.inputs("safetensors"))
    func safetensors(_ input: FuzzRegressions.Input) {
        let bytes = input.bytes
        #expect(throws: (any Error).self, "\(input.name)") {
            try bytes.withUnsafeBytes { try SafeTensors.decode($0) }
        }
    }
}
