import Foundation
import HydraData
import Testing
import TestSupport
import Torch

/// ``DataShard`` against PyTorch's `DistributedSampler` (the test venv's torch), and the
/// loader's sharded epochs.
@Suite("distributed sampling")
struct DataShardTests {
    @Test("each rank's rows equal DistributedSampler's (padding and drop_last) for many sizes")
    func matchesDistributedSampler() throws {
        var cases: [(n: Int, world: Int, dropTail: Bool)] = []
        for n in [1, 2, 5, 10, 11, 12, 13, 17] { for world in [2, 3, 4] { for drop in [false, true] where !(drop && n < world) {
            cases.append((n, world, drop))
        } } }
        let spec = cases.map { "\($0.n),\($0.world),\($0.dropTail ? 1 : 0)" }.joined(separator: ";")
        // The sampler without shuffling yields indices of the dataset's order: our shard of
        // the identity order must be the same.
        let out = try PythonReference.runCode("""
            import sys
            from torch.utils.data.distributed import DistributedSampler
            for case in sys.argv[1].split(";"):
                n, world, drop = map(int, case.split(","))
                for rank in range(world):
                    s = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False, drop_last=bool(drop))
                    print(case, rank, ",".join(map(str, list(s))), len(s))
            """, arguments: [spec])
        let lines = out.split(separator: "\n")
        #expect(lines.count == cases.reduce(0) { $0 + $1.world }, "\(out)")
        var checked = 0
        for line in lines {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let numbers = parts[0].split(separator: ",").map { Int($0)! }
            let (n, world, drop, rank) = (numbers[0], numbers[1], numbers[2] == 1, Int(parts[1])!)
            let expected = parts[2].split(separator: ",").map { Int($0)! }
            let shard = DataShard(rank: rank, count: world, dropTail: drop)
            #expect(shard.part(of: Array(0..<n)) == expected, "n \(n), world \(world), rank \(rank), drop \(drop)")
            #expect(shard.sampleCount(of: n) == Int(parts[3])!, "len, n \(n), world \(world), drop \(drop)")
            checked += 1
        }
        #expect(checked == cases.reduce(0) { $0 + $1.world })
    }

    @Test("a sharded loader: ranks partition each shuffled epoch (plus padding), equal step counts, other order each epoch")
    func shardedEpochs() throws {
        let decoded = try DecodedCache.decode(sharedSynthetic.dataset, transform: ImageTransform(size: 16),
                                              options: DecodeOptions(progress: .never))
        let rows = Array(0..<min(decoded.count, 23))
        var options = LoaderOptions(batchSize: 4, shuffle: true, seed: 5, prefetch: false)
        let whole = try DataLoader(decoded, rows: rows, options: options)
        var orders: [[Int]] = []
        for rank in 0..<2 {
            options.shard = DataShard(rank: rank, count: 2)
            let loader = try DataLoader(decoded, rows: rows, options: options)
            #expect(loader.epochRowCount == 12 && loader.batchCount == 3)
            let seen = loader.epoch(0).flatMap(\.indices)
            #expect(seen == loader.order(epoch: 0))
            orders.append(seen)
            #expect(loader.order(epoch: 1) != loader.order(epoch: 0))
        }
        // Rank 0 takes the even positions of the epoch's order, rank 1 the odd ones; the
        // 24th row repeats the first (padding).
        let full = whole.order(epoch: 0)
        #expect(orders[0] == stride(from: 0, to: 24, by: 2).map { full[$0 % 23] })
        #expect(orders[1] == stride(from: 1, to: 24, by: 2).map { full[$0 % 23] })
        #expect(Set(orders[0] + orders[1]) == Set(rows))
    }
}
