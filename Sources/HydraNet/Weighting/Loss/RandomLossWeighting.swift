import Foundation
import Torch

/// Random Loss Weighting (Lin et al., TMLR 2022, "Reasonable Effectiveness of Random
/// Weighting"): each step w = softmax(ε) with ε ~ N(0, I) over the present tasks, and the
/// loss Σ wᵢLᵢ (as LibMTL's RLW). Draws come from the method's own seeded generator so runs
/// are reproducible and independent of libtorch's global generator.
public final class RandomLossWeighting: LossWeighting {
    public let name = "rlw"
    private var generator: SplitMix64
    public private(set) var lastWeights: [Double?] = []

    public init(seed: UInt64 = 0) { generator = SplitMix64(seed: seed) }

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        let present = losses.indices.filter { losses[$0] != nil }
        let eps = present.map { _ in generator.nextGaussian() }
        let m = eps.max() ?? 0
        let exps = eps.map { Foundation.exp($0 - m) }
        let total = exps.reduce(0, +)
        var weights = [Double](repeating: 0, count: losses.count)
        lastWeights = Array(repeating: nil, count: losses.count)
        for (j, i) in present.enumerated() {
            weights[i] = exps[j] / total
            lastWeights[i] = weights[i]
        }
        return weightedSum(losses, weights)
    }

    public func stateDict() -> [String: Tensor] { ["rng_state": Tensor([Int64(bitPattern: generator.state)])] }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let s = state["rng_state"]?.scalars(as: Int64.self).first { generator.state = UInt64(bitPattern: s) }
    }
}

/// A small, fast, seedable generator (SplitMix64) with Gaussian draws (Box–Muller).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func nextGaussian() -> Double {
        let u1 = Swift.max(nextUniform(), .leastNonzeroMagnitude), u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * .pi * u2)
    }
}
