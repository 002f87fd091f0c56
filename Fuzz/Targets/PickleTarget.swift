@testable import TorchNN
import Torch

extension FuzzTarget {
    /// The restricted unpickler on the bytes of a `data.pkl` record, with storages made up on
    /// request (zeros of the asked element count, up to a bound, as `PthFile` would read them
    /// from their records), so that tensor rebuilding (sizes, strides, offsets) is reached.
    static let pickle = FuzzTarget(name: "pickle") { bytes in
        var storages: [String: Tensor] = [:]
        let unpickler = RestrictedUnpickler { dtype, key, numel in
            if let cached = storages[key] { return cached }
            guard numel <= maxStorageElements else { throw PickleError("storage \(key) of \(numel) elements is too large") }
            let t = Tensor.zeros([numel], dtype: dtype)
            storages[key] = t
            return t
        }
        _ = try? unpickler.load(Array(bytes))
    }
}

/// The largest storage the pickle target makes up (PthFile bounds storages by the file size).
private let maxStorageElements = 1 << 16
