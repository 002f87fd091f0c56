import HydraNet
import Testing
import Torch

/// torchjd's known answers (tests/unit/aggregation/test_values.py, and the values its docs
/// print) for J = [[−4, 1, 1], [6, 1, 1]], G = [[18, −22], [−22, 38]]; tolerance 1e-3 as the
/// issue asks (the published values have 4 digits).
@Suite("Aggregator known answers")
struct AggregatorKnownAnswerTests {
    static let j = AggregatorTesting.matrix([[-4, 1, 1], [6, 1, 1]])

    func run(_ a: any GradientAggregator) -> (update: [Double], weights: [Double]?) {
        let out = a.aggregate(Self.j, context: AggregatorTesting.context(2))
        #expect(out.update.dtype == .float64 && out.update.shape == [3])
        return (AggregatorTesting.values(out.update), out.weights)
    }

    func expectNear(_ actual: [Double]?, _ expected: [Double], _ what: String, tolerance: Double = 1e-3,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else { Issue.record("\(what): no weights", sourceLocation: sourceLocation); return }
        #expect(AggregatorTesting.maxAbs(actual, expected) <= tolerance, "\(what): \(actual) vs \(expected)",
                sourceLocation: sourceLocation)
    }

    @Test("Mean, Sum and Constant")
    func basic() {
        let mean = run(MeanAggregator())
        expectNear(mean.weights, [0.5, 0.5], "mean weights")
        expectNear(mean.update, [1, 1, 1], "mean update")
        expectNear(run(SumAggregator()).update, [2, 2, 2], "sum update")
        expectNear(run(ConstantAggregator(weights: [1, 2])).update, [8, 3, 3], "constant update")
    }

    @Test("MGDA [0.6, 0.4] → [0, 1, 1], with both solvers")
    func mgda() {
        let out = run(MGDAAggregator())
        expectNear(out.weights, [0.6, 0.4], "weights")
        expectNear(out.update, [0, 1, 1], "update")
        let exact = run(MGDAAggregator(solver: .exact))
        expectNear(exact.weights, [0.6, 0.4], "exact weights", tolerance: 1e-12)
    }

    @Test("UPGrad [1.1109, 0.7894] → [0.2929, 1.9004, 1.9004]")
    func upgrad() {
        let out = run(UPGradAggregator())
        expectNear(out.weights, [1.1109, 0.7894], "weights")
        expectNear(out.update, [0.2929, 1.9004, 1.9004], "update")
    }

    @Test("DualProj [0.6109, 0.5]")
    func dualproj() {
        expectNear(run(DualProjAggregator()).weights, [0.6109, 0.5], "weights")
    }

    @Test("IMTL-G [0.5923, 0.4077] → [0.0767, 1, 1]")
    func imtlg() {
        let out = run(IMTLGAggregator())
        expectNear(out.weights, [0.5923, 0.4077], "weights")
        expectNear(out.update, [0.0767, 1, 1], "update")
    }

    @Test("Aligned-MTL [0.5591, 0.4083]")
    func alignedMTL() {
        expectNear(run(AlignedMTLAggregator()).weights, [0.5591, 0.4083], "weights")
    }

    @Test("CAGrad (c = 0.5) [0.7041, 0.5]")
    func cagrad() {
        expectNear(run(CAGradAggregator(c: 0.5)).weights, [0.7041, 0.5], "weights")
    }

    @Test("Nash-MTL → [0.0542, 0.7061, 0.7061]")
    func nash() {
        let out = run(NashMTLAggregator())
        expectNear(out.update, [0.0542, 0.7061, 0.7061], "update")
        // Clipped to ‖d‖ = max_norm = 1.
        #expect(abs(AggregatorTesting.norm(out.update) - 1) < 1e-9)
    }

    @Test("FairGrad (α = 1) [0.5915, 0.4071]")
    func fairgrad() {
        expectNear(run(FairGradAggregator(alpha: 1)).weights, [0.5915, 0.4071], "weights")
    }

    @Test("PCGrad and GradVac (first step) [2.2222, 1.5789]")
    func pcgradGradVac() {
        expectNear(run(PCGradAggregator()).weights, [2.2222, 1.5789], "pcgrad weights")
        expectNear(run(GradVacAggregator()).weights, [2.2222, 1.5789], "gradvac weights")
    }

    @Test("ConFIG → [0.1588, 2.0706, 2.0706]")
    func config() {
        expectNear(run(ConFIGAggregator()).update, [0.1588, 2.0706, 2.0706], "update")
    }
}
