import Foundation

/// How `hydranet serve` listens, batches and limits requests.
public struct ServeConfiguration: Sendable, Equatable {
    public var host: String
    /// 0: any free port (the bound one is reported by ``HydraServer/run(onListening:)``).
    public var port: Int
    /// Images per forward pass at most (1 turns dynamic batching off).
    public var maxBatch: Int
    /// How long the inference thread waits for a batch to fill once one image is queued.
    public var maxDelayMilliseconds: Double
    /// Request bodies larger than this are refused with 413.
    public var maxBodyBytes: Int
    /// Images with more pixels than this (read from the header, before decoding) get 422.
    public var maxPixels: Int
    /// Images in one multipart request at most.
    public var maxImagesPerRequest: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBatch: Int = 32, maxDelayMilliseconds: Double = 5,
                maxBodyBytes: Int = 10 * 1_000_000, maxPixels: Int = 40_000_000, maxImagesPerRequest: Int = 64) {
        self.host = host
        self.port = port
        self.maxBatch = maxBatch
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.maxBodyBytes = maxBodyBytes
        self.maxPixels = maxPixels
        self.maxImagesPerRequest = maxImagesPerRequest
    }

    /// Checks every value is usable, naming the first that is not.
    public func validate() throws {
        func fail(_ m: String) -> ServeError { ServeError.configuration(m) }
        guard (0...65535).contains(port) else { throw fail("port \(port) is outside 0…65535") }
        guard (1...4096).contains(maxBatch) else { throw fail("max batch \(maxBatch) must be 1…4096") }
        guard maxDelayMilliseconds.isFinite, (0...10_000).contains(maxDelayMilliseconds) else {
            throw fail("max delay \(maxDelayMilliseconds) ms must be 0…10000")
        }
        guard maxBodyBytes > 0 else { throw fail("max body must be positive") }
        guard maxPixels > 0 else { throw fail("max pixels must be positive") }
        guard maxImagesPerRequest > 0 else { throw fail("max images per request must be positive") }
    }

    /// Parses a byte size: `10MB`, `512KB`, `1.5MiB`, `2000000` (decimal MB/KB/GB; MiB/KiB/GiB binary).
    public static func parseByteSize(_ text: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        let unit = t.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers: [String: Double] = ["": 1, "b": 1, "kb": 1e3, "k": 1e3, "mb": 1e6, "m": 1e6, "gb": 1e9, "g": 1e9,
                                             "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824]
        guard let value = Double(digits), let multiplier = multipliers[unit], value * multiplier >= 1,
              value * multiplier < 1e12 else {
            throw ServeError.configuration("'\(text)' is not a byte size (e.g. 10MB, 512KB, 1MiB, 2000000)")
        }
        return Int(value * multiplier)
    }
}

/// Why the server refused something.
public enum ServeError: Error, CustomStringConvertible, Sendable {
    case configuration(String)

    public var description: String {
        switch self {
        case let .configuration(m): m
        }
    }
}
