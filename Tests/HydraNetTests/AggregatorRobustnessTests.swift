import Foundation
import HydraNet
import Testing
import Torch

/// Ill-conditioned, nearly dependent and extremely scaled gradients: every method stays
/// finite, and the methods with a defining property keep it.
@Suite("Aggregator robustness")
struct AggregatorRobustnessTests {
    typealias A = AggregatorTesting

    static func jacobians() -> [(String, Tensor)] {
        var gen = AggregatorGenerator(seed: 77)
        func randn(_ t: Int, _ p: Int) -> [[Double]] { (0..<t).map { _ in (0..<p).map { _ in gen.normal() } } }
        var out: [(String, Tensor)] = []
        for t in [2, 5, 12] {
            var near = randn(t, 10)
            near[t - 1] = near[0].map { $0 * (1 + 1e-9 * gen.normal()) }
            out.append(("nearly duplicated, T=\(t)", A.matrix(near)))
            out.append(("scaled 1e-150, T=\(t)", A.matrix(randn(t, 10).map { $0.map { $0 * 1e-150 } })))
            out.append(("scaled 1e+150, T=\(t)", A.matrix(randn(t, 10).map { $0.map { $0 * 1e150 } })))
            var mixed = randn(t, 10)
            for i in 0..<t { mixed[i] = mixed[i].map { $0 * Foundation.pow(10, Double(i * 12 / max(t - 1, 1)) - 6) } }
            out.append(("norms 1e-6…1e6, T=\(t)", A.matrix(mixed)))
            var opposite = randn(t, 10)
            for i in stride(from: 1, to: t, by: 2) { opposite[i] = opposite[i - 1].map { -$0 } }
            out.append(("opposite pairs, T=\(t)", A.matrix(opposite)))
            out.append(("rank 1, T=\(t)", A.matrix((0..<t).map { i in randn(1, 10)[0].map { _ in 0 } }.enumerated().map { i, _ in
                [Double](repeating: Double(i % 3) - 1, count: 10) })))
        }
        out.append(("T=20 wide", A.matrix(randn(20, 6))))
        return out
    }

    @Test("every method is finite on ill-conditioned, dependent and extreme-scale Jacobians")
    func finite() {
        for (kind, j) in Self.jacobians() {
            for a in A.all() {
                let t = j.size(0)
                let out = a.aggregate(j, context: A.context(t, losses: (0..<t).map { 1 + Double($0) }))
                #expect(A.values(out.update).allSatisfy { $0.isFinite }, "\(a.name) on \(kind)")
                if let w = out.weights { #expect(w.allSatisfy { $0.isFinite }, "\(a.name) on \(kind): \(w)") }
            }
        }
    }

    @Test("UPGrad and DualProj updates conflict with no task; MGDA (exact) satisfies its KKT conditions")
    func definingProperties() {
        for (kind, j) in Self.jacobians() {
            let t = j.size(0)
            let g = GradientGeometry(jacobian: j).gram
            let scale = g.indices.map { g[$0][$0] }.max()!
            for a in [UPGradAggregator(), DualProjAggregator()] as [any GradientAggregator] {
                let w = a.aggregate(j, context: A.context(t)).weights!
                // gᵢ·d = (Gw)ᵢ ≥ 0 up to the regularisation: the QP's KKT conditions give
                // (G/tr G + 1e-4·I)v ≥ 0, so gᵢ·d ≥ −1e-4·tr(G)·Σ|wₖ|.
                let trace = g.indices.reduce(0) { $0 + g[$1][$1] }
                for i in 0..<t {
                    let gd = zip(g[i], w).reduce(0) { $0 + $1.0 * $1.1 }
                    let bound = 1e-4 * trace * w.map(abs).reduce(0, +) * 1.001 + 1e-12 * scale
                    #expect(gd >= -bound, "\(a.name) on \(kind): g\(i)·d = \(gd)")
                }
            }
            let w = MGDAAggregator(solver: .exact).aggregate(j, context: A.context(t)).weights!
            #expect(abs(w.reduce(0, +) - 1) < 1e-9 && w.allSatisfy { $0 >= 0 }, "mgda on \(kind)")
            let gw = g.map { zip($0, w).reduce(0) { $0 + $1.0 * $1.1 } }
            let value = zip(w, gw).reduce(0) { $0 + $1.0 * $1.1 }
            // Optimality on the simplex: (Gw)ᵢ ≥ wᵀGw for every i.
            for i in 0..<t { #expect(gw[i] >= value - 1e-9 * scale, "mgda on \(kind): (Gw)\(i) = \(gw[i]) < \(value)") }
        }
    }

    @Test("every aggregator gives a finite update with many tasks (T = 40); times printed, not asserted")
    func manyTasks() {
        var gen = AggregatorGenerator(seed: 5)
        let t = 40
        let j = Tensor((0..<(t * 60)).map { _ in gen.normal() }, shape: [t, 60])
        var lines: [String] = []
        for a in A.all() where a.name != "constant" {
            let start = Date()
            let out = a.aggregate(j, context: A.context(t, losses: [Double](repeating: 1, count: t)))
            let seconds = Date().timeIntervalSince(start)
            lines.append("\(a.name): \(String(format: "%.1f", seconds * 1000)) ms")
            #expect(A.values(out.update).allSatisfy { $0.isFinite }, "\(a.name)")
        }
        print("T = 40 aggregation times (debug build): " + lines.joined(separator: ", "))
    }
}
