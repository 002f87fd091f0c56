/// One rank's share of each epoch, as PyTorch's `DistributedSampler`: the epoch's (shuffled)
/// order is padded by repeating its start until it divides evenly — or, with
/// `dropTail`, cut to the largest multiple of `count` — and rank `r` takes every
/// `count`-th row from position `r`. Every rank sees the same number of rows, so every rank
/// runs the same number of steps.
public struct DataShard: Sendable, Equatable {
    public var rank: Int
    public var count: Int
    /// Drop the tail instead of padding (`drop_last=True`).
    public var dropTail: Bool

    public init(rank: Int, count: Int, dropTail: Bool = false) {
        precondition(count >= 1 && (0..<count).contains(rank), "DataShard: rank \(rank) outside 0..<\(count)")
        self.rank = rank
        self.count = count
        self.dropTail = dropTail
    }

    /// Rows per rank for an epoch of `total` rows (`num_samples`).
    public func sampleCount(of total: Int) -> Int {
        if dropTail && total % count != 0 { return (total - count + count - 1) / count }
        return (total + count - 1) / count
    }

    /// This rank's rows of an epoch's order.
    public func part(of order: [Int]) -> [Int] {
        guard !order.isEmpty else { return [] }
        let totalSize = sampleCount(of: order.count) * count
        var padded = order
        if totalSize > order.count {
            while padded.count < totalSize { padded += order.prefix(totalSize - padded.count) }
        } else {
            padded = Array(padded.prefix(totalSize))
        }
        return stride(from: rank, to: totalSize, by: count).map { padded[$0] }
    }
}
