/// Rewrites the CRC-32s of PNG chunks and of stored zip records so that they match their
/// data. A mutation inside a chunk or record almost always breaks its checksum, and the
/// decoders stop there (libpng and the `.pth` reader both check it); the PNG and `.pth`
/// targets feed each input as it is *and* repaired, so the fuzzer also gets past the checksum
/// to the code behind it.
enum ChecksumRepair {
    /// The bytes with every complete chunk's CRC recomputed, or nil if nothing changed (or
    /// the bytes are not a PNG).
    static func png(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var bytes = Array(input)
        guard bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50 else { return nil }
        var changed = false
        var pos = 8
        while pos + 12 <= bytes.count {
            let length = Int(readBE32(bytes, pos))
            let end = pos + 8 + length  // start of the CRC
            guard length <= bytes.count, end + 4 <= bytes.count else { break }
            let crc = CRC32.of(bytes[(pos + 4)..<end])
            if readBE32(bytes, end) != crc {
                for i in 0..<4 { bytes[end + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
                changed = true
            }
            pos = end + 4
        }
        return changed ? bytes : nil
    }

    /// The bytes with the CRC-32 of every stored (uncompressed) zip record recomputed, in its
    /// local header and in its central-directory entry, or nil if nothing changed.
    static func zip(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var bytes = Array(input)
        var crcByHeader: [Int: UInt32] = [:]
        var changed = false
        func set(_ value: UInt32, at offset: Int) {
            guard readLE32(bytes, offset) != value else { return }
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            changed = true
        }
        var pos = 0
        while pos + 46 <= bytes.count {
            let signature = readLE32(bytes, pos)
            if signature == 0x0403_4B50, readLE16(bytes, pos + 8) == 0 {  // local header, stored
                let size = Int(readLE32(bytes, pos + 18))
                let start = pos + 30 + Int(readLE16(bytes, pos + 26)) + Int(readLE16(bytes, pos + 28))
                if size != 0xFFFF_FFFF, start <= bytes.count, size <= bytes.count - start {
                    let crc = CRC32.of(bytes[start..<(start + size)])
                    set(crc, at: pos + 14)
                    crcByHeader[pos] = crc
                    pos = start + size
                    continue
                }
            } else if signature == 0x0201_4B50, let crc = crcByHeader[Int(readLE32(bytes, pos + 42))] {
                set(crc, at: pos + 16)  // central directory entry of a repaired record
            }
            pos += 1
        }
        return changed ? bytes : nil
    }

    private static func readBE32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    private static func readLE32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    private static func readLE16(_ b: [UInt8], _ i: Int) -> UInt16 {
        UInt16(b[i]) | UInt16(b[i + 1]) << 8
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): the checksum of PNG chunks and zip
/// records.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func of(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
