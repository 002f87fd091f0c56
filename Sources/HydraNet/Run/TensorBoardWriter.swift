import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes TensorBoard event files (what PyTorch's `SummaryWriter` writes), so that
/// `tensorboard --logdir runs` shows a run's curves.
///
/// A file `events.out.tfevents.<seconds>.<host>.<pid>.<n>` in the log folder holds TFRecord
/// records (little-endian `uint64` length, masked CRC-32C of the length, the data, masked
/// CRC-32C of the data), each a serialized `tensorflow.Event`: the first holds
/// `file_version: "brain.Event:2"`, every other one a `Summary` of scalar values
/// (`simple_value`, float32). The few protobuf fields needed are encoded by hand
/// (``TensorBoardEvent``), so no protobuf library is needed.
///
/// Every ``add(_:step:wallTime:)`` call appends one record and flushes it to the file, so a
/// running job can be watched; a torn last record (a crash mid-write) is ignored by
/// TensorBoard's reader.
public final class TensorBoardWriter {
    /// The event file.
    public let path: String
    private let handle: FileHandle
    private static let counter = Counter()

    /// Opens a new event file in `directory` (created).
    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HydraError.invalidConfiguration("cannot create the TensorBoard folder \(directory): \(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid()).\(Self.counter.next())"
        path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw HydraError.invalidConfiguration("cannot create the TensorBoard event file \(path)")
        }
        self.handle = handle
        try write(TensorBoardEvent.fileVersion(wallTime: Date().timeIntervalSince1970))
    }

    deinit { try? handle.close() }

    /// Appends one event of scalars (`tag` → value, written as float32) at `step`.
    public func add(_ scalars: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        guard !scalars.isEmpty else { return }
        try write(TensorBoardEvent.scalars(scalars.map { ($0.tag, Float($0.value)) }, step: Int64(step), wallTime: wallTime))
    }

    private func write(_ event: [UInt8]) throws {
        do {
            try handle.write(contentsOf: TFRecord.frame(event))
        } catch {
            throw HydraError.invalidConfiguration("cannot write the TensorBoard event file \(path): \(error.localizedDescription)")
        }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

/// TFRecord framing: `uint64 length`, `uint32 masked_crc32c(length)`, data, `uint32 masked_crc32c(data)`.
public enum TFRecord {
    public static func frame(_ data: [UInt8]) -> Data {
        var out = Data(capacity: data.count + 16)
        let length = littleEndian(UInt64(data.count))
        out.append(contentsOf: length)
        out.append(contentsOf: littleEndian(CRC32C.masked(length)))
        out.append(contentsOf: data)
        out.append(contentsOf: littleEndian(CRC32C.masked(data)))
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses it.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC: `((crc >> 15) | (crc << 17)) + 0xa282ead8` (mod 2³²).
    public static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// The few fields of `tensorflow.Event` and `Summary` a scalar log needs, in protobuf wire
/// format: Event.wall_time = 1 (double), step = 2 (int64), file_version = 3 (string),
/// summary = 5 (message); Summary.value = 1 (repeated message); Summary.Value.tag = 1
/// (string), simple_value = 2 (float).
public enum TensorBoardEvent {
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var e = Protobuf()
        e.double(1, wallTime)
        e.bytes(3, Array("brain.Event:2".utf8))
        return e.bytes
    }

    public static func scalars(_ values: [(tag: String, value: Float)], step: Int64, wallTime: Double) -> [UInt8] {
        var summary = Protobuf()
        for (tag, value) in values {
            var v = Protobuf()
            v.bytes(1, Array(tag.utf8))
            v.float(2, value)
            summary.bytes(1, v.bytes)
        }
        var e = Protobuf()
        e.double(1, wallTime)
        e.varint(2, UInt64(bitPattern: step))
        e.bytes(5, summary.bytes)
        return e.bytes
    }

    /// A protobuf message being encoded.
    struct Protobuf {
        var bytes: [UInt8] = []

        mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }
        mutating func rawVarint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }
        mutating func varint(_ field: Int, _ value: UInt64) {
            key(field, 0)
            rawVarint(value)
        }
        mutating func double(_ field: Int, _ value: Double) {
            key(field, 1)
            bytes += TFRecord.littleEndian(value.bitPattern)
        }
        mutating func float(_ field: Int, _ value: Float) {
            key(field, 5)
            bytes += TFRecord.littleEndian(value.bitPattern)
        }
        mutating func bytes(_ field: Int, _ value: [UInt8]) {
            key(field, 2)
            rawVarint(UInt64(value.count))
            bytes += value
        }
    }
}
