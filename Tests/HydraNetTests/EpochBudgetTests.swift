import HydraNet
import Testing

@Suite("EpochBudget: a time budget as an epoch count")
struct EpochBudgetTests {
    @Test("the planned epochs are the most whose estimate fits in 95 % of the budget, at least one")
    func arithmetic() {
        // 100 steps of 0.5 s + 10 s validation + 2 s saves = 62 s per epoch.
        var plan = EpochBudget(budget: 600, stepSeconds: 0.5, stepsPerEpoch: 100, validationSeconds: 10, saveSeconds: 2)
        #expect(plan.epochSeconds == 62)
        #expect(plan.epochs == 9)  // 570 / 62 = 9.19
        plan.budget = 62 * 10 / 0.95 + 1
        #expect(plan.epochs == 10)
        plan.budget = 1
        #expect(plan.epochs == 1, "a budget shorter than an epoch still trains one")
        plan.stepSeconds = .nan
        #expect(plan.epochs == 1)
        let instant = EpochBudget(budget: EpochBudget.maxBudget, stepSeconds: 1e-300, stepsPerEpoch: 1, validationSeconds: 0,
                                  saveSeconds: 0)
        #expect(instant.epochs == TrainingConfiguration.maxEpochs, "an epoch estimated at ~0 s plans \(instant.epochs)")
        #expect(!EpochBudget(budget: 1e300, stepSeconds: 1, stepsPerEpoch: 1, validationSeconds: 0, saveSeconds: 0).summary.isEmpty)
        let summary = EpochBudget(budget: 1200, stepSeconds: 0.25, stepsPerEpoch: 200, validationSeconds: 6, saveSeconds: 1).summary
        #expect(summary.hasPrefix("time budget 20 min: 0.250 s per training step × 200 steps"), "\(summary)")
        #expect(summary.contains("→ 20 epochs") && summary.contains("--epochs 20"), "\(summary)")
    }

    @Test("budgets parse with units, bare numbers are minutes, nonsense is nil")
    func parsing() {
        #expect(EpochBudget.parse("90s") == 90)
        #expect(EpochBudget.parse("20m") == 1200)
        #expect(EpochBudget.parse("20min") == 1200)
        #expect(EpochBudget.parse(" 1.5h ") == 5400)
        #expect(EpochBudget.parse("20") == 1200)
        #expect(EpochBudget.parse("0.5") == 30)
        #expect(EpochBudget.parse("366d") == nil && EpochBudget.parse("8784h") == EpochBudget.maxBudget)
        for bad in ["", "0", "-5m", "soon", "nan", "inf", "m", "5 parsecs", "1e400s", "1e300m", "8785h"] {
            #expect(EpochBudget.parse(bad) == nil, "'\(bad)' parsed")
        }
    }

    @Test("epoch counts and budgets out of range are refused by validation, not trapped on")
    func bounds() {
        var c = RunConfiguration()
        c.training.epochs = TrainingConfiguration.maxEpochs + 1
        #expect(throws: HydraError.self) { try c.validate() }
        c.training.epochs = 3
        c.timeBudget = EpochBudget.maxBudget * 2
        #expect(throws: HydraError.self) { try c.validate() }
        c.timeBudget = -1
        #expect(throws: HydraError.self) { try c.validate() }
        c.timeBudget = 60
        #expect(throws: Never.self) { try c.validate() }
    }
}
