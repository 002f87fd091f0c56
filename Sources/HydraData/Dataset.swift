import Foundation
import Torch

/// What a task's label is.
public enum TaskKind: Sendable, Hashable, Codable {
    /// A real number (stored as float32).
    case regression
    /// 0 or 1 (stored as float32, for BCE-with-logits).
    case binary
    /// A class index in `0..<classes` (stored as int64).
    case classification(classes: Int)
    /// Any subset of `labels` labels (stored as a float32 row of `labels` 0/1 values, so the
    /// label tensor of a dataset is N×labels).
    ///
    /// Where one number per task is used (``ImageDataset/labels(at:)``, ``LabeledFile``),
    /// a label set is encoded as the bit mask Σ 2^i over its label indices i (exact in a
    /// Double up to ``maxMultilabelLabels`` labels); see ``encodeLabelSet(_:)`` and
    /// ``decodeLabelSet(_:)``.
    case multilabel(labels: Int)

    /// The most labels a multilabel task may have (the bit-mask encoding of a label set in
    /// one Double is exact up to 2^53).
    public static let maxMultilabelLabels = 53

    /// The number-per-task encoding of a label set: Σ 2^i over the label indices (each in
    /// `0..<maxMultilabelLabels`; duplicates count once).
    public static func encodeLabelSet<S: Sequence>(_ indices: S) -> Double where S.Element == Int {
        var bits: UInt64 = 0
        for i in indices where i >= 0 && i < maxMultilabelLabels { bits |= 1 << UInt64(i) }
        return Double(bits)
    }

    /// The label indices (ascending) of a label set encoded by ``encodeLabelSet(_:)``.
    public static func decodeLabelSet(_ value: Double) -> [Int] {
        guard value >= 0, value < 0x1p53, value == value.rounded() else { return [] }
        let bits = UInt64(value)
        return (0..<maxMultilabelLabels).filter { bits & (1 << UInt64($0)) != 0 }
    }

    public var labelDType: DType {
        switch self {
        case .regression, .binary, .multilabel: .float32
        case .classification: .int64
        }
    }

    /// The shape of one sample's label: `[]` (a scalar), or `[labels]` for multilabel.
    public var labelShape: [Int] {
        if case let .multilabel(k) = self { return [k] }
        return []
    }

    /// Whether `value` is a label of this kind: finite for regression, 0 or 1 for binary, a
    /// class index for classification, an encoded label set of the task's labels for
    /// multilabel (losses trap on anything else, so data is checked).
    public func admits(_ value: Double) -> Bool {
        switch self {
        case .regression: value.isFinite
        case .binary: value == 0 || value == 1
        case let .classification(n): value >= 0 && value < Double(n) && value == value.rounded()
        case let .multilabel(k):
            k <= TaskKind.maxMultilabelLabels && value >= 0 && value < Double(UInt64(1) << UInt64(k))
                && value == value.rounded()
        }
    }

    /// What ``admits(_:)`` accepts, for messages.
    var labelDescription: String {
        switch self {
        case .regression: "finite number"
        case .binary: "binary label (0 or 1)"
        case let .classification(n): "class index in 0..<\(n)"
        case let .multilabel(k): "set of labels among \(k)"
        }
    }
}

/// One prediction target: its name, kind and (for classes) the names of its classes.
public struct TaskSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var kind: TaskKind
    /// Class names by index (binary: negative then positive; multilabel: the label names);
    /// empty for regression.
    public var classNames: [String]

    public init(name: String, kind: TaskKind, classNames: [String] = []) {
        self.name = name
        self.kind = kind
        self.classNames = classNames
    }

    public static func regression(_ name: String) -> TaskSpec { TaskSpec(name: name, kind: .regression) }
    public static func binary(_ name: String, classNames: [String] = ["0", "1"]) -> TaskSpec {
        TaskSpec(name: name, kind: .binary, classNames: classNames)
    }
    public static func classification(_ name: String, classNames: [String]) -> TaskSpec {
        TaskSpec(name: name, kind: .classification(classes: classNames.count), classNames: classNames)
    }
    /// A multi-label task: any subset of `labelNames` (label index i is `labelNames[i]`).
    public static func multilabel(_ name: String, labelNames: [String]) -> TaskSpec {
        TaskSpec(name: name, kind: .multilabel(labels: labelNames.count), classNames: labelNames)
    }

    public var description: String {
        switch kind {
        case .regression: "\(name) (regression)"
        case .binary: "\(name) (binary: \(classNames.joined(separator: "/")))"
        case let .classification(n): "\(name) (\(n) classes)"
        case let .multilabel(k): "\(name) (\(k) labels: \(classNames.joined(separator: "/")))"
        }
    }

    /// The display name of a class index (the index itself when unnamed).
    func className(_ index: Int) -> String {
        index >= 0 && index < classNames.count ? classNames[index] : String(index)
    }
}

/// A dataset: images plus, for each task, a label or a missing-label mark per sample.
///
/// File-backed datasets (``FileDataset``: UTKFace folders, CSV manifests, synthetic faces)
/// decode on demand; ``DecodedDataset`` serves preprocessed images from memory (the decoded
/// cache). Both conform, so code that only needs images and labels takes either.
public protocol ImageDataset {
    /// A short name (used in cache file names and summaries).
    var name: String { get }
    /// The tasks, in the order of `labels(at:)`.
    var tasks: [TaskSpec] { get }
    /// The number of samples.
    var count: Int { get }
    /// A stable identifier of sample `index` (its path relative to the dataset root).
    func sampleName(at index: Int) -> String
    /// The image of sample `index` as uint8 3×H×W RGB.
    func image(at index: Int) throws -> Tensor
    /// The labels of sample `index`, one per task; nil marks a missing label. A multilabel
    /// task's label set is one number, its bit mask (``TaskKind/encodeLabelSet(_:)``; 0 is a
    /// present label with none of the labels).
    func labels(at index: Int) -> [Double?]
}

extension ImageDataset {
    /// Which tasks have a label for sample `index` (the present/missing mask).
    public func labelMask(at index: Int) -> [Bool] { labels(at: index).map { $0 != nil } }
}

/// One image file and its labels (nil = missing for that task; a multilabel task's label set
/// is encoded as by ``TaskKind/encodeLabelSet(_:)``).
public struct LabeledFile: Sendable, Hashable, Codable {
    /// The file's path relative to the dataset root (the identity used by caches and splits).
    public var name: String
    /// The absolute (or caller-given) path used to open the file.
    public var path: String
    public var labels: [Double?]

    public init(name: String, path: String, labels: [Double?]) {
        self.name = name
        self.path = path
        self.labels = labels
    }
}

/// A dataset backed by image files: UTKFace folders, CSV manifests and synthetic faces all
/// load into this.
public struct FileDataset: ImageDataset, Sendable {
    public var name: String
    /// The folder relative names are resolved against.
    public var root: String
    public var tasks: [TaskSpec]
    public var files: [LabeledFile]
    /// What loading found: counts, label distributions, skipped files and odd names.
    public var report: DatasetReport

    public init(name: String, root: String, tasks: [TaskSpec], files: [LabeledFile], report: DatasetReport? = nil) {
        self.name = name
        self.root = root
        self.tasks = tasks
        self.files = files
        self.report = report ?? DatasetReport(name: name, root: root, tasks: tasks, files: files)
    }

    public var count: Int { files.count }
    public func sampleName(at index: Int) -> String { files[index].name }
    public func labels(at index: Int) -> [Double?] { files[index].labels }

    /// Decodes sample `index` at full size.
    public func image(at index: Int) throws -> Tensor {
        try ImageCodec.decodeFile(files[index].path, scaling: .none).tensor()
    }

    /// Decodes and resizes sample `index` with `transform` (uint8 3×H×W).
    public func image(at index: Int, transform: ImageTransform) throws -> Tensor {
        transform.apply(try transform.decode(file: files[index].path))
    }

    /// A hash of every file's bytes (equal for byte-identical files), read in parallel
    /// without decoding, e.g. to split before building the decoded cache. Unreadable files
    /// throw.
    public func contentHashes(threads: Int = 0) throws -> [UInt64] {
        let files = self.files
        let results = LockedBox([UInt64?](repeating: nil, count: files.count))
        let failure = LockedBox<DataError?>(nil)
        let next = LockedBox(0)
        let workers = threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
        DispatchQueue.concurrentPerform(iterations: min(workers, max(1, files.count))) { _ in
            while true {
                let i: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                if i >= files.count || failure.value != nil { break }
                do {
                    let hash = StableHash.bytes(try ImageCodec.readFile(files[i].path))
                    results.withLock { $0[i] = hash }
                } catch let error as DataError {
                    failure.withLock { $0 = error }
                } catch {
                    failure.withLock { $0 = .unreadableFile(path: files[i].path, reason: "\(error)") }
                }
            }
        }
        if let error = failure.value { throw error }
        return results.value.map { $0! }
    }

    /// The class mapping of every classification/binary task as JSON
    /// (`{"task": ["class0", "class1", ...]}`), for saving beside a model.
    public func classMappingJSON() -> String {
        var mapping: [String: [String]] = [:]
        for t in tasks where t.kind != .regression { mapping[t.name] = t.classNames }
        let data = (try? JSONEncoder.sorted.encode(mapping)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

/// Why a file was left out of a dataset.
public enum SkipReason: String, Sendable, Codable, CaseIterable {
    /// The file name's labels cannot be read.
    case unreadableName = "unreadable name"
    /// A label is outside its valid range.
    case outOfRange = "label out of range"
    /// The file cannot be opened or read (missing, a folder, no permission, empty).
    case unreadableFile = "unreadable file"
    /// Not a JPEG or PNG, or rejected by the decoder.
    case corruptImage = "corrupt image"
}

/// A file that was left out, and why.
public struct SkippedFile: Sendable, Hashable, Codable {
    public var name: String
    public var reason: SkipReason
    public var detail: String

    public init(name: String, reason: SkipReason, detail: String) {
        self.name = name
        self.reason = reason
        self.detail = detail
    }
}

/// A file that was kept although its name is irregular (e.g. a missing label field).
public struct NameNote: Sendable, Hashable, Codable {
    public var name: String
    public var note: String
}

/// What loading a dataset found: images kept, per-task label counts and distributions,
/// skipped files with reasons, and kept files with irregular names. `description` is the
/// human summary printed after loading.
public struct DatasetReport: Sendable, CustomStringConvertible {
    /// The most regression histogram buckets (decades 0–9 to 9990–9999).
    public static let histogramBuckets = 1000

    public struct TaskSummary: Sendable {
        public var task: TaskSpec
        public var labeled: Int
        public var missing: Int
        /// Counts per class index (binary/classification), or per label (multilabel: the
        /// labelled samples that have each label).
        public var classCounts: [Int]
        /// For regression: minimum, maximum, mean.
        public var minimum: Double?
        public var maximum: Double?
        public var mean: Double?
        /// For regression: counts per bucket of width 10 starting at 0 (negative values in bucket 0;
        /// values from 10 × ``DatasetReport/histogramBuckets`` on are left out).
        public var histogram: [Int]
    }

    public var name: String
    public var root: String
    public var images: Int
    public var taskSummaries: [TaskSummary]
    public var skipped: [SkippedFile]
    public var notes: [NameNote]
    /// Files in the folder that are not images (by extension) and were ignored.
    public var ignored: [String]

    public init(name: String, root: String, tasks: [TaskSpec], files: [LabeledFile], skipped: [SkippedFile] = [],
                notes: [NameNote] = [], ignored: [String] = []) {
        self.name = name
        self.root = root
        self.images = files.count
        self.skipped = skipped
        self.notes = notes
        self.ignored = ignored
        taskSummaries = tasks.enumerated().map { t, task in
            var s = TaskSummary(task: task, labeled: 0, missing: 0, classCounts: [], minimum: nil, maximum: nil,
                                mean: nil, histogram: [])
            var sum = 0.0
            if case let .classification(n) = task.kind { s.classCounts = Array(repeating: 0, count: n) }
            if task.kind == .binary { s.classCounts = [0, 0] }
            if case let .multilabel(k) = task.kind { s.classCounts = Array(repeating: 0, count: k) }
            for f in files {
                guard t < f.labels.count, let v = f.labels[t] else {
                    s.missing += 1
                    continue
                }
                s.labeled += 1
                switch task.kind {
                case .regression:
                    s.minimum = min(s.minimum ?? v, v)
                    s.maximum = max(s.maximum ?? v, v)
                    sum += v
                    // Decades 0–9 … 9990–9999 (values beyond are in the range, not the histogram).
                    guard v.isFinite, v < 10 * Double(Self.histogramBuckets) else { continue }
                    let bucket = v < 0 ? 0 : Int(v / 10)
                    if bucket >= s.histogram.count { s.histogram += Array(repeating: 0, count: bucket + 1 - s.histogram.count) }
                    s.histogram[bucket] += 1
                case .binary, .classification:
                    // Only class indices the task has (a label outside is refused when decoded).
                    guard v >= 0, v < Double(s.classCounts.count), v == v.rounded() else { continue }
                    s.classCounts[Int(v)] += 1
                case .multilabel:
                    for label in TaskKind.decodeLabelSet(v) where label < s.classCounts.count { s.classCounts[label] += 1 }
                }
            }
            if task.kind == .regression, s.labeled > 0 { s.mean = sum / Double(s.labeled) }
            return s
        }
    }

    /// Skipped files grouped by reason.
    public var skippedByReason: [SkipReason: [SkippedFile]] { Dictionary(grouping: skipped, by: \.reason) }

    /// Kept files with irregular names, grouped by note.
    public var notesByKind: [String: [String]] {
        Dictionary(grouping: notes, by: \.note).mapValues { $0.map(\.name).sorted() }
    }

    public var description: String {
        var lines: [String] = []
        lines.append("\(name) at \(root): \(images) images kept, \(skipped.count) skipped"
            + (ignored.isEmpty ? "" : ", \(ignored.count) non-image files ignored"))
        for s in taskSummaries {
            var line = "  \(s.task.name): \(s.labeled) labelled, \(s.missing) missing"
            switch s.task.kind {
            case .regression:
                if let lo = s.minimum, let hi = s.maximum, let m = s.mean {
                    line += "; range \(fmt(lo))…\(fmt(hi)), mean " + String(format: "%.1f", m)
                    let buckets = s.histogram.enumerated().filter { $0.element > 0 }
                        .map { "\($0.offset * 10)–\($0.offset * 10 + 9): \($0.element)" }
                    if !buckets.isEmpty { line += "\n    by decade: " + buckets.joined(separator: ", ") }
                }
            case .binary, .classification, .multilabel:
                let total = max(1, s.labeled)
                let parts = s.classCounts.enumerated().map { c, n in
                    "\(s.task.className(c)) \(n) (\(String(format: "%.1f", 100 * Double(n) / Double(total)))%)"
                }
                if !parts.isEmpty { line += "; " + parts.joined(separator: ", ") }
            }
            lines.append(line)
        }
        if !notes.isEmpty {
            lines.append("  kept with irregular names (\(notes.count)):")
            for (note, names) in notesByKind.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(note): \(names.count) — \(examples(names))")
            }
        }
        if skipped.isEmpty {
            lines.append("  skipped: none")
        } else {
            lines.append("  skipped (\(skipped.count)):")
            for reason in SkipReason.allCases {
                guard let group = skippedByReason[reason] else { continue }
                let shown = group.prefix(3).map { "\($0.name) (\($0.detail))" }
                lines.append("    \(reason.rawValue): \(group.count) — " + shown.joined(separator: "; ")
                    + (group.count > 3 ? "; …" : ""))
            }
        }
        if !ignored.isEmpty {
            lines.append("  ignored (not .jpg/.jpeg/.png): \(examples(ignored.sorted()))")
        }
        return lines.joined(separator: "\n")
    }

    private func examples(_ names: [String]) -> String {
        names.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 3 ? ", …" : "")
    }

    private func fmt(_ v: Double) -> String {
        if abs(v) < 1e15, v == v.rounded() { return String(Int(v)) }
        return abs(v) < 1e9 ? String(format: "%.2f", v) : String(format: "%g", v)
    }
}
