import Foundation
import Torch

/// A JSON-lines log (a run's `metrics.jsonl`): one JSON object per line, each with an integer
/// `"epoch"` (the epoch it belongs to, 1-based).
///
/// Crash-safe: every append rewrites the whole file through ``AtomicFile`` (temp file, fsync,
/// rename), so after a crash the file is the complete previous or the complete new version,
/// never a torn line. A run resumed from a training state opens the log with
/// ``resume(at:afterEpoch:)``, which drops the lines of epochs after the resumed one (work
/// that was lost with the crash and is done again), so the log never holds an epoch twice.
/// The lines are kept in memory; rewriting costs time proportional to the log's size, which
/// stays small next to training at one line per epoch and one per 20 steps.
public final class MetricsLog {
    /// The log file.
    public let path: String
    /// The lines written so far, without their newlines.
    private var lines: [Data]

    private init(path: String, lines: [Data]) {
        self.path = path
        self.lines = lines
    }

    /// A new, empty log at `path` (an existing file there is replaced).
    public static func create(at path: String) throws -> MetricsLog {
        let log = MetricsLog(path: path, lines: [])
        try log.flush()
        return log
    }

    /// The log of a run resumed after epoch `epoch`: the lines of `path` up to and including
    /// that epoch (the file is rewritten without the later ones). A missing file starts an
    /// empty log; a line that is not a JSON object with an integer `"epoch"` is an error.
    ///
    /// `stepsDone` > 0: the state was saved inside the next epoch after that many steps (a
    /// stopped run); that epoch's step lines up to that step are kept too.
    public static func resume(at path: String, afterEpoch epoch: Int, stepsDone: Int = 0) throws -> MetricsLog {
        let kept: [Data]
        if FileManager.default.fileExists(atPath: path) {
            kept = try parse(path).filter { line in
                line.epoch <= epoch || (line.epoch == epoch + 1 && line.object["type"] as? String == "step"
                    && (line.object["step"] as? Int).map { $0 <= stepsDone } == true)
            }.map(\.line)
        } else {
            kept = []
        }
        let log = MetricsLog(path: path, lines: kept)
        try log.flush()
        return log
    }

    /// Appends one object as a line (keys sorted). `object` must hold an integer `"epoch"`.
    public func append(_ object: [String: Any]) throws {
        guard object["epoch"] is Int else {
            throw HydraError.invalidData("\(path): a metrics line needs an integer \"epoch\", got keys \(object.keys.sorted())")
        }
        let line: Data
        do {
            line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw HydraError.invalidData("\(path): cannot encode a metrics line as JSON (\(error))")
        }
        lines.append(line)
        do {
            try flush()
        } catch {
            lines.removeLast()
            throw error
        }
    }

    /// The objects of the log, in order.
    public var entries: [[String: Any]] {
        get throws { try lines.enumerated().map { try MetricsLog.object($1, line: $0 + 1, path: path) } }
    }

    /// Reads a log file: its objects in order. Every line must be a JSON object with an
    /// integer `"epoch"`; the error names the file and line otherwise.
    public static func read(_ path: String) throws -> [[String: Any]] {
        try parse(path).map(\.object)
    }

    private func flush() throws {
        var data = Data()
        for line in lines {
            data.append(line)
            data.append(0x0A)
        }
        do {
            try AtomicFile.write(data, to: path)
        } catch {
            throw HydraError.invalidConfiguration("cannot write the metrics log: \(error)")
        }
    }

    private static func parse(_ path: String) throws -> [(line: Data, object: [String: Any], epoch: Int)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw HydraError.invalidData("cannot read the metrics log \(path): \(error.localizedDescription)")
        }
        guard data.isEmpty || data.last == 0x0A else {
            throw HydraError.invalidData("\(path): the last line is not terminated (a partial write?)")
        }
        return try data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().enumerated().map { i, slice in
            let line = Data(slice)
            let object = try object(line, line: i + 1, path: path)
            guard let epoch = object["epoch"] as? Int else {
                throw HydraError.invalidData("\(path) line \(i + 1): no integer \"epoch\"")
            }
            return (line, object, epoch)
        }
    }

    private static func object(_ line: Data, line number: Int, path: String) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            throw HydraError.invalidData("\(path) line \(number): not a JSON object")
        }
        return object
    }
}
