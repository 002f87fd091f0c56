import Foundation
import TorchNN

extension FuzzTarget {
    /// The restricted unpickler on the bytes of a `data.pkl` record alone
    /// (`PthFile.describe(pickle:name:)`: allowed globals, limits, nesting, every tensor's layout
    /// checked against its declared storage, no storage read). What it describes must be a
    /// sane shape.
    static let pickle = FuzzTarget(name: "pickle") { bytes in
        guard let entries = try? PthFile.describe(pickle: Data(bytes), name: "fuzz") else { return }
        for entry in entries {
            invariant(entry.shape.allSatisfy { $0 >= 0 }, "'\(entry.key)': shape \(entry.shape)")
        }
    }
}
