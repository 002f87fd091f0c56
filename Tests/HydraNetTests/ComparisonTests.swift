import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport

/// ``Comparison`` in this process: an interrupted run is resumed from its state, a folder of
/// other settings is refused, and the table's statistics.
@Suite("comparison")
struct ComparisonTests {
    static func plan(_ scratch: ScratchFolder, epochs: Int = 2) -> ComparisonPlan {
        var base = ExperimentRunTests.configuration(scratch, epochs: epochs)
        base.data = .synthetic(count: 40, size: 16)
        return ComparisonPlan(base: base, methods: ["equal"], seeds: 1, singleTask: false, output: scratch.path("cmp"))
    }

    @Test("a run stopped after its first epoch is resumed from its state.safetensors, not trained again")
    func resumesInterruptedRun() throws {
        let scratch = try ScratchFolder("comparison-resume")
        defer { scratch.cleanUp() }
        let plan = Self.plan(scratch)
        let run = try #require(plan.runs(tasks: ["age", "gender", "race"]).first)
        #expect(run.folder == scratch.path("cmp/equal/seed-7") && run.configuration.weighting == "equal")
        // The interruption: the run's own training, stopped by an error after epoch 1.
        struct Stop: Error {}
        let experiment = try ExperimentRun(run.configuration, log: { _ in })
        experiment.onEpoch = { if $0.epoch == 1 { throw Stop() } }
        #expect(throws: Stop.self) { try experiment.run() }
        let files = RunFiles(run.folder)
        #expect(files.exists("state.safetensors") && !files.exists("test-metrics.json"))

        var lines: [String] = []
        let result = try Comparison(plan, log: { lines.append($0) }).run()
        #expect(lines.contains { $0.contains("equal seed 7: resuming from its saved state") }, "\(lines)")
        #expect(lines.contains { $0.contains("resumed from") && $0.contains("after epoch 1") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("[1/1] equal seed 7: resumed") }, "\(lines)")
        #expect(try files.epochReports().map(\.epoch) == [1, 2])
        #expect(result.rows.map(\.method) == ["equal"] && result.baseline == nil && result.rows[0].deltaM == nil)
        #expect(result.table.contains("| equal (1) |") || result.table.contains("| equal (1)"), "\(result.table)")

        // Again: everything reused.
        lines = []
        try Comparison(plan, log: { lines.append($0) }).run()
        #expect(lines.contains { $0.hasPrefix("[1/1] equal seed 7: reused") }, "\(lines)")

        // Other shared settings in the same folder: refused, nothing reused.
        let other = Self.plan(scratch, epochs: 3)
        #expect { try Comparison(other, log: { _ in }).run() } throws: { "\($0)".contains("other settings") }
    }

    @Test("mean and sample standard deviation over seeds; a rounded-to-zero mean prints without a sign flip")
    func statistics() {
        let s = SeedStatistic([1, 2, 3, 6])
        #expect(s.mean == 3 && s.count == 4)
        #expect(abs(s.std - (14.0 / 3).squareRoot()) < 1e-12)
        #expect(SeedStatistic([5]).std == 0)
        #expect(ComparisonResult.format(SeedStatistic([-1e-9, 1e-10]), signed: true, decimals: 2).hasPrefix("+0.00 ± "))
    }

    @Test("plans: methods validated, single-task runs first in each seed, seeds counted from --seed")
    func plans() throws {
        let scratch = try ScratchFolder("comparison-plan")
        defer { scratch.cleanUp() }
        var plan = Self.plan(scratch)
        plan.methods = ["UPGrad", "equal"]
        plan.seeds = 2
        plan.singleTask = true
        try plan.validate()
        let runs = plan.runs(tasks: ["age", "gender"])
        #expect(runs.map(\.label) == ["single-task age seed 7", "single-task gender seed 7", "upgrad seed 7", "equal seed 7",
                                      "single-task age seed 8", "single-task gender seed 8", "upgrad seed 8", "equal seed 8"])
        #expect(runs[0].configuration.tasks == ["age"] && runs[0].configuration.weighting == "equal")
        #expect(runs[0].folder == scratch.path("cmp/single-task-age/seed-7"))
        for bad in [["equal", "Equal"], ["static"], ["nonsense"], []] {
            plan.methods = bad
            #expect(throws: HydraError.self) { try plan.validate() }
        }
    }
}
