import Foundation
import Torch

/// One batch: normalized float32 images and, per task, labels and masks.
public struct Batch: @unchecked Sendable {
    /// float32 B×3×H×W, augmented (if configured) and normalized.
    public var images: Tensor
    /// Per task (dataset order), shape [B] (multilabel: B×k float32 of 0/1).
    public var labels: [Tensor]
    /// Per task, bool [B]: true where the label is present.
    public var masks: [Tensor]
    /// The dataset rows in this batch.
    public var indices: [Int]

    public var count: Int { indices.count }

    public init(images: Tensor, labels: [Tensor], masks: [Tensor], indices: [Int]) {
        self.images = images
        self.labels = labels
        self.masks = masks
        self.indices = indices
    }
}

/// Options for a ``DataLoader``.
public struct LoaderOptions: Sendable {
    public var batchSize: Int
    /// Reshuffle every epoch (seeded by `seed` and the epoch number).
    public var shuffle: Bool
    /// Drop the last batch if it is smaller than `batchSize`.
    public var dropLast: Bool
    public var seed: UInt64
    /// Training augmentations (nil: none).
    public var augmentation: Augmentation?
    public var normalization: Normalization
    /// Prepare the next batch on a background thread while the current one is used.
    public var prefetch: Bool
    /// Where batches are delivered.
    public var device: Device
    /// This process's share of every epoch in a distributed run (nil: all rows).
    public var shard: DataShard? = nil

    public init(batchSize: Int = 64, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0,
                augmentation: Augmentation? = nil, normalization: Normalization = .imagenet, prefetch: Bool = true,
                device: Device = .cpu) {
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.augmentation = augmentation
        self.normalization = normalization
        self.prefetch = prefetch
        self.device = device
    }
}

/// Batches of a ``DecodedDataset`` (or of some of its rows, e.g. one split).
///
/// Each epoch's order is a seeded permutation (the same seed and epoch give the same order);
/// each batch's augmentation is seeded by (seed, epoch, batch index), so results do not
/// depend on timing or prefetching.
public final class DataLoader: @unchecked Sendable {
    public let dataset: DecodedDataset
    public let rows: [Int]
    public let options: LoaderOptions

    /// - Parameter rows: the dataset rows to draw from (default: all).
    public init(_ dataset: DecodedDataset, rows: [Int]? = nil, options: LoaderOptions = LoaderOptions()) throws {
        guard options.batchSize > 0 else {
            throw DataError.invalidArgument("batch size must be positive, got \(options.batchSize)")
        }
        try options.normalization.validate()
        try options.augmentation?.validate()
        let rows = rows ?? Array(0..<dataset.count)
        guard rows.allSatisfy({ $0 >= 0 && $0 < dataset.count }) else {
            throw DataError.invalidArgument("loader rows out of range 0..<\(dataset.count)")
        }
        self.dataset = dataset
        self.rows = rows
        self.options = options
    }

    /// Rows per epoch (this shard's, in a distributed run).
    public var epochRowCount: Int { options.shard?.sampleCount(of: rows.count) ?? rows.count }

    /// Batches per epoch.
    public var batchCount: Int {
        let n = epochRowCount
        return options.dropLast ? n / options.batchSize : (n + options.batchSize - 1) / options.batchSize
    }

    /// The order of rows in `epoch` (this shard's part of it, in a distributed run).
    public func order(epoch: Int) -> [Int] {
        var order = rows
        if options.shuffle {
            var g = SeededGenerator(seed: options.seed, stream: [0x5EFF1E, UInt64(bitPattern: Int64(epoch))])
            order = g.permutation(rows.count).map { rows[$0] }
        }
        return options.shard?.part(of: order) ?? order
    }

    /// The batches of `epoch`, prepared one ahead when `prefetch` is on.
    public func epoch(_ epoch: Int) -> Epoch {
        Epoch(loader: self, epoch: epoch, start: 0)
    }

    /// The batches of `epoch` from batch `start` on (the same batches as the whole epoch's
    /// from that index: a run resumed inside an epoch sees what it would have seen).
    public func epoch(_ epoch: Int, startingAt start: Int) -> Epoch {
        Epoch(loader: self, epoch: epoch, start: Swift.max(0, start))
    }

    /// Builds batch `index` of `epoch` from its rows.
    public func makeBatch(_ batchRows: [Int], epoch: Int, index: Int) -> Batch {
        let idx = Tensor(batchRows.map(Int64.init))
        var images = dataset.images.indexSelect(dim: 0, index: idx)
        var augmented = false
        if let aug = options.augmentation, !aug.isIdentity {
            var g = SeededGenerator(seed: options.seed,
                                    stream: [0xA0_6E, UInt64(bitPattern: Int64(epoch)), UInt64(index)]
                                        + (options.shard.map { [UInt64($0.rank)] } ?? []))
            images = aug.apply(images, generator: &g)
            augmented = true
        }
        var x = options.normalization.apply(images, reusingInput: augmented)
        var labels = dataset.labels.map { $0.indexSelect(dim: 0, index: idx) }
        var masks = dataset.masks.map { $0.indexSelect(dim: 0, index: idx) }
        if options.device != .cpu {
            x = x.to(device: options.device)
            labels = labels.map { $0.to(device: options.device) }
            masks = masks.map { $0.to(device: options.device) }
        }
        return Batch(images: x, labels: labels, masks: masks, indices: batchRows)
    }

    /// One epoch's batches.
    public struct Epoch: Sequence {
        let loader: DataLoader
        let epoch: Int
        let start: Int

        public func makeIterator() -> Iterator { Iterator(loader: loader, epoch: epoch, start: start) }
        public var underestimatedCount: Int { Swift.max(0, loader.batchCount - start) }
    }

    /// Yields batches in order; with prefetch, batch k+1 is built on a background queue while
    /// the caller works on batch k.
    public final class Iterator: IteratorProtocol {
        private let loader: DataLoader
        private let epoch: Int
        private let order: [Int]
        private var position = 0
        private var pending: Pending?
        private static let queue = DispatchQueue(label: "hydradata.prefetch", qos: .userInitiated)

        init(loader: DataLoader, epoch: Int, start: Int = 0) {
            self.loader = loader
            self.epoch = epoch
            self.order = loader.order(epoch: epoch)
            position = start
            if loader.options.prefetch { pending = schedule(start) }
        }

        private func rows(of index: Int) -> [Int]? {
            guard index < loader.batchCount else { return nil }
            let size = loader.options.batchSize
            let start = index * size
            return Array(order[start..<min(order.count, start + size)])
        }

        private func schedule(_ index: Int) -> Pending? {
            guard let rows = rows(of: index) else { return nil }
            let p = Pending()
            let loader = self.loader, epoch = self.epoch
            Iterator.queue.async {
                p.fulfil(loader.makeBatch(rows, epoch: epoch, index: index))
            }
            return p
        }

        public func next() -> Batch? {
            let index = position
            guard index < loader.batchCount else { return nil }
            position += 1
            if loader.options.prefetch {
                guard let current = pending else { return nil }
                let batch = current.wait()
                pending = schedule(index + 1)
                return batch
            }
            guard let rows = rows(of: index) else { return nil }
            return loader.makeBatch(rows, epoch: epoch, index: index)
        }
    }

    final class Pending: @unchecked Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private var value: Batch?
        func fulfil(_ batch: Batch) {
            value = batch
            semaphore.signal()
        }
        func wait() -> Batch {
            semaphore.wait()
            return value!
        }
    }
}
