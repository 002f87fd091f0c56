import Foundation
import Testing
import Torch
import TorchNN

/// Every input that crashed the `pth` or `pickle` fuzz target (Fuzz/regressions/pth,
/// Fuzz/regressions/pickle) is refused with an error instead, fed as the target feeds it.
@Suite("Fuzz regressions: .pth files and pickles")
struct PthFuzzRegressionTests {
    @Test(".pth inputs that crashed the loader throw", arguments: FuzzRegressions.inputs("pth"))
    func pth(_ input: FuzzRegressions.Input) {
        #expect(throws: TorchError.self, "\(input.name)") { try PthFile.load(input.path) }
    }

    @Test("pickles that crashed the unpickler throw", arguments: FuzzRegressions.inputs("pickle"))
    func pickle(_ input: FuzzRegressions.Input) {
        #expect(throws: TorchError.self, "\(input.name)") {
            try PthFile.describe(pickle: Data(input.bytes), name: input.name)
        }
    }
}
