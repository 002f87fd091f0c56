import Foundation
import ZIPFoundation

/// The zip container of a `.pth` file, held in memory (a mapped file or a caller's bytes)
/// and read by HydraNet itself so that every offset and size is checked before it is used.
///
/// Validated up front: the end-of-central-directory record is looked for only where the
/// format allows it (the last 65,557 bytes), so a truncated file is refused at once instead
/// of after a byte-by-byte scan of the whole file; zip64 records; the entry count; every
/// central-directory entry and local header lies inside the file; names are unique; and no
/// two records overlap (the trick of the "non-recursive" zip bombs). When a record is read,
/// its declared size must be possible for its compression method, the bytes produced may
/// not exceed the declared size, and the CRC-32 must match.
///
/// Stored records (what `torch.save` writes) are sliced from memory without copying;
/// deflated records are inflated with ZIPFoundation's zlib binding.
struct PthZip {
    /// One record of the archive.
    struct Entry {
        var name: String
        var flags: Int
        var method: Int
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        var headerOffset: Int
        /// Where the record's bytes begin (after its local header).
        var dataOffset = 0
    }

    /// Deflate cannot expand input more than about 1032:1; a larger declared size is a lie.
    static let maxDeflateRatio = 1032
    /// The fixed sizes of the zip structures.
    static let eocdSize = 22, zip64LocatorSize = 20, zip64RecordSize = 56, centralSize = 46, localSize = 30
    /// A zip comment is at most this long, so the end record lies in the last 65,557 bytes.
    static let maxCommentLength = 65_535
    /// Inflate chunk size.
    static let chunkSize = 1 << 16

    let data: Data
    /// Records in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    /// Parses and validates the archive's directory (no record is decompressed).
    init(_ data: Data, maxEntries: Int) throws {
        self.data = data
        var entries: [Entry] = []
        try data.withUnsafeBytes { raw in
            entries = try Self.parseDirectory(LittleEndianBytes(raw: raw), maxEntries: maxEntries)
        }
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            guard index.updateValue(i, forKey: e.name) == nil else {
                throw PthFormatError("the zip archive has two records named '\(e.name)'")
            }
        }
        self.entries = entries
        self.index = index
    }

    /// The record named `name`, if any.
    subscript(name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The bytes of `entry`, at most `limit` of them, checked against the CRC-32.
    func read(_ entry: Entry, limit: Int) throws -> Data {
        guard entry.flags & 0x41 == 0 else { throw PthFormatError("record '\(entry.name)' is encrypted") }
        guard entry.uncompressedSize <= limit else {
            throw PthFormatError("record '\(entry.name)' declares \(entry.uncompressedSize) bytes, more than the "
                + "\(limit) allowed")
        }
        let start = data.startIndex + entry.dataOffset
        let output: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw PthFormatError("stored record '\(entry.name)' declares \(entry.compressedSize) bytes in the file "
                    + "but \(entry.uncompressedSize) uncompressed")
            }
            output = data[start..<start + entry.compressedSize]
        case 8:
            output = try inflate(entry, from: start)
        default:
            throw PthFormatError("record '\(entry.name)' uses compression method \(entry.method) (only stored and "
                + "deflate are supported)")
        }
        guard output.crc32(checksum: 0) == entry.crc else {
            throw PthFormatError("record '\(entry.name)' is corrupted (CRC-32 mismatch)")
        }
        return output
    }

    /// Inflates a deflated record. The produced bytes are capped at the declared size, and
    /// the input is fed in full chunks (padded with zeros past the record, which zlib
    /// rejects or the cap stops), so a corrupt stream can neither run on nor over-read.
    private func inflate(_ entry: Entry, from start: Int) throws -> Data {
        let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: Self.maxDeflateRatio)
        guard overflow || entry.uncompressedSize <= bound else {
            throw PthFormatError("record '\(entry.name)' declares \(entry.uncompressedSize) bytes from "
                + "\(entry.compressedSize) compressed: more than deflate can produce (a zip bomb?)")
        }
        let compressed = entry.compressedSize, declared = entry.uncompressedSize, name = entry.name
        let chunk = Self.chunkSize
        var output = Data()
        output.reserveCapacity(declared)
        do {
            _ = try Data.decompress(size: Int64(compressed), bufferSize: chunk, skipCRC32: true, provider: { position, size in
                let p = Int(position)
                guard p >= 0, p <= compressed + 2 * chunk, size == chunk else {
                    throw PthFormatError("record '\(name)': the deflate stream does not end")
                }
                var piece = Data(count: size)
                if p < compressed {
                    let n = min(size, compressed - p)
                    piece.replaceSubrange(0..<n, with: data[(start + p)..<(start + p + n)])
                }
                return piece
            }, consumer: { produced in
                guard produced.count <= declared - output.count else {
                    throw PthFormatError("record '\(name)' inflates to more than the \(declared) bytes it declares")
                }
                output.append(produced)
            })
        } catch let error as PthFormatError {
            throw error
        } catch {
            throw PthFormatError("record '\(name)' is corrupted (invalid deflate data)")
        }
        guard output.count == declared else {
            throw PthFormatError("record '\(name)' inflates to \(output.count) bytes, but declares \(declared)")
        }
        return output
    }

    // MARK: - Directory

    private static func parseDirectory(_ b: LittleEndianBytes, maxEntries: Int) throws -> [Entry] {
        let size = b.count
        guard let eocd = findEndRecord(b) else {
            throw PthFormatError("not a complete zip archive: no end-of-central-directory record in the last "
                + "\(min(size, eocdSize + maxCommentLength)) bytes (truncated?)")
        }
        var disk = b.u16(eocd + 4), directoryDisk = b.u16(eocd + 6)
        var count = b.u16(eocd + 10)
        var directorySize = b.u32(eocd + 12), directoryOffset = b.u32(eocd + 16)
        var directoryLimit = eocd
        let locator = eocd - zip64LocatorSize
        if locator >= 0, b.u32(locator) == 0x0706_4B50 {
            let record = b.u64(locator + 8)
            guard record >= 0, record <= locator - zip64RecordSize, b.u32(record) == 0x0606_4B50 else {
                throw PthFormatError("the zip64 end-of-central-directory record is missing or out of range")
            }
            disk = b.u32(record + 16)
            directoryDisk = b.u32(record + 20)
            count = b.u64(record + 32)
            directorySize = b.u64(record + 40)
            directoryOffset = b.u64(record + 48)
            directoryLimit = record
        }
        guard disk == 0, directoryDisk == 0 else { throw PthFormatError("multi-part zip archives are not supported") }
        guard count >= 0, count <= maxEntries else {
            throw PthFormatError("the zip archive declares \(count) records, more than the \(maxEntries) allowed")
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= directoryLimit,
              directorySize <= directoryLimit - directoryOffset else {
            throw PthFormatError("the zip central directory (\(directorySize) bytes at \(directoryOffset)) lies outside "
                + "the file (truncated?)")
        }
        guard count <= directorySize / centralSize else {
            throw PthFormatError("the zip central directory is too small for its \(count) records")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var pos = directoryOffset
        let end = directoryOffset + directorySize
        for i in 0..<count {
            guard end - pos >= centralSize, b.u32(pos) == 0x0201_4B50 else {
                throw PthFormatError("zip central directory entry \(i) is malformed")
            }
            let nameLength = b.u16(pos + 28), extraLength = b.u16(pos + 30), commentLength = b.u16(pos + 32)
            guard end - pos - centralSize >= nameLength + extraLength + commentLength else {
                throw PthFormatError("zip central directory entry \(i) runs past the directory")
            }
            let nameStart = pos + centralSize
            var entry = Entry(name: String(decoding: b.raw[nameStart..<nameStart + nameLength], as: UTF8.self),
                              flags: b.u16(pos + 8), method: b.u16(pos + 10), crc: UInt32(b.u32(pos + 16)),
                              compressedSize: b.u32(pos + 20), uncompressedSize: b.u32(pos + 24),
                              headerOffset: b.u32(pos + 42))
            var entryDisk = b.u16(pos + 34)
            try readZip64Extra(b, from: nameStart + nameLength, length: extraLength, entry: &entry, disk: &entryDisk)
            guard entryDisk == 0 else { throw PthFormatError("multi-part zip archives are not supported") }
            try locateData(b, &entry, before: directoryOffset, nameAt: nameStart, nameLength: nameLength)
            entries.append(entry)
            pos = nameStart + nameLength + extraLength + commentLength
        }
        try checkNoOverlap(entries)
        return entries
    }

    /// The offset of the end-of-central-directory record: the last signature, within the
    /// comment-length window, whose comment fits in the file.
    private static func findEndRecord(_ b: LittleEndianBytes) -> Int? {
        guard b.count >= eocdSize else { return nil }
        let lowest = max(0, b.count - eocdSize - maxCommentLength)
        var p = b.count - eocdSize
        while p >= lowest {
            if b.raw[p] == 0x50, b.raw[p + 1] == 0x4B, b.raw[p + 2] == 0x05, b.raw[p + 3] == 0x06,
               b.u16(p + 20) <= b.count - p - eocdSize {
                return p
            }
            p -= 1
        }
        return nil
    }

    /// Applies a zip64 extended-information extra field (id 1): 64-bit values for the fields
    /// whose 32-bit (16-bit for the disk) value is all ones, in the order the format gives.
    private static func readZip64Extra(_ b: LittleEndianBytes, from start: Int, length: Int, entry: inout Entry,
                                       disk: inout Int) throws {
        var p = start
        let end = start + length
        while end - p >= 4 {
            let id = b.u16(p), size = b.u16(p + 2)
            guard end - p - 4 >= size else { throw PthFormatError("record '\(entry.name)': malformed zip extra field") }
            if id == 1 {
                var q = p + 4
                func next() throws -> Int {
                    guard p + 4 + size - q >= 8 else {
                        throw PthFormatError("record '\(entry.name)': zip64 extra field too short")
                    }
                    defer { q += 8 }
                    let v = b.u64(q)
                    guard v >= 0 else { throw PthFormatError("record '\(entry.name)': zip64 size out of range") }
                    return v
                }
                if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = try next() }
                if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next() }
                if entry.headerOffset == 0xFFFF_FFFF { entry.headerOffset = try next() }
                if disk == 0xFFFF, p + 4 + size - q >= 4 { disk = b.u32(q) }
            }
            p += 4 + size
        }
    }

    /// Checks the local header and sets where the record's bytes are; they must end before
    /// the central directory.
    private static func locateData(_ b: LittleEndianBytes, _ entry: inout Entry, before limit: Int, nameAt: Int,
                                   nameLength: Int) throws {
        let h = entry.headerOffset
        guard h >= 0, h <= limit - localSize, b.u32(h) == 0x0403_4B50 else {
            throw PthFormatError("record '\(entry.name)': no local header at offset \(h) (truncated or corrupted?)")
        }
        let localNameLength = b.u16(h + 26), localExtraLength = b.u16(h + 28)
        let dataOffset = h + localSize + localNameLength + localExtraLength
        guard dataOffset <= limit, entry.compressedSize <= limit - dataOffset else {
            throw PthFormatError("record '\(entry.name)' (\(entry.compressedSize) bytes at \(dataOffset)) runs past the "
                + "end of the data (truncated?)")
        }
        guard localNameLength == nameLength,
              b.raw[(h + localSize)..<(h + localSize + nameLength)].elementsEqual(b.raw[nameAt..<nameAt + nameLength]) else {
            throw PthFormatError("record '\(entry.name)': the names in its local header and the central directory differ")
        }
        guard b.u16(h + 8) == entry.method else {
            throw PthFormatError("record '\(entry.name)': the compression methods in its local header and the central "
                + "directory differ")
        }
        entry.dataOffset = dataOffset
    }

    /// Records must not share bytes: overlapping records let a tiny file expand many times.
    private static func checkNoOverlap(_ entries: [Entry]) throws {
        let sorted = entries.sorted { $0.headerOffset < $1.headerOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.headerOffset < a.dataOffset + a.compressedSize {
            throw PthFormatError("records '\(a.name)' and '\(b.name)' overlap in the zip archive")
        }
    }
}

/// Bounds-trusting little-endian reads; callers check offsets first.
struct LittleEndianBytes {
    let raw: UnsafeRawBufferPointer
    var count: Int { raw.count }
    func u16(_ at: Int) -> Int { Int(raw[at]) | Int(raw[at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    /// A 64-bit value as Int; negative when it does not fit (callers refuse those).
    func u64(_ at: Int) -> Int { Int(truncatingIfNeeded: UInt64(u32(at)) | UInt64(u32(at + 4)) << 32) }
}
