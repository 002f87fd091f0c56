import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The contents of a safetensors file: tensors in file order plus the header's
/// `__metadata__` string map.
public struct SafeTensorsArchive {
    /// Tensor names in the order the header lists them.
    public var names: [String]
    /// The tensors by name (CPU, contiguous).
    public var tensors: [String: Tensor]
    /// The `__metadata__` entries (empty if the file has none).
    public var metadata: [String: String]
}

/// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
///
/// Files are read memory-mapped and validated before any tensor is built; every malformed
/// file throws `TorchError.file` naming the problem. Writes go through ``AtomicFile``: a
/// reader (or a resumed run after a crash) sees the previous file or the new one, never part.
public enum SafeTensors {
    /// The largest header accepted (the reference implementation's limit).
    public static let maxHeaderSize = 100_000_000

    /// Reads all tensors of a file.
    public static func load(_ path: String) throws -> [String: Tensor] {
        try read(path).tensors
    }

    /// Reads all tensors and the metadata of a file.
    public static func read(_ path: String) throws -> SafeTensorsArchive {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TorchError.file(path: path, message: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TorchError.file(path: path, message: "cannot stat: \(errnoText())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw TorchError.file(path: path, message: "not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= 8 else {
            throw TorchError.file(path: path, message: "truncated: \(size) bytes, a safetensors file needs at least 8")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw TorchError.file(path: path, message: "cannot map: \(errnoText())")
        }
        defer { munmap(base, size) }
        return try decode(UnsafeRawBufferPointer(start: base, count: size), name: path)
    }

    /// Reads the tensors and metadata of a safetensors file held in memory; `name` stands for
    /// the file in error messages. The same validation as ``read(_:)`` runs first.
    public static func read(data: Data, name: String) throws -> SafeTensorsArchive {
        try data.withUnsafeBytes { try decode($0, name: name) }
    }

    /// Decodes a safetensors file held in memory (errors name it `<memory>`).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> SafeTensorsArchive {
        try decode(bytes, name: "<memory>")
    }

    /// Decodes `bytes`; every error becomes `TorchError.file` naming `name` and the problem.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws -> SafeTensorsArchive {
        do {
            return try decodeChecked(bytes)
        } catch let error as FormatError {
            throw TorchError.file(path: name, message: error.message)
        } catch let TorchError.libtorch(op, message) {
            throw TorchError.file(path: name, message: "\(op): \(message)")
        } catch let TorchError.invalidArgument(message) {
            throw TorchError.file(path: name, message: message)
        }
    }

    /// The largest rank accepted (no real tensor comes close).
    public static let maxRank = 64

    private static func decodeChecked(_ bytes: UnsafeRawBufferPointer) throws -> SafeTensorsArchive {
        guard bytes.count >= 8 else {
            throw FormatError("truncated: \(bytes.count) bytes, a safetensors file needs at least 8")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw FormatError("header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        guard headerLength <= UInt64(maxHeaderSize) else {
            throw FormatError("header length \(headerLength) exceeds the \(maxHeaderSize)-byte limit")
        }
        let headerEnd = 8 + Int(headerLength)
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<headerEnd]))
        } catch let error as HeaderJSON.ParseError {
            throw FormatError("header is not valid JSON: \(error.message) (header byte \(error.offset))")
        }
        guard case let .object(members) = json else { throw FormatError("header is not a JSON object") }

        let data = UnsafeRawBufferPointer(rebasing: bytes[headerEnd...])
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name, value, dataSize: data.count))
            }
        }
        try checkCoverage(entries, dataSize: data.count)

        var tensors: [String: Tensor] = [:]
        for e in entries {
            let slice = UnsafeRawBufferPointer(rebasing: data[e.begin..<e.end])
            tensors[e.name] = try Tensor(bytes: slice, shape: e.shape, dtype: e.dtype)
        }
        return SafeTensorsArchive(names: entries.map(\.name), tensors: tensors, metadata: metadata)
    }

    /// Writes tensors (sorted by name) and metadata to `path` atomically (``AtomicFile``).
    public static func save(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        try save(ordered: tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, to: path)
    }

    /// Writes tensors in the given order, and metadata, to `path` atomically (``AtomicFile``).
    public static func save(ordered tensors: [(String, Tensor)], metadata: [String: String] = [:],
                            to path: String) throws {
        try AtomicFile.write(try encode(ordered: tensors, metadata: metadata), to: path)
    }

    /// Encodes tensors and metadata as safetensors bytes. Tensors are copied to the CPU.
    public static func encode(ordered tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> [UInt8] {
        var seen = Set<String>()
        var header: [(key: String, value: HeaderJSON)] = []
        if !metadata.isEmpty {
            header.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var blobs: [[UInt8]] = []
        var offset = 0
        for (name, tensor) in tensors {
            guard name != "__metadata__" else { throw TorchError.invalidArgument("'__metadata__' is reserved") }
            guard seen.insert(name).inserted else {
                throw TorchError.invalidArgument("duplicate tensor name '\(name)'")
            }
            let blob = tensor.contiguousBytes()
            header.append((name, .object([
                ("dtype", .string(tensor.dtype.safetensorsName)),
                ("shape", .array(tensor.shape.map { .number(String($0)) })),
                ("data_offsets", .array([.number(String(offset)), .number(String(offset + blob.count))])),
            ])))
            offset += blob.count
            blobs.append(blob)
        }
        var headerBytes = Array(HeaderJSON.object(header).serialized().utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
        out += headerBytes
        for blob in blobs { out += blob }
        return out
    }

    // MARK: - Validation

    struct FormatError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    private static func parseMetadata(_ value: HeaderJSON) throws -> [String: String] {
        guard case let .object(items) = value else { throw FormatError("__metadata__ is not an object") }
        var out: [String: String] = [:]
        for (k, v) in items {
            guard case let .string(s) = v else { throw FormatError("__metadata__ value for '\(k)' is not a string") }
            out[k] = s
        }
        return out
    }

    private static func parseEntry(_ name: String, _ value: HeaderJSON, dataSize: Int) throws -> Entry {
        guard case let .object(fields) = value else { throw FormatError("tensor '\(name)': entry is not an object") }
        func field(_ key: String) throws -> HeaderJSON {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw FormatError("tensor '\(name)': missing '\(key)'")
            }
            return v
        }
        guard case let .string(dtypeName) = try field("dtype") else {
            throw FormatError("tensor '\(name)': dtype is not a string")
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw FormatError("tensor '\(name)': unknown or unsupported dtype '\(dtypeName)'")
        }
        guard case let .array(dims) = try field("shape") else {
            throw FormatError("tensor '\(name)': shape is not an array")
        }
        let shape: [Int] = try dims.map {
            guard case let .number(text) = $0, let d = Int(text), d >= 0 else {
                throw FormatError("tensor '\(name)': shape entries must be non-negative integers")
            }
            return d
        }
        guard case let .array(offsets) = try field("data_offsets"), offsets.count == 2,
              case let .number(b) = offsets[0], case let .number(e) = offsets[1],
              let begin = Int(b), let end = Int(e), begin >= 0, end >= 0 else {
            throw FormatError("tensor '\(name)': data_offsets must be two non-negative integers")
        }
        guard begin <= end, end <= dataSize else {
            throw FormatError("tensor '\(name)': data_offsets [\(begin), \(end)] out of range (data has \(dataSize) bytes)")
        }
        guard shape.count <= maxRank else {
            throw FormatError("tensor '\(name)': \(shape.count) dimensions, at most \(maxRank) are supported")
        }
        // Overflow-checked, counting the non-zero dimensions too: libtorch refuses a shape
        // like [0, 2^40, 2^40] although it has no elements.
        guard let need = TensorLayout.byteCount(shape, dtype: dtype) else {
            throw FormatError("tensor '\(name)': shape \(shape) × \(dtypeName) is too large (its size overflows)")
        }
        guard need == end - begin else {
            throw FormatError("tensor '\(name)': shape \(shape) × \(dtypeName) needs \(need) bytes "
                + "but data_offsets span \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The tensors' byte ranges must tile the data section exactly: no overlap, no gap.
    private static func checkCoverage(_ entries: [Entry], dataSize: Int) throws {
        var position = 0
        var previous: String?
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if e.begin < position {
                throw FormatError("tensors '\(previous ?? "")' and '\(e.name)' overlap (bytes \(e.begin)..<\(position))")
            }
            if e.begin > position {
                throw FormatError("data bytes \(position)..<\(e.begin) are not covered by any tensor")
            }
            position = e.end
            previous = e.name
        }
        if position != dataSize {
            throw FormatError("data bytes \(position)..<\(dataSize) are not covered by any tensor")
        }
    }
}

/// The text of the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
