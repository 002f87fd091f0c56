import Foundation
import HydraNet
import Testing
import TestSupport

/// A run's output folder, read the way a user (or a resumed run) reads it: every file parsed
/// completely, so a partial or malformed file throws.
public struct RunFiles {
    public let folder: String
    public init(_ folder: String) { self.folder = folder }

    public func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// A JSON file, parsed.
    public func json(_ name: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// A JSON file decoded as `T` (numbers exact: `JSONSerialization` reads them as
    /// `NSDecimalNumber`, whose `doubleValue` can be one ulp off).
    public func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// `report.json`, as an object.
    public func report() throws -> [String: Any] {
        try #require(try json("report.json") as? [String: Any], "report.json is not an object")
    }

    /// The epoch reports of `report.json`.
    public func epochReports() throws -> [EpochReport] {
        let epochs = try #require(try report()["epochs"], "report.json has no epochs")
        return try JSONDecoder().decode([EpochReport].self, from: JSONSerialization.data(withJSONObject: epochs))
    }

    /// The lines of `metrics.jsonl`, each parsed.
    public func metricsLines() throws -> [[String: Any]] { try MetricsLog.read(path("metrics.jsonl")) }

    /// The epoch reports of `metrics.jsonl`'s epoch lines.
    public func loggedEpochReports() throws -> [EpochReport] {
        try metricsLines().filter { $0["type"] as? String == "epoch" }.map { line in
            let report = try #require(line["report"], "an epoch line without a report: \(line)")
            return try JSONDecoder().decode(EpochReport.self, from: JSONSerialization.data(withJSONObject: report))
        }
    }

    /// A safetensors file, read and validated completely.
    public func tensors(_ name: String) throws -> SafeTensorsArchive { try SafeTensors.read(path(name)) }

    /// The folder's file names (hidden ones included), sorted; none if there is no folder.
    public func names() throws -> [String] {
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }
}

/// Whether two archives hold the same tensors (names, dtypes, shapes and bytes).
public func sameTensors(_ a: SafeTensorsArchive, _ b: SafeTensorsArchive) -> Bool {
    guard a.names.sorted() == b.names.sorted() else { return false }
    return a.names.allSatisfy { name in
        let (x, y) = (a.tensors[name]!, b.tensors[name]!)
        return x.dtype == y.dtype && x.shape == y.shape && x.contiguousBytes() == y.contiguousBytes()
    }
}

/// A JSON value with every `"seconds"` member removed (wall-clock time differs between
/// otherwise identical runs), re-serialised with sorted keys for comparison.
public func withoutTimings(_ value: Any) throws -> String {
    func strip(_ v: Any) -> Any {
        if let object = v as? [String: Any] {
            return object.filter { $0.key != "seconds" }.mapValues(strip)
        }
        if let array = v as? [Any] { return array.map(strip) }
        return v
    }
    let stripped = strip(value)
    let data = try JSONSerialization.data(withJSONObject: stripped, options: [.sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}
