import ArgumentParser
import Foundation
import HydraNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `hydranet compare`: which weighting method is best on this data, and is one multi-task
/// model better than one model per task? Trains every method for every seed (and with
/// `--single-task` one model per task), each in its own run folder, then prints the table
/// and writes compare.json, compare.md and compare.html. Stopped and started again, it
/// reuses the finished runs and resumes the interrupted one.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare weighting methods over seeds (and against single-task models) on the same data and settings.",
        usage: "hydranet compare [--methods <m1,m2,…>] [--seeds <n>] [--single-task] [<train options>]",
        discussion: "Takes every flag of 'train' (data, model, optimizer, epochs, …) except --weighting and --resume. "
            + "Runs go to OUTPUT/METHOD/seed-N (single-task baselines: OUTPUT/single-task-TASK/seed-N); run the same "
            + "command again to continue an interrupted comparison.")

    @Option(help: "Weighting methods to compare, comma-separated.")
    var methods = "equal,uncertainty,dwa,famo,pcgrad,upgrad,nash-mtl"

    @Option(help: "Seeds per method (the --seed value and the next ones).")
    var seeds = 3

    @Flag(help: "Also train one model per task: the baseline of Δm.")
    var singleTask = false

    @OptionGroup(title: "Training (the flags of 'train')") var train: Train

    func run() throws {
        guard train.training.resume == nil else {
            throw ValidationError("compare resumes interrupted runs by itself: run the same command again, without --resume")
        }
        var (base, _) = try train.makeConfiguration()
        // `train` defaults its output to runs/latest; a comparison's own default is runs/compare.
        base.outputDirectory = train.training.output ?? "runs/compare"
        let plan = ComparisonPlan(base: base, methods: commaList(methods), seeds: seeds, singleTask: singleTask,
                                  output: base.outputDirectory)
        let comparison: Comparison
        do {
            comparison = try Comparison(plan)
        } catch let error as HydraError {
            throw ValidationError(error.description)
        }
        let device = base.device
        print(engineSummary(device: device))
        let interrupts = InterruptHandler.stopping(comparison.stopRequest)
        defer { interrupts.cancel() }
        let result: HydraNet.ComparisonResult
        do {
            result = try comparison.run()
        } catch let stop as TrainingInterrupted {
            printError("comparison stopped" + (stop.statePath.map { "; the interrupted run's state is saved in \($0)" } ?? "")
                + ". Run the same command again to continue (finished runs are reused).")
            throw ExitCode(130)
        }
        print("")
        print(result.table)
        print("")
        print("Δm% and Δp% against \(result.baselineSource); mean ± std over seeds. compare.md, compare.json and "
              + "compare.html are in \(plan.output).")
    }
}
