import Testing
import Torch
@testable import TorchNN

/// Every input that crashed the `pth` or `pickle` fuzz target (Fuzz/regressions/pth,
/// Fuzz/regressions/pickle) is refused with an error instead, fed as the target feeds it.
@Suite("Fuzz regressions: .pth files and pickles")
struct PthFuzzRegressionTests {
    @Test(".pth inputs that crashed the loader throw", arguments: FuzzRegressions.inputs("pth"))
    func pth(_ input: FuzzRegressions.Input) {
        #expect(throws: TorchError.self, "\(input.name)") { try PthFile.load(input.path) }
    }

    /// As Fuzz/Targets/PickleTarget.swift: storages are zeros of the asked size, up to 2^16
    /// elements.
    @Test("pickles that crashed the unpickler throw", arguments: FuzzRegressions.inputs("pickle"))
    func pickle(_ input: FuzzRegressions.Input) {
        var storages: [String: Tensor] = [:]
        let unpickler = RestrictedUnpickler { dtype, key, numel in
            if let cached = storages[key] { return cached }
            guard numel <= 1 << 16 else { throw PickleError("storage \(key) of \(numel) elements is too large") }
            let t = Tensor.zeros([numel], dtype: dtype)
            storages[key] = t
            return t
        }
        #expect(throws: PickleError.self, "\(input.name)") { try unpickler.load(input.bytes) }
    }
}
