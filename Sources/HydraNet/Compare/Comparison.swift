import Foundation
import Torch

/// Runs a ``ComparisonPlan`` one run after another and tabulates it (``ComparisonResult``):
/// `compare.json`, `compare.md` and `compare.html` in the plan's output folder.
///
/// Restartable: a run folder holding `test-metrics.json` (a run's last file) is finished and
/// reused as it is; one holding `state.safetensors` only was interrupted and is resumed
/// from it; any other starts afresh. So the whole comparison can be stopped at any moment
/// (even killed) and started again with the same command.
public final class Comparison {
    public let plan: ComparisonPlan
    /// Progress lines (each run's lines prefixed with its label).
    public var log: (String) -> Void
    /// Set from any thread (e.g. on Ctrl-C): the run under way stops after its current step
    /// and saves its state (``TrainingInterrupted``); between runs, the next is not started.
    public let stopRequest = StopRequest()

    public init(_ plan: ComparisonPlan, log: @escaping (String) -> Void = writeLine) throws {
        try plan.validate()
        self.plan = plan
        self.log = log
    }

    /// What became of one run when ``run()`` came to it.
    public enum RunStatus: String, Sendable {
        case trained, resumed, reused
    }

    /// Trains (or reuses) every run, then writes and returns the comparison.
    @discardableResult
    public func run() throws -> ComparisonResult {
        let fm = FileManager.default
        try fm.createDirectory(atPath: plan.output, withIntermediateDirectories: true)
        try checkSettings()
        let tasks = try plan.base.data.files(seed: plan.base.training.seed, cacheDirectory: plan.base.cacheDirectory,
                                             log: { _ in }).tasks.map(\.name)
        let runs = plan.runs(tasks: tasks)
        log("compare: \(runs.count) runs (\(plan.methods.count) methods × \(plan.seeds) seeds"
            + (plan.singleTask ? " + \(tasks.count) single-task baselines × \(plan.seeds) seeds" : "") + ") in \(plan.output)")
        for (i, run) in runs.enumerated() {
            if stopRequest.isRequested {
                throw TrainingInterrupted(epoch: 0, stepsDone: 0, stepsPerEpoch: 0, globalStep: 0, statePath: nil)
            }
            let status = try execute(run, index: i + 1, of: runs.count)
            log("[\(i + 1)/\(runs.count)] \(run.label): \(status.rawValue) (\(run.folder))")
        }
        let result = try ComparisonResult(plan: plan, runs: runs, tasks: tasks)
        try result.write(to: plan.output)
        log("wrote compare.json, compare.md and compare.html in \(plan.output)")
        return result
    }

    /// Trains one run, resumes it or reuses it.
    func execute(_ run: ComparisonPlan.Run, index: Int, of total: Int) throws -> RunStatus {
        func file(_ name: String) -> String { (run.folder as NSString).appendingPathComponent(name) }
        let fm = FileManager.default
        if fm.fileExists(atPath: file("test-metrics.json")) && fm.fileExists(atPath: file("report.json")) {
            return .reused
        }
        var c = run.configuration
        let status: RunStatus
        if fm.fileExists(atPath: file("state.safetensors")) {
            c.resumeFrom = file("state.safetensors")
            status = .resumed
        } else {
            status = .trained
        }
        log("[\(index)/\(total)] \(run.label): \(status == .resumed ? "resuming from its saved state" : "training")")
        let prefix = "[\(run.label)] "
        let experiment = try ExperimentRun(c, log: { [log] in log(prefix + $0) })
        experiment.stopRequest = stopRequest
        try experiment.run()
        return status
    }

    /// Refuses an output folder that holds a comparison with other shared settings (its
    /// finished runs would be reused as if they were this one's).
    func checkSettings() throws {
        let path = (plan.output as NSString).appendingPathComponent("compare-settings.txt")
        let settings = plan.sharedSettings + "\n"
        if let existing = try? String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) {
            guard existing == settings else {
                throw HydraError.invalidConfiguration("\(plan.output) holds a comparison trained with other settings "
                    + "(see \(path)); its runs cannot be reused: choose another --output or remove that folder")
            }
            return
        }
        try AtomicFile.write(Data(settings.utf8), to: path)
    }
}
