import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport

/// ``RunConfiguration/tasks``: a run on some of the data's tasks (a single-task baseline).
@Suite("task subset")
struct TaskSubsetTests {
    @Test("a run on one of the data's tasks has one head and reports that task only")
    func singleTask() throws {
        let scratch = try ScratchFolder("subset")
        defer { scratch.cleanUp() }
        var c = ExperimentRunTests.configuration(scratch, epochs: 1)
        c.tasks = ["gender"]
        c.weighting = "equal"
        let run = try ExperimentRun(c, log: { _ in })
        #expect(run.model.tasks.map(\.name) == ["gender"])
        try run.run()
        let metrics = try RunFiles(c.outputDirectory).decode([String: Double].self, "test-metrics.json")
        #expect(Set(metrics.keys) == ["gender/accuracy", "gender/f1", "gender/auroc"])
    }

    @Test("unknown, repeated or empty task lists are refused with the data's tasks named")
    func refused() throws {
        let scratch = try ScratchFolder("subset-bad")
        defer { scratch.cleanUp() }
        var c = ExperimentRunTests.configuration(scratch, epochs: 1)
        c.tasks = ["height"]
        #expect { _ = try ExperimentRun(c, log: { _ in }) } throws: { error in
            "\(error)".contains("cannot train task 'height'") && "\(error)".contains("age, gender, race")
        }
        for bad in [[String](), ["age", "age"]] {
            c.tasks = bad
            #expect(throws: HydraError.self) { try c.validate() }
        }
    }
}
