import Foundation
import Torch

// Shared plumbing of the gradient aggregators: the Gram matrix, the final wᵀJ, task ids,
// a seeded generator whose state is checkpointed, and per-task state encoding.

/// What every aggregator starts from: the Jacobian (as given and in float64) and, computed
/// lazily with one libtorch matmul in float64, its Gram matrix G = J·Jᵀ on the CPU.
final class AggregatorInput {
    /// The Jacobian as passed in (T×P), detached.
    let jacobian: Tensor
    /// The same Jacobian in float64 (the same tensor when it already is), made on first use
    /// (methods that work on J itself, like GradDrop, never pay for the copy).
    lazy var jacobian64: Tensor = withNoGrad { jacobian.dtype == .float64 ? jacobian : jacobian.to(dtype: .float64) }
    /// For each row, its task id (``AggregationContext/taskIndices``).
    let taskIds: [Int]
    /// T, the number of rows.
    let count: Int
    /// P, the number of columns.
    let columns: Int

    init(_ jacobian: Tensor, _ context: AggregationContext, method: String) {
        precondition(jacobian.rank == 2, "\(method): the Jacobian must be a T×P matrix, got shape \(jacobian.shape)")
        precondition(jacobian.dtype.isFloatingPoint, "\(method): the Jacobian must be floating point, got \(jacobian.dtype)")
        self.jacobian = withNoGrad { jacobian.detached() }
        count = jacobian.size(0)
        columns = jacobian.size(1)
        taskIds = AggregatorInput.taskIds(context, rows: count, method: method)
    }

    /// G = J·Jᵀ in float64 as a T×T array (one matmul, then one copy to the CPU).
    func gram() -> [[Double]] {
        guard count > 0 else { return [] }
        let flat = withNoGrad { jacobian64.matmul(jacobian64.T).to(device: .cpu).contiguous() }.scalars(as: Double.self)
        var g = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
        for i in 0..<count {
            for j in 0..<count {
                // Symmetrise: libtorch's matmul need not give bitwise-symmetric entries.
                g[i][j] = 0.5 * (flat[i * count + j] + flat[j * count + i])
            }
        }
        return g
    }

    /// The update wᵀJ (length P), computed in float64 and returned in the Jacobian's dtype
    /// and device.
    func combine(_ weights: [Double]) -> Tensor {
        precondition(weights.count == count, "combine: \(weights.count) weights for \(count) rows")
        return withNoGrad {
            let w = Tensor(weights, shape: [1, count]).to(device: jacobian64.device)
            let update = w.matmul(jacobian64).reshaped([columns])
            return update.dtype == jacobian.dtype ? update : update.to(dtype: jacobian.dtype)
        }
    }

    /// The aggregation for `weights`: update wᵀJ and the weights themselves.
    func aggregation(_ weights: [Double]) -> Aggregation {
        Aggregation(update: combine(weights), weights: weights)
    }

    /// A zero update (length P) in the Jacobian's dtype and device.
    func zeroUpdate() -> Tensor {
        Tensor.zeros([columns], dtype: jacobian.dtype, device: jacobian.device)
    }

    /// The task id of each row: `context.taskIndices`, or 0..<T when it is empty.
    static func taskIds(_ context: AggregationContext, rows: Int, method: String) -> [Int] {
        if context.taskIndices.isEmpty { return Array(0..<rows) }
        precondition(context.taskIndices.count == rows,
                     "\(method): \(context.taskIndices.count) task indices for a Jacobian with \(rows) rows")
        precondition(Set(context.taskIndices).count == rows && context.taskIndices.allSatisfy { $0 >= 0 },
                     "\(method): task indices must be distinct and non-negative, got \(context.taskIndices)")
        return context.taskIndices
    }
}

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64) whose whole
/// state is four words, so that randomised aggregators can checkpoint it and resume the
/// exact same sequence.
public struct AggregatorGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four state words.
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var x = seed
        state = (0..<4).map { _ in AggregatorGenerator.splitMix(&x) }
        if state.allSatisfy({ $0 == 0 }) { state[0] = 1 }
    }

    /// Restores a generator from ``state`` (four words, not all zero).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        self.state = state
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = AggregatorGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = AggregatorGenerator.rotl(state[3], 45)
        return result
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal sample (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1.0p-60), u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var order = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                order.swapAt(i, Int(next(upperBound: UInt64(i + 1))))
            }
        }
        return order
    }

    /// The state as an int64 tensor (bit patterns), for checkpoints.
    var tensor: Tensor { Tensor(state.map { Int64(bitPattern: $0) }) }

    /// Restores the state saved by ``tensor``.
    init(checkpoint t: Tensor, key: String) throws {
        let words = t.to(dtype: .int64).scalars(as: Int64.self).map { UInt64(bitPattern: $0) }
        guard let g = AggregatorGenerator(state: words) else {
            throw HydraError.checkpoint("aggregator state '\(key)' is not a generator state (4 words, not all zero)")
        }
        self = g
    }
}


/// Encoding of per-task state (keyed by task id) as tensors for ``GradientAggregator/stateDict()``.
enum AggregatorState {
    /// `[taskId: value]` as `<key>.tasks` (int64) and `<key>.values` (float64), sorted by id.
    static func put(_ map: [Int: Double], _ key: String, into dict: inout [String: Tensor]) {
        let ids = map.keys.sorted()
        dict["\(key).tasks"] = Tensor(ids.map { Int64($0) })
        dict["\(key).values"] = Tensor(ids.map { map[$0]! })
    }

    /// Reads what ``put(_:_:into:)`` wrote; nil when absent.
    static func get(_ dict: [String: Tensor], _ key: String) throws -> [Int: Double]? {
        guard let tasks = dict["\(key).tasks"], let values = dict["\(key).values"] else { return nil }
        let ids = tasks.to(dtype: .int64).scalars(as: Int64.self)
        let v = values.to(dtype: .float64).scalars(as: Double.self)
        guard ids.count == v.count else {
            throw HydraError.checkpoint("aggregator state '\(key)': \(ids.count) task ids for \(v.count) values")
        }
        var map: [Int: Double] = [:]
        for (i, x) in zip(ids, v) {
            guard i >= 0 else { throw HydraError.checkpoint("aggregator state '\(key)': negative task id \(i)") }
            map[Int(i)] = x
        }
        return map
    }

    /// Per-task tensors as `<key>.<taskId>`.
    static func put(_ map: [Int: Tensor], _ key: String, into dict: inout [String: Tensor]) {
        for (id, t) in map { dict["\(key).\(id)"] = t }
    }

    /// Reads what ``put(_:_:into:)`` wrote for tensors.
    static func getTensors(_ dict: [String: Tensor], _ key: String) throws -> [Int: Tensor] {
        var map: [Int: Tensor] = [:]
        let prefix = "\(key)."
        for (k, t) in dict where k.hasPrefix(prefix) {
            guard let id = Int(k.dropFirst(prefix.count)), id >= 0 else { continue }
            map[id] = t
        }
        return map
    }

    /// A scalar as a 0-d float64 tensor.
    static func scalar(_ x: Double) -> Tensor { Tensor(scalar: x) }

    /// Reads a scalar written by ``scalar(_:)``.
    static func scalar(_ dict: [String: Tensor], _ key: String) throws -> Double? {
        guard let t = dict[key] else { return nil }
        guard t.count == 1 else { throw HydraError.checkpoint("aggregator state '\(key)' is not a scalar (shape \(t.shape))") }
        return t.to(dtype: .float64).item()
    }
}

extension Array where Element == Double {
    /// Whether every element is finite.
    var allFinite: Bool { allSatisfy { $0.isFinite } }
}
