import Foundation
import Torch
import ZIPFoundation

/// Reading PyTorch `.pth` files written by `torch.save(model.state_dict(), path)` (the zip
/// format of torch ≥ 1.6: `<name>/data.pkl` plus one `<name>/data/<key>` record per storage),
/// e.g. torchvision's published weights.
///
/// The pickle is read by HydraNet's own restricted unpickler (libtorch's `pickle_load`
/// turns `collections.OrderedDict` into None), with the rules of
/// `torch.load(weights_only=True)`: only tensors and plain containers; any other global is
/// refused with its name and nothing is executed. Truncated or corrupted files throw.
public enum PthFile {
    /// The state dict in a `.pth` file. A top-level dict of tensors is returned as is; a
    /// checkpoint dict whose tensors sit under `state_dict` or `model` returns those.
    public static func load(_ path: String) throws -> StateDict {
        do {
            return try loadChecked(path)
        } catch let error as PickleError {
            throw TorchError.file(path: path, message: error.description)
        } catch let error as TorchError {
            throw error
        } catch {
            throw TorchError.file(path: path, message: "not a readable PyTorch zip file (\(error))")
        }
    }

    private static func loadChecked(_ path: String) throws -> StateDict {
        let url = URL(fileURLWithPath: path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TorchError.file(path: path, message: "cannot open")
        }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        try? handle.close()
        if magic.count < 4 {
            throw TorchError.file(path: path, message: "truncated: \(magic.count) bytes")
        }
        if Array(magic) != [0x50, 0x4B, 0x03, 0x04] {
            if magic.first == 0x80 {
                throw TorchError.file(path: path, message: "legacy (pre-1.6) PyTorch format is not supported: "
                    + "re-save it with a current torch: torch.save(torch.load(f), f, _use_new_zipfile_serialization=True), "
                    + "or convert it to safetensors")
            }
            throw TorchError.file(path: path, message: "not a PyTorch .pth file (no zip signature)")
        }
        let archive = try Archive(url: url, accessMode: .read)
        guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") && $0.type == .file }) else {
            throw TorchError.file(path: path, message: "no data.pkl record: not a torch.save file")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))

        func record(_ name: String, limit: Int) throws -> [UInt8] {
            guard let entry = archive[prefix + name] else {
                throw PickleError("record '\(prefix + name)' is missing")
            }
            guard entry.uncompressedSize <= UInt64(limit) else {
                throw PickleError("record '\(prefix + name)' is larger than expected")
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(entry.uncompressedSize))
            // ZIPFoundation computes the CRC-32 but leaves checking it to the caller.
            let crc = try archive.extract(entry, skipCRC32: false) { bytes.append(contentsOf: $0) }
            guard crc == entry.checksum else {
                throw PickleError("record '\(prefix + name)' is corrupted (CRC-32 mismatch)")
            }
            return bytes
        }

        if let order = archive[prefix + "byteorder"] {
            var text = Data()
            let crc = try archive.extract(order) { text.append($0) }
            guard crc == order.checksum else { throw PickleError("record 'byteorder' is corrupted (CRC-32 mismatch)") }
            guard String(decoding: text, as: UTF8.self) == "little" else {
                throw TorchError.file(path: path, message: "big-endian tensors are not supported")
            }
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? Int.max
        var storages: [String: Tensor] = [:]
        let unpickler = RestrictedUnpickler { dtype, key, numel in
            if let cached = storages[key] { return cached }
            let (need, overflow) = numel.multipliedReportingOverflow(by: dtype.itemSize)
            guard !overflow, need <= fileSize else { throw PickleError("storage \(key) of \(numel) elements is too large") }
            let bytes = try record("data/\(key)", limit: need)
            guard bytes.count == need else {
                throw PickleError("storage \(key) has \(bytes.count) bytes, expected \(need) (\(numel) × \(dtype))")
            }
            let t = try bytes.withUnsafeBytes { try Tensor(bytes: $0, shape: [numel], dtype: dtype) }
            storages[key] = t
            return t
        }
        let pickle = try record("data.pkl", limit: fileSize)
        let root = try unpickler.load(pickle)
        return try stateDict(from: root, path: path)
    }

    private static func stateDict(from root: PickleValue, path: String) throws -> StateDict {
        guard case let .dict(d) = root else {
            throw TorchError.file(path: path, message: "the file holds a \(root.typeName), not a state dict")
        }
        var result = StateDict()
        for (k, v) in d.items {
            if case let .string(key) = k, case let .tensor(t) = v { result[key] = t }
        }
        if result.count == 0 {
            for (k, v) in d.items {
                if case let .string(key) = k, key == "state_dict" || key == "model" {
                    return try stateDict(from: v, path: path)
                }
            }
            throw TorchError.file(path: path, message: "no tensors found in the file")
        }
        return result
    }
}
