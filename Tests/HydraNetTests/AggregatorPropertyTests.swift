import Foundation
import HydraNet
import Testing
import Torch

/// Property tests: transcriptions of the papers' equations (PCGrad, GradNorm, GradDrop),
/// missing tasks, zero gradients, T = 1, state round trips, the geometry report.
@Suite("Aggregator properties")
struct AggregatorPropertyTests {
    typealias A = AggregatorTesting

    /// A seeded float64 T×P Jacobian (no libtorch RNG: Swift generator → tensor).
    static func randomJacobian(_ t: Int, _ p: Int, seed: UInt64) -> Tensor {
        var g = AggregatorGenerator(seed: seed)
        return Tensor((0..<(t * p)).map { _ in g.normal() }, shape: [t, p])
    }

    static func rows(_ j: Tensor) -> [[Double]] {
        let v = A.values(j), p = j.size(1)
        return (0..<j.size(0)).map { Array(v[($0 * p)..<(($0 + 1) * p)]) }
    }

    // MARK: PCGrad

    /// Yu et al. 2020, Algorithm 1, on the gradient vectors themselves.
    static func pcgradTranscription(_ g: [[Double]], order: (Int) -> [Int]) -> [Double] {
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var total = [Double](repeating: 0, count: g[0].count)
        for i in g.indices {
            var gi = g[i]
            for j in order(i) where j != i {
                let d = dot(gi, g[j])
                if d < 0 { gi = zip(gi, g[j]).map { $0 - d / dot(g[j], g[j]) * $1 } }
            }
            total = zip(total, gi).map { $0 + $1 }
        }
        return total
    }

    @Test("PCGrad with a fixed order equals a transcription of the paper (T = 2…5)")
    func pcgradFixedOrder() {
        for t in 2...5 {
            let j = Self.randomJacobian(t, 7, seed: UInt64(t))
            // A fixed, non-trivial order for every row.
            let order: ProjectionOrder = { row, n in (0..<n).map { (row + 2 * $0 + 1) % n }.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } } + (0..<n).filter { _ in false } }
            let fixed: ProjectionOrder = { row, n in
                var o = order(row, n)
                for k in 0..<n where !o.contains(k) { o.append(k) }
                return o
            }
            let out = PCGradAggregator(order: fixed).aggregate(j, context: A.context(t))
            let expected = Self.pcgradTranscription(Self.rows(j)) { fixed($0, t) }
            #expect(A.maxAbs(A.values(out.update), expected) <= 1e-12 * A.norm(expected), "T = \(t)")
        }
    }

    @Test("PCGrad with random orders equals the transcription for one of the possible orders (T = 3)")
    func pcgradRandomOrder() {
        let j = Self.randomJacobian(3, 5, seed: 11)
        let g = Self.rows(j)
        let a = PCGradAggregator(seed: 5)
        let out = A.values(a.aggregate(j, context: A.context(3)).update)
        var matched = false
        for mask in 0..<8 {
            let expected = Self.pcgradTranscription(g) { i in
                let others = (0..<3).filter { $0 != i }
                return (mask >> i) & 1 == 0 ? others : others.reversed()
            }
            if A.maxAbs(out, expected) <= 1e-12 * A.norm(expected) { matched = true }
        }
        #expect(matched)
        // Seeded: the same seed gives the same sequence of updates.
        let b = PCGradAggregator(seed: 5)
        #expect(A.values(b.aggregate(j, context: A.context(3)).update) == out)
    }

    // MARK: GradDrop

    @Test("GradDrop keeps one sign per coordinate, transcribes Algorithm 1 for given draws, and leak 1 is the sum")
    func graddrop() {
        let t = 4, p = 64
        let j = Self.randomJacobian(t, p, seed: 3)
        let g = Self.rows(j)
        let out = A.values(GradDropAggregator(seed: 9).aggregate(j, context: A.context(t)).update)
        for k in 0..<p {
            let column = g.map { $0[k] }
            let positive = column.filter { $0 > 0 }.reduce(0, +), negative = column.filter { $0 < 0 }.reduce(0, +)
            #expect(abs(out[k] - positive) < 1e-12 || abs(out[k] - negative) < 1e-12, "coordinate \(k)")
        }
        // With injected draws, lines 10–15 of Algorithm 1 exactly.
        var gen = AggregatorGenerator(seed: 1)
        let u = (0..<p).map { _ in gen.uniform() }
        let a = GradDropAggregator()
        a.uniforms = { _ in u }
        let update = A.values(a.aggregate(j, context: A.context(t)).update)
        for k in 0..<p {
            let column = g.map { $0[k] }
            let purity = 0.5 * (1 + column.reduce(0, +) / column.map(abs).reduce(0, +))
            let expected = column.filter { purity > u[k] ? $0 > 0 : (purity < u[k] ? $0 < 0 : false) }.reduce(0, +)
            #expect(abs(update[k] - expected) < 1e-12)
        }
        let leak = A.values(GradDropAggregator(leak: [1, 1, 1, 1]).aggregate(j, context: A.context(t)).update)
        let sum = A.values(j.sum(dim: 0))
        #expect(A.maxAbs(leak, sum) < 1e-12)
        #expect(GradDropAggregator().aggregate(j, context: A.context(t)).weights == nil)
    }

    // MARK: Random

    @Test("Random weights are a seeded softmax: positive, summing to 1, reproducible")
    func random() {
        let j = Self.randomJacobian(4, 3, seed: 1)
        let a = RandomAggregator(seed: 42), b = RandomAggregator(seed: 42)
        for _ in 0..<3 {
            let wa = a.aggregate(j, context: A.context(4)).weights!, wb = b.aggregate(j, context: A.context(4)).weights!
            #expect(wa == wb)
            #expect(wa.allSatisfy { $0 > 0 } && abs(wa.reduce(0, +) - 1) < 1e-12)
        }
        #expect(RandomAggregator(seed: 1).aggregate(j, context: A.context(4)).weights != RandomAggregator(seed: 2).aggregate(j, context: A.context(4)).weights)
    }

    // MARK: GradNorm

    @Test("GradNorm over 6 steps on a toy problem equals a transcription of the paper's equations")
    func gradnormTranscription() throws {
        // Toy problem: θ ∈ R⁴ shared, task i has Lᵢ(θ) = ½‖Aᵢθ − bᵢ‖² with very different scales.
        let t = 3, p = 4
        var gen = AggregatorGenerator(seed: 17)
        let scales = [1.0, 5.0, 0.2]
        let mats = (0..<t).map { i in Tensor((0..<(2 * p)).map { _ in gen.normal() * scales[i] }, shape: [2, p]) }
        let targets = (0..<t).map { _ in Tensor((0..<2).map { _ in gen.normal() }) }
        func lossesAndJacobian(_ theta: Tensor) throws -> ([Double], Tensor, [Tensor]) {
            let th = theta.detached().requiringGrad()
            var losses: [Double] = [], grads: [Tensor] = []
            for i in 0..<t {
                let r = mats[i].matmul(th) - targets[i]
                let l = 0.5 * (r * r).sum()
                losses.append(l.item())
                grads.append(try #require(try Autograd.grad(outputs: [l], inputs: [th])[0]))
            }
            return (losses, Tensor.stack(grads), grads)
        }
        let alpha = 1.5, lr = 0.05, step = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8
        // --- the aggregator
        let aggregator = GradNormAggregator(alpha: alpha, learningRate: lr)
        var theta = Tensor([0.5, -0.3, 0.2, 0.1])
        var ours: [[Double]] = []
        for _ in 0..<6 {
            let (losses, j, _) = try lossesAndJacobian(theta)
            let out = aggregator.aggregate(j, context: A.context(t, losses: losses))
            ours.append(out.weights!)
            theta = theta - step * out.update
        }
        // --- the transcription: s learnable, w = T·softmax(s), Gᵢ = ‖wᵢgᵢ‖, autograd for ∂L_grad/∂s,
        // PyTorch's Adam written out.
        var s = Tensor([0.0, 0.0, 0.0])
        var m = Tensor([0.0, 0.0, 0.0]), v = Tensor([0.0, 0.0, 0.0])
        theta = Tensor([0.5, -0.3, 0.2, 0.1])
        var l0: [Double]?
        for n in 1...6 {
            let (losses, _, grads) = try lossesAndJacobian(theta)
            if l0 == nil { l0 = losses }
            let sv = s.detached().requiringGrad()
            let e = sv.exp()
            let w = Double(t) * e / e.sum()
            let gNorms = Tensor.stack((0..<t).map { i in (w.select(dim: 0, index: i) * grads[i]).norm() })
            let gBar = gNorms.mean().detached()
            let ratios = (0..<t).map { losses[$0] / l0![$0] }
            let meanRatio = ratios.reduce(0, +) / Double(t)
            let r = Tensor(ratios.map { $0 / meanRatio })
            let target = (gBar * r.pow(alpha)).detached()
            let lgrad = (gNorms - target).abs().sum()
            let gs = try #require(try Autograd.grad(outputs: [lgrad], inputs: [sv])[0])
            let weights = A.values(w.detached())
            #expect(A.maxAbs(weights, ours[n - 1]) < 1e-10, "step \(n): \(weights) vs \(ours[n - 1])")
            // d = Σ sg(wᵢ)gᵢ, then Adam on s.
            var d = Tensor.zeros([p], dtype: .float64)
            for i in 0..<t { d = d + weights[i] * grads[i] }
            theta = theta - step * d
            m = b1 * m + (1 - b1) * gs
            v = b2 * v + (1 - b2) * (gs * gs)
            let bias1: Double = 1 - Foundation.pow(b1, Double(n))
            let bias2: Double = 1 - Foundation.pow(b2, Double(n))
            let denominator: Tensor = v.sqrt() / bias2.squareRoot() + eps
            let stepSize: Double = lr / bias1
            s = s - stepSize * (m / denominator)
        }
        #expect(A.maxAbs(A.values(s), [0, 1, 2].map { aggregator.logits[$0]! }) < 1e-10)
        // The weights moved: the large-gradient task is down-weighted.
        #expect(ours.last![1] < 1)
    }

    @Test("GradNorm with LibMTL's epoch-0 mean L(0): equal weights during the first epoch")
    func gradnormFirstEpoch() {
        let j = Self.randomJacobian(2, 3, seed: 2)
        let a = GradNormAggregator(initialLoss: .firstEpochMean)
        #expect(a.aggregate(j, context: A.context(2, losses: [2, 4], epoch: 0)).weights == [1, 1])
        #expect(a.aggregate(j, context: A.context(2, losses: [4, 8], epoch: 0)).weights == [1, 1])
        _ = a.aggregate(j, context: A.context(2, losses: [3, 3], epoch: 1))
        #expect(a.initialLosses == [0: 3, 1: 6])
        #expect(a.logits.count == 2)
    }

    // MARK: Missing tasks, zero gradients, T = 1

    @Test("2 of 3 tasks present (taskIndices [0, 2]): every method works and keeps task 1's state")
    func missingTasks() throws {
        let full = Self.randomJacobian(3, 6, seed: 21)
        let partial = Tensor.stack([full.select(dim: 0, index: 0), full.select(dim: 0, index: 2)] .map { $0 * 1.5 })
        for a in A.all() {
            for step in 0..<2 {
                _ = a.aggregate(full, context: A.context(3, losses: [1, 2, 3], step: step))
            }
            let before = a.stateDict()
            let out = a.aggregate(partial, context: A.context(2, tasks: [0, 2], losses: [1, 3], step: 2))
            #expect(out.update.shape == [6] && A.values(out.update).allSatisfy { $0.isFinite }, "\(a.name)")
            if let w = out.weights { #expect(w.count == 2 && w.allSatisfy { $0.isFinite }, "\(a.name)") }
            let after = a.stateDict()
            #expect(Set(before.keys).isSubset(of: Set(after.keys)), "\(a.name): state keys lost")
            var checked = 0
            for (key, tasks) in before where key.hasSuffix(".tasks") {
                let base = String(key.dropLast(".tasks".count))
                let ids = tasks.scalars(as: Int64.self)
                guard let k = ids.firstIndex(of: 1) else { continue }
                let old = A.values(before["\(base).values"]!)[k]
                let newIds = after[key]!.scalars(as: Int64.self)
                let new = A.values(after["\(base).values"]!)[newIds.firstIndex(of: 1)!]
                #expect(old == new, "\(a.name): \(base) of the absent task changed \(old) → \(new)")
                checked += 1
            }
            for (key, t) in before where key.hasSuffix(".1") {
                #expect(A.values(t) == A.values(after[key]!), "\(a.name): \(key) of the absent task changed")
                checked += 1
            }
            if let pairs = before["targets.pairs"] {
                let p0 = pairs.scalars(as: Int64.self), v0 = A.values(before["targets.values"]!)
                let p1 = after["targets.pairs"]!.scalars(as: Int64.self), v1 = A.values(after["targets.values"]!)
                var old: [[Int64]: Double] = [:], new: [[Int64]: Double] = [:]
                for k in 0..<v0.count { old[[p0[2 * k], p0[2 * k + 1]]] = v0[k] }
                for k in 0..<v1.count { new[[p1[2 * k], p1[2 * k + 1]]] = v1[k] }
                for (pair, value) in old where pair.contains(1) {
                    #expect(new[pair] == value, "\(a.name): target \(pair) changed")
                    checked += 1
                }
            }
            if ["nash-mtl", "gradvac", "excess-mtl", "pcd", "gradnorm"].contains(a.name) {
                #expect(checked > 0, "\(a.name): no per-task state found for task 1")
            }
        }
    }

    @Test("zero gradients and an all-zero Jacobian give finite results for every method")
    func zeroGradients() {
        let withZero = Self.randomJacobian(3, 5, seed: 4) * Tensor([1.0, 0.0, 1.0], shape: [3, 1])
        let cases = [withZero, Tensor.zeros([3, 5], dtype: .float64), Tensor.zeros([1, 5], dtype: .float64),
                     Tensor.zeros([2, 0], dtype: .float64)]
        for j in cases {
            for a in A.all() {
                for step in 0..<2 {
                    let out = a.aggregate(j, context: A.context(j.size(0), step: step))
                    #expect(A.values(out.update).allSatisfy { $0.isFinite }, "\(a.name) on \(j.shape)")
                    if let w = out.weights { #expect(w.allSatisfy { $0.isFinite }, "\(a.name) on \(j.shape): \(w)") }
                }
            }
        }
        // An all-zero Jacobian gives a zero update.
        for a in A.all() {
            let out = a.aggregate(Tensor.zeros([3, 4], dtype: .float64), context: A.context(3))
            #expect(A.values(out.update).allSatisfy { $0 == 0 }, "\(a.name)")
        }
    }

    @Test("T = 1: the task's own gradient (scaled only where the method scales)")
    func singleTask() {
        let j = Tensor([3.0, -4.0, 0.0, 12.0], shape: [1, 4])  // ‖g‖ = 13
        let g = A.values(j)
        let scale: [String: Double] = ["cagrad": 1.5, "nash-mtl": 1 / 13.0, "fairgrad": 1 / 13.0, "constant": 0.5]
        for a in A.all() {
            let out = a.aggregate(j, context: A.context(1, losses: [0.7]))
            let s = scale[a.name] ?? 1
            #expect(A.maxAbs(A.values(out.update), g.map { $0 * s }) < 1e-9, "\(a.name): \(A.values(out.update))")
            if let w = out.weights { #expect(abs(w[0] - s) < 1e-9, "\(a.name): weight \(w)") }
        }
    }

    @Test("a float32 Jacobian gives a float32 update")
    func float32() {
        let j = Self.randomJacobian(3, 5, seed: 8).to(dtype: .float32)
        for a in A.all() {
            let out = a.aggregate(j, context: A.context(3))
            #expect(out.update.dtype == .float32 && out.update.shape == [5], "\(a.name)")
        }
    }

    // MARK: State

    @Test("state dicts round-trip: a restored aggregator continues the exact same sequence")
    func stateRoundTrip() throws {
        let js = (0..<4).map { Self.randomJacobian(3, 5, seed: 100 + UInt64($0)) }
        for name in GradientAggregators.names {
            let a = try GradientAggregators.make(name, seed: 3)
            for k in 0..<2 { _ = a.aggregate(js[k], context: A.context(3, losses: [1, 2, 3].map { $0 / Double(k + 1) }, step: k)) }
            let b = try GradientAggregators.make(name, seed: 99)
            try b.loadStateDict(a.stateDict())
            for k in 2..<4 {
                let ctx = A.context(3, losses: [1, 2, 3].map { $0 / Double(k + 1) }, step: k)
                let ua = A.values(a.aggregate(js[k], context: ctx).update), ub = A.values(b.aggregate(js[k], context: ctx).update)
                #expect(ua == ub, "\(name) step \(k)")
            }
        }
    }

    @Test("Nash-MTL reuses α between solves (updateWeightsEvery) and solves for a new task")
    func nashUpdateEvery() {
        let a = NashMTLAggregator(maxNorm: 0, updateWeightsEvery: 3)
        let j0 = Self.randomJacobian(2, 4, seed: 1), j1 = Self.randomJacobian(2, 4, seed: 2)
        let w0 = a.aggregate(j0, context: A.context(2)).weights!
        #expect(a.aggregate(j1, context: A.context(2)).weights! == w0)
        #expect(a.aggregate(j1, context: A.context(2)).weights! == w0)
        #expect(a.aggregate(j1, context: A.context(2)).weights! != w0)  // step 3: solve again
        // A task never seen before forces a solve.
        let b = NashMTLAggregator(maxNorm: 0, updateWeightsEvery: 100)
        _ = b.aggregate(j0, context: A.context(2))
        let w = b.aggregate(j1, context: A.context(2, tasks: [0, 5])).weights!
        #expect(A.maxAbs(w, b.solve(gram: GradientGeometry(jacobian: j1).gram)) < 1e-9)
    }

    @Test("unknown aggregator names throw; every listed name builds")
    func registry() throws {
        for name in GradientAggregators.names { #expect(try GradientAggregators.make(name).name == name) }
        #expect(throws: HydraError.self) { try GradientAggregators.make("nope") }
    }

    // MARK: Geometry

    @Test("gradient geometry: cosines and condition number of G")
    func geometry() {
        let geometry = GradientGeometry(jacobian: A.matrix([[-4, 1, 1], [6, 1, 1]]))
        #expect(geometry.gram == [[18, -22], [-22, 38]])
        #expect(abs(geometry.cosines[0][1] - (-22 / (18.0 * 38).squareRoot())) < 1e-15)
        let root = (100.0 + 484).squareRoot()
        #expect(abs(geometry.conditionNumber - (28 + root) / (28 - root)) < 1e-9)
        #expect(geometry.pairwiseCosines.count == 1)
        let singular = GradientGeometry(jacobian: A.matrix([[1, 2], [2, 4]]))
        #expect(singular.conditionNumber == .infinity)
        #expect(abs(singular.cosines[0][1] - 1) < 1e-15)
        let zero = GradientGeometry(jacobian: A.matrix([[0, 0], [1, 0]]))
        #expect(zero.cosines[0][1] == 0 && zero.conditionNumber == .infinity)
    }
}
