import Foundation

/// Builds `.pth`-shaped files byte by byte, so tests can write the hostile ones PyTorch
/// never would: pickles that nest 100,000 levels deep, tensors whose strides ask for 64 GB,
/// zips whose records lie about their sizes or overlap.
enum PthTestFiles {
    /// A zip record.
    struct Record {
        var name: String
        var data: [UInt8]
        /// 0 stored, 8 deflate (`data` is then the compressed stream).
        var method: UInt16 = 0
        /// The uncompressed size written in the headers (default: `data.count`).
        var declaredSize: Int?
        /// The CRC-32 written (default: computed over `data`).
        var crc: UInt32?
        /// The compressed size written in the headers (default: `data.count`).
        var compressedSize: Int?
    }

    /// A zip archive of `records` (no comment); with `zip64`, its directory is located
    /// through a zip64 end record (the 32-bit fields all ones), as writers do past 65,535
    /// records or 4 GB.
    static func zip(_ records: [Record], zip64: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for r in records {
            let offset = out.count
            let name = Array(r.name.utf8)
            let crc = r.crc ?? crc32(r.data)
            let size = UInt32(truncatingIfNeeded: r.declaredSize ?? r.compressedSize ?? r.data.count)
            let compressed = UInt32(truncatingIfNeeded: r.compressedSize ?? r.data.count)
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(r.method) + le16(0) + le16(0) + le32(crc)
            out += le32(compressed) + le32(size) + le16(UInt16(name.count)) + le16(0) + name + r.data
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(r.method) + le16(0) + le16(0) + le32(crc)
            central += le32(compressed) + le32(size) + le16(UInt16(name.count)) + le16(0) + le16(0)
            central += le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + name
        }
        let directoryOffset = out.count
        out += central
        if zip64 {
            let record = out.count
            out += le32(0x0606_4B50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            out += le64(UInt64(records.count)) + le64(UInt64(records.count))
            out += le64(UInt64(central.count)) + le64(UInt64(directoryOffset))
            out += le32(0x0706_4B50) + le32(0) + le64(UInt64(record)) + le32(1)
            out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(0xFFFF) + le16(0xFFFF) + le32(0xFFFF_FFFF)
            out += le32(0xFFFF_FFFF) + le16(0)
            return out
        }
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(records.count)) + le16(UInt16(records.count))
        out += le32(UInt32(central.count)) + le32(UInt32(directoryOffset)) + le16(0)
        return out
    }

    /// The records of a `torch.save` file: `archive/data.pkl`, `archive/byteorder`, and one
    /// `archive/data/<key>` per storage.
    static func pth(pickle: [UInt8], storages: [(String, [UInt8])] = []) -> [UInt8] {
        zip([Record(name: "archive/data.pkl", data: pickle), Record(name: "archive/byteorder", data: Array("little".utf8))]
            + storages.map { Record(name: "archive/data/\($0.0)", data: $0.1) })
    }

    /// A deflate stream of one stored block holding `bytes` (what zlib writes for
    /// incompressible data): valid deflate whose output the test controls exactly.
    static func deflateStored(_ bytes: [UInt8]) -> [UInt8] {
        precondition(bytes.count <= 0xFFFF)
        let n = UInt16(bytes.count)
        return [0x01] + le16(n) + le16(~n) + bytes
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    /// CRC-32 (the zip polynomial), bit by bit: only for the small records tests write.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// Writes pickle opcodes (protocol 2, as `torch.save` does).
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ codes: UInt8...) { bytes += codes }
    mutating func mark() { op(0x28) }
    mutating func stop() { op(0x2E) }
    mutating func emptyDict() { op(0x7D) }
    mutating func emptyList() { op(0x5D) }
    mutating func emptyTuple() { op(0x29) }
    mutating func tuple() { op(0x74) }
    mutating func tuple1() { op(0x85) }
    mutating func append() { op(0x61) }
    mutating func setItem() { op(0x73) }
    mutating func reduce() { op(0x52) }
    mutating func put(_ key: UInt8) { op(0x71, key) }
    mutating func get(_ key: UInt8) { op(0x68, key) }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op(0x58)
        bytes += PthTestFiles.le32(UInt32(utf8.count)) + utf8
    }

    /// BININT when it fits, else LONG1 with 8 bytes.
    mutating func int(_ v: Int) {
        if let small = Int32(exactly: v) {
            op(0x4A)
            bytes += PthTestFiles.le32(UInt32(bitPattern: small))
        } else {
            op(0x8A, 8)
            bytes += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: Int64(v)) >> (8 * UInt64($0))) }
        }
    }

    mutating func global(_ module: String, _ name: String) {
        op(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func ints(_ values: [Int]) {
        mark()
        for v in values { int(v) }
        tuple()
    }

    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`
    /// over the storage `key` of `numel` elements of `storageType`.
    mutating func tensor(key: String, numel: Int, storageType: String = "FloatStorage", offset: Int = 0, size: [Int],
                         stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage")
        global("torch", storageType)
        string(key)
        string("cpu")
        int(numel)
        tuple()
        op(0x51)  // BINPERSID
        int(offset)
        ints(size)
        ints(stride)
        op(0x89)  // False
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tuple()
        reduce()
    }

    /// A pickle of `{name: tensor}` (see ``tensor(key:numel:storageType:offset:size:stride:)``).
    static func stateDict(_ name: String = "w", key: String = "0", numel: Int, offset: Int = 0, size: [Int],
                          stride: [Int]) -> [UInt8] {
        var p = PickleWriter()
        p.emptyDict()
        p.string(name)
        p.tensor(key: key, numel: numel, offset: offset, size: size, stride: stride)
        p.setItem()
        p.stop()
        return p.bytes
    }
}
