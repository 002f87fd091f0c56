import Foundation
import TorchNN

extension FuzzTarget {
    /// The whole `.pth` path on a file's bytes in memory (`PthFile.load(data:name:)`): zip
    /// directory, limits, CRC checks, records, the restricted unpickler and tensor rebuilding.
    /// Mutations inside a stored record mostly break its CRC-32, so each input is also fed with
    /// its records' CRCs repaired (see ``ChecksumRepair``); the unpickler alone is fuzzed faster
    /// by the `pickle` target.
    static let pth = FuzzTarget(name: "pth") { bytes in
        _ = try? PthFile.load(data: Data(bytes), name: "fuzz")
        guard let repaired = ChecksumRepair.zip(bytes) else { return }
        _ = try? PthFile.load(data: Data(repaired), name: "fuzz")
    }
}
