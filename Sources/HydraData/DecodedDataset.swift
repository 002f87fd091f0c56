import Foundation
import Torch

/// Where a decoded dataset came from.
public enum CacheStatus: Sendable, Equatable, CustomStringConvertible {
    /// Read from a cache file whose key matched.
    case hit
    /// Decoded now (and written to the cache unless caching was off); `reason` says why.
    case built(reason: String)

    public var description: String {
        switch self {
        case .hit: "cache hit"
        case let .built(reason): "built (\(reason))"
        }
    }

    public var isHit: Bool { self == .hit }
}

/// A preprocessed dataset held in memory: one uint8 N×3×H×W image tensor plus, per task, a
/// label tensor (float32 [N] for regression/binary, int64 [N] for classes, float32 N×k of
/// 0/1 for a multilabel task of k labels; 0 where missing) and a bool mask [N] (true where
/// the label is present). This is what the decoded cache stores.
///
/// `labels(at:)` gives one number per task; a multilabel task's row is encoded as its bit
/// mask (``TaskKind/encodeLabelSet(_:)``).
public final class DecodedDataset: ImageDataset, @unchecked Sendable {
    public let name: String
    public let tasks: [TaskSpec]
    public let transform: ImageTransform
    /// uint8 N×3×H×W.
    public let images: Tensor
    /// Per task (same order as `tasks`), shape [N] (multilabel: N×k).
    public let labels: [Tensor]
    /// Per task, bool [N]: true where the label is present.
    public let masks: [Tensor]
    /// Sample names (paths relative to the dataset root), in row order.
    public let names: [String]
    /// A hash of each source file's bytes (equal for byte-identical files).
    public let contentHashes: [UInt64]
    /// Files of the source dataset that could not be decoded (and are not rows here).
    public let skipped: [SkippedFile]
    /// The cache file, when one was read or written.
    public let cacheFile: String?
    public let cacheStatus: CacheStatus

    private let labelValues: [[Double?]]

    public init(name: String, tasks: [TaskSpec], transform: ImageTransform, images: Tensor, labels: [Tensor],
                masks: [Tensor], names: [String], contentHashes: [UInt64], skipped: [SkippedFile] = [],
                cacheFile: String? = nil, cacheStatus: CacheStatus = .built(reason: "in memory")) throws {
        let n = names.count
        guard images.rank == 4, images.size(0) == n, images.size(1) == 3, images.dtype == .uint8 else {
            throw DataError.invalidArgument("decoded images must be uint8 \(n)×3×H×W, got \(images.dtype) \(images.shape)")
        }
        guard labels.count == tasks.count, masks.count == tasks.count,
              zip(labels, tasks).allSatisfy({ $0.shape == [n] + $1.kind.labelShape }),
              masks.allSatisfy({ $0.shape == [n] && $0.dtype == .bool }),
              contentHashes.count == n else {
            throw DataError.invalidArgument("decoded labels/masks/hashes do not match \(n) samples and \(tasks.count) tasks")
        }
        for (t, task) in tasks.enumerated() where labels[t].dtype != task.kind.labelDType {
            throw DataError.invalidArgument("labels of task '\(task.name)' must be \(task.kind.labelDType), got \(labels[t].dtype)")
        }
        for task in tasks {
            if case let .multilabel(k) = task.kind, k > TaskKind.maxMultilabelLabels {
                throw DataError.invalidArgument("multilabel task '\(task.name)' has \(k) labels; at most "
                    + "\(TaskKind.maxMultilabelLabels) are supported")
            }
        }
        self.name = name
        self.tasks = tasks
        self.transform = transform
        self.images = images
        self.labels = labels
        self.masks = masks
        self.names = names
        self.contentHashes = contentHashes
        self.skipped = skipped
        self.cacheFile = cacheFile
        self.cacheStatus = cacheStatus
        let present = masks.map { $0.scalars(as: Bool.self) }
        let values = try zip(labels, tasks).map { tensor, task -> [Double] in
            guard case let .multilabel(k) = task.kind else { return tensor.scalars(as: Double.self) }
            // One number per sample: the label set's bit mask (rows must be 0/1).
            let flat = tensor.scalars(as: Double.self)
            return try (0..<n).map { row in
                let cells = flat[(row * k)..<(row * k + k)]
                if let bad = cells.first(where: { $0 != 0 && $0 != 1 }) {
                    throw DataError.invalidArgument("label \(bad) of multilabel task '\(task.name)' (row \(row)) is not 0 or 1")
                }
                return TaskKind.encodeLabelSet(cells.enumerated().filter { $0.element == 1 }.map(\.offset))
            }
        }
        for (t, task) in tasks.enumerated() {
            if let i = (0..<n).first(where: { row in present[t][row] && !task.kind.admits(values[t][row]) }) {
                throw DataError.invalidArgument("label \(values[t][i]) of task '\(task.name)' (row \(i)) is not a valid "
                    + "\(task.kind.labelDescription)")
            }
        }
        labelValues = (0..<n).map { i in (0..<tasks.count).map { t in present[t][i] ? values[t][i] : nil } }
    }

    public var count: Int { names.count }
    public func sampleName(at index: Int) -> String { names[index] }
    public func image(at index: Int) throws -> Tensor {
        guard index >= 0 && index < count else {
            throw DataError.invalidArgument("sample index \(index) out of range 0..<\(count)")
        }
        return images.select(dim: 0, index: index)
    }
    public func labels(at index: Int) -> [Double?] { labelValues[index] }

    /// The label tensor of the task named `task`.
    public func labels(_ task: String) -> Tensor? { tasks.firstIndex { $0.name == task }.map { labels[$0] } }
    /// The mask tensor of the task named `task`.
    public func mask(_ task: String) -> Tensor? { tasks.firstIndex { $0.name == task }.map { masks[$0] } }

    /// Deterministic train/validation/test splits (see ``Splitter``).
    public func splits(_ fractions: SplitFractions = SplitFractions(), salt: String = Splitter.defaultSalt) throws -> DatasetSplits {
        try Splitter.split(names: names, contentHashes: contentHashes, fractions: fractions, salt: salt)
    }

    /// A copy holding only the rows `indices` (in that order).
    public func subset(_ indices: [Int]) throws -> DecodedDataset {
        guard indices.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw DataError.invalidArgument("subset indices out of range 0..<\(count)")
        }
        let idx = Tensor(indices.map(Int64.init))
        return try DecodedDataset(name: name, tasks: tasks, transform: transform, images: images.indexSelect(dim: 0, index: idx),
                                  labels: labels.map { $0.indexSelect(dim: 0, index: idx) },
                                  masks: masks.map { $0.indexSelect(dim: 0, index: idx) },
                                  names: indices.map { names[$0] }, contentHashes: indices.map { contentHashes[$0] },
                                  skipped: skipped, cacheFile: cacheFile, cacheStatus: cacheStatus)
    }
}

/// Fractions of a train/validation/test split (must add up to 1).
public struct SplitFractions: Sendable, Hashable, Codable {
    public var train: Double
    public var validation: Double
    public var test: Double

    public init(train: Double = 0.8, validation: Double = 0.1, test: Double = 0.1) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    public func validate() throws {
        guard [train, validation, test].allSatisfy({ $0 >= 0 && $0.isFinite }),
              abs(train + validation + test - 1) < 1e-9 else {
            throw DataError.invalidArgument("split fractions must be ≥ 0 and add up to 1, got \(train)/\(validation)/\(test)")
        }
    }
}

/// Which part of a split a sample is in.
public enum Split: String, Sendable, Codable, CaseIterable {
    case train, validation, test
}

/// Row indices of each split, in ascending order.
public struct DatasetSplits: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]

    public subscript(_ split: Split) -> [Int] {
        switch split {
        case .train: train
        case .validation: validation
        case .test: test
        }
    }
}

/// Deterministic splits by a stable hash of the file name (its last path component, so the
/// same image file gets the same split whether a UTKFace folder or a CSV manifest, with
/// relative or absolute paths, names it: a model fine-tuned on a manifest of its training
/// images is tested on the same images as before).
///
/// Byte-identical files (equal content hashes; UTKFace has hundreds, often with different
/// labels) form a group that goes to the split of the group's smallest name, so an image
/// never appears in two splits. A sample's split depends only on its group's smallest name
/// and the salt: adding files never moves other files between splits (unless the new file
/// is an identical copy with a smaller name, which moves that group as a whole).
public enum Splitter {
    public static let defaultSalt = "hydranet-split-v1"

    /// The split of each sample.
    public static func assign(names: [String], contentHashes: [UInt64]? = nil, fractions: SplitFractions = SplitFractions(),
                              salt: String = defaultSalt) throws -> [Split] {
        try fractions.validate()
        if let hashes = contentHashes, hashes.count != names.count {
            throw DataError.invalidArgument("\(hashes.count) content hashes for \(names.count) names")
        }
        var groupKey: [UInt64: String] = [:]
        if let hashes = contentHashes {
            for (name, hash) in zip(names, hashes) {
                if let current = groupKey[hash] {
                    if name < current { groupKey[hash] = name }
                } else {
                    groupKey[hash] = name
                }
            }
        }
        return names.enumerated().map { i, name in
            let key = ((contentHashes.map { groupKey[$0[i]]! } ?? name) as NSString).lastPathComponent
            let u = Double(StableHash.string("\(salt):\(key)") % 1_000_000) / 1_000_000
            if u < fractions.train { return .train }
            if u < fractions.train + fractions.validation { return .validation }
            return .test
        }
    }

    /// Row indices per split.
    public static func split(names: [String], contentHashes: [UInt64]? = nil, fractions: SplitFractions = SplitFractions(),
                             salt: String = defaultSalt) throws -> DatasetSplits {
        let assigned = try assign(names: names, contentHashes: contentHashes, fractions: fractions, salt: salt)
        var s = DatasetSplits(train: [], validation: [], test: [])
        for (i, split) in assigned.enumerated() {
            switch split {
            case .train: s.train.append(i)
            case .validation: s.validation.append(i)
            case .test: s.test.append(i)
            }
        }
        return s
    }
}
