import Foundation
import Torch

/// Reading PyTorch `.pth` files written by `torch.save(model.state_dict(), path)` (the zip
/// format of torch ≥ 1.6: `<name>/data.pkl` plus one `<name>/data/<key>` record per storage),
/// e.g. torchvision's published weights.
///
/// The pickle is read by HydraNet's own restricted unpickler (libtorch's `pickle_load`
/// turns `collections.OrderedDict` into None), with the rules of
/// `torch.load(weights_only=True)`: only tensors and plain containers; any other global is
/// refused with its name and nothing is executed.
///
/// A file from the internet cannot crash the process: the zip directory, the pickle and
/// every tensor's size, stride and offset are validated, and the totals checked against
/// ``Limits``, before any storage is read or any libtorch op runs. Truncated, corrupted or
/// hostile files throw `TorchError.file` naming the file and the problem.
public enum PthFile {
    /// The state dict in a `.pth` file. A top-level dict of tensors is returned as is; a
    /// checkpoint dict whose tensors sit under `state_dict` or `model` returns those.
    public static func load(_ path: String, limits: Limits = Limits()) throws -> StateDict {
        let bytes: [UInt8]
        switch RegularFile.read(path) {
        case let .success(b): bytes = b
        case .failure(.notFound): throw TorchError.file(path: path, message: "cannot open: No such file or directory")
        case .failure(.notRegular): throw TorchError.file(path: path, message: "not a regular file")
        case let .failure(.unreadable(reason)): throw TorchError.file(path: path, message: "cannot read: \(reason)")
        }
        return try load(data: Data(bytes), name: path, limits: limits)
    }

    /// The state dict in the bytes of a `.pth` file held in memory (as ``load(_:limits:)``);
    /// `name` stands for the file in error messages.
    public static func load(data: Data, name: String, limits: Limits = Limits()) throws -> StateDict {
        do {
            return try loadChecked(data, name: name, limits: limits)
        } catch let error as PthFormatError {
            throw TorchError.file(path: name, message: error.description)
        } catch let TorchError.file(_, message) {
            throw TorchError.file(path: name, message: message)
        } catch {
            throw TorchError.file(path: name, message: "\(error)")
        }
    }

    /// What a `data.pkl` pickle describes, without reading any storage: the state dict's
    /// keys with each tensor's dtype and shape, after the validation ``load(data:name:limits:)``
    /// runs on the pickle (allowed globals only, the limits, every layout inside its declared
    /// storage). For looking into a file's pickle alone, and for fuzzing the unpickler.
    public static func describe(pickle: Data, name: String, limits: Limits = Limits()) throws
        -> [(key: String, dtype: DType, shape: [Int])] {
        do {
            guard pickle.count <= limits.maxPickleBytes else {
                throw PthFormatError("the pickle has \(pickle.count) bytes, more than the \(limits.maxPickleBytes) allowed")
            }
            var unpickler = RestrictedUnpickler(limits: limits)
            let root = try pickle.withUnsafeBytes { try unpickler.load($0) }
            return try stateDictEntries(root, maxDepth: limits.maxNestingDepth).map { ($0.0, $0.1.storage.dtype, $0.1.size) }
        } catch let error as PthFormatError {
            throw TorchError.file(path: name, message: error.description)
        }
    }

    private static func loadChecked(_ data: Data, name: String, limits: Limits) throws -> StateDict {
        let magic = Array(data.prefix(4))
        guard magic.count == 4 else { throw PthFormatError("truncated: \(data.count) bytes") }
        guard magic == [0x50, 0x4B, 0x03, 0x04] else {
            if magic.first == 0x80 {
                throw PthFormatError("legacy (pre-1.6) PyTorch format is not supported: "
                    + "re-save it with a current torch: torch.save(torch.load(f), f, _use_new_zipfile_serialization=True), "
                    + "or convert it to safetensors")
            }
            throw PthFormatError("not a PyTorch .pth file (no zip signature)")
        }
        let archive = try PthZip(data, maxEntries: limits.maxEntries)
        guard let pickleEntry = archive.entries.first(where: { $0.name.hasSuffix("data.pkl") }) else {
            throw PthFormatError("no data.pkl record: not a torch.save file")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        var budget = ReadBudget(inputBytes: data.count, limits: limits)

        if let order = archive[prefix + "byteorder"] {
            try budget.charge(order, storage: false)
            let text = try archive.read(order, limit: 16)
            guard String(decoding: text, as: UTF8.self) == "little" else {
                throw PthFormatError("big-endian tensors are not supported")
            }
        }
        try budget.charge(pickleEntry, storage: false)
        let pickle = try archive.read(pickleEntry, limit: limits.maxPickleBytes)
        var unpickler = RestrictedUnpickler(limits: limits)
        let root = try pickle.withUnsafeBytes { try unpickler.load($0) }
        let selected = try stateDictEntries(root, maxDepth: limits.maxNestingDepth)

        // Everything is known now: check the storages' records and the totals, then build.
        var storages: [String: (PthStorage, PthZip.Entry)] = [:]
        var tensorBytes = 0
        for (key, tensor) in selected {
            let s = tensor.storage
            if storages[s.key] == nil {
                guard let entry = archive[prefix + "data/" + s.key] else {
                    throw PthFormatError("record '\(prefix)data/\(s.key)' is missing")
                }
                guard entry.uncompressedSize == s.byteCount else {
                    throw PthFormatError("storage '\(s.key)' has \(entry.uncompressedSize) bytes, expected \(s.byteCount) "
                        + "(\(s.count) × \(s.dtype))")
                }
                try budget.charge(entry, storage: true)
                storages[s.key] = (s, entry)
            }
            tensorBytes = try budget.add(tensorBytes, tensor.byteCount) {
                "tensor '\(key)' (size \(tensor.size), \(tensor.byteCount) bytes)"
            }
        }
        try budget.checkTensors(tensorBytes)

        var storageBytes: [String: Data] = [:]
        var storageTensors: [String: Tensor] = [:]
        var result = StateDict()
        for (key, tensor) in selected {
            let s = tensor.storage
            let bytes: Data
            if let known = storageBytes[s.key] {
                bytes = known
            } else {
                bytes = try archive.read(storages[s.key]!.1, limit: s.byteCount)
                storageBytes[s.key] = bytes
            }
            result[key] = try tensor.build(storageBytes: bytes) {
                if let t = storageTensors[s.key] { return t }
                let t = try bytes.withUnsafeBytes { try Tensor(bytes: $0, shape: [s.count], dtype: s.dtype) }
                storageTensors[s.key] = t
                return t
            }
        }
        return result
    }

    /// The (key, tensor) pairs of the state dict: the string-keyed tensors of the top-level
    /// dict, or, if it has none, of its `state_dict` or `model` entry (followed down).
    private static func stateDictEntries(_ root: PickleValue, maxDepth: Int) throws -> [(String, PthTensor)] {
        var value = root
        for _ in 0...max(0, maxDepth) {
            guard case let .dict(d) = value else {
                throw PthFormatError("the file holds a \(value.typeName), not a state dict")
            }
            var entries: [(String, PthTensor)] = []
            var seen = Set<String>()
            for (k, v) in d.items {
                if case let .string(key) = k, case let .tensor(t) = v {
                    if seen.insert(key).inserted {
                        entries.append((key, t))
                    } else if let i = entries.firstIndex(where: { $0.0 == key }) {
                        entries[i].1 = t  // a later duplicate key replaces the earlier value, as in Python
                    }
                }
            }
            if !entries.isEmpty { return entries }
            guard let nested = d.items.first(where: {
                if case let .string(key) = $0.0 { key == "state_dict" || key == "model" } else { false }
            }) else {
                throw PthFormatError("no tensors found in the file")
            }
            value = nested.1
        }
        throw PthFormatError("no tensors found in the file")
    }
}

/// The bytes a load may read and allocate (see ``PthFile/Limits``).
struct ReadBudget {
    let limits: PthFile.Limits
    /// Uncompressed bytes the records read may declare in all.
    let declaredLimit: Int
    private(set) var declared = 0
    /// Bytes of the storages to read.
    private(set) var storageBytes = 0

    init(inputBytes: Int, limits: PthFile.Limits) {
        self.limits = limits
        let (ratio, overflow) = inputBytes.multipliedReportingOverflow(by: max(1, limits.maxCompressionRatio))
        declaredLimit = max(overflow ? Int.max : ratio, 64 << 20)
    }

    /// Counts a record about to be read (a storage, or the pickle and small records).
    mutating func charge(_ entry: PthZip.Entry, storage: Bool) throws {
        declared = try add(declared, entry.uncompressedSize) { "record '\(entry.name)'" }
        guard declared <= declaredLimit else {
            throw PthFormatError("the records declare \(declared) uncompressed bytes, more than "
                + "\(limits.maxCompressionRatio)× the file's size (a zip bomb?)")
        }
        if storage { storageBytes = try add(storageBytes, entry.uncompressedSize) { "storage '\(entry.name)'" } }
    }

    /// `a + b`, refusing a total past `maxTotalBytes`; `what` names what `b` is.
    func add(_ a: Int, _ b: Int, _ what: () -> String) throws -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow, sum <= limits.maxTotalBytes else {
            throw PthFormatError("\(what()) brings the memory the file needs past the \(limits.maxTotalBytes) bytes "
                + "allowed")
        }
        return sum
    }

    /// The returned tensors may repeat their storages' elements only so much (views with
    /// zero or overlapping strides), and with the storages must fit in `maxTotalBytes`.
    func checkTensors(_ tensorBytes: Int) throws {
        let (scaled, o1) = storageBytes.multipliedReportingOverflow(by: max(1, limits.maxExpansion))
        let (allowed, o2) = scaled.addingReportingOverflow(limits.expansionAllowance)
        guard o1 || o2 || tensorBytes <= allowed else {
            throw PthFormatError("the tensors would take \(tensorBytes) bytes from storages of \(storageBytes) bytes: "
                + "their sizes and strides repeat elements more than the \(limits.maxExpansion)× allowed")
        }
        _ = try add(storageBytes, tensorBytes) { "the tensors (\(tensorBytes) bytes)" }
    }
}
