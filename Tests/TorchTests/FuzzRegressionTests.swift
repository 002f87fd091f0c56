import Foundation
import Testing
import Torch

/// Every input that crashed the `safetensors` fuzz target (Fuzz/regressions/safetensors) is
/// refused with an error instead.
@Suite("Fuzz regressions: safetensors")
struct SafeTensorsFuzzRegressionTests {
    @Test("inputs that crashed the reader throw", arguments: FuzzRegressions.inputs("safetensors"))
    func safetensors(_ input: FuzzRegressions.Input) {
        #expect(throws: TorchError.self, "\(input.name)") {
            try SafeTensors.read(data: Data(input.bytes), name: input.name)
        }
    }
}
