import TorchNN

extension FuzzTarget {
    /// The whole `.pth` path on a file's bytes: zip directory, CRC checks, record sizes, the
    /// restricted unpickler and tensor rebuilding (`PthFile.load` reads a path, so the bytes go
    /// to a scratch file in memory first). Mutations inside a stored record mostly break its
    /// CRC-32, so each input is also fed with its records' CRCs repaired (see
    /// ``ChecksumRepair``); the unpickler proper is fuzzed faster by the `pickle` target.
    static let pth = FuzzTarget(name: "pth") { bytes in
        pthFile.store(bytes)
        _ = try? PthFile.load(pthFile.path)
        guard let repaired = ChecksumRepair.zip(bytes) else { return }
        repaired.withUnsafeBytes { pthFile.store($0) }
        _ = try? PthFile.load(pthFile.path)
    }
}

private let pthFile = ScratchFile("input.pth")
