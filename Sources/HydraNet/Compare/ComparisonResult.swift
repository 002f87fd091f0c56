import Foundation
import Torch

/// Mean and sample standard deviation (n − 1; 0 for a single value) over seeds.
public struct SeedStatistic: Sendable, Codable, Equatable {
    public var mean: Double
    public var std: Double
    public var count: Int

    public init(_ values: [Double]) {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        let m = mean
        std = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
    }
}

/// The outcome of a ``Comparison`` (`compare.json`): every run's test metrics, Δm and time,
/// and per method (and for the single-task baselines) their mean ± std over seeds.
///
/// Δm% (paper convention, lower is better) and Δp% (LibMTL's, higher is better; 100 × the
/// fraction of ``DeltaM/libMTL(_:baseline:)``) are computed on **all** test metrics of every
/// task against the single-task baseline: the mean over seeds of each task's single-task
/// model (or, without single-task runs, a `--baseline` file; else none).
public struct ComparisonResult: Sendable, Codable {
    public struct RunResult: Sendable, Codable {
        public var method: String
        public var task: String?
        public var seed: UInt64
        public var folder: String
        /// Test metrics (`task/metric`).
        public var metrics: [String: Double]
        /// Training time (validation included): the sum of the epochs' wall times.
        public var seconds: Double
    }

    /// One row of the table: a method (or the single-task baselines, each seed's task models
    /// taken together) over its seeds.
    public struct Row: Sendable, Codable {
        public var method: String
        public var seeds: Int
        public var metrics: [String: SeedStatistic]
        public var deltaM: SeedStatistic?
        public var deltaP: SeedStatistic?
        /// Per seed: one run (single-task: the sum over its task models).
        public var seconds: SeedStatistic
        /// Δm% per seed, in seed order (what ``deltaM`` summarises).
        public var deltaMPerSeed: [Double]?
        /// Mean over seeds of each task's primary validation metric per epoch (for curves).
        public var validationCurves: [String: [Double]]
    }

    public var tasks: [String]
    /// The metric of each task shown in the table (its first: MAE, accuracy, mean F1).
    public var primaryMetrics: [String]
    /// Whether each metric is better higher.
    public var higherIsBetter: [String: Bool]
    /// The Δm baseline (`task/metric`), and where it comes from.
    public var baseline: [String: Double]?
    public var baselineSource: String
    public var rows: [Row]
    public var runs: [RunResult]

    /// Reads the finished runs of `plan` (their `report.json`) and tabulates them.
    public init(plan: ComparisonPlan, runs planned: [ComparisonPlan.Run], tasks: [String]) throws {
        self.tasks = tasks
        var directions: [String: Bool] = [:]
        var primary: [String: String] = [:]
        var results: [RunResult] = []
        var curves: [String: [[String: [Double]]]] = [:]  // method → per run: task → curve
        for run in planned {
            let (test, epochs) = try Self.readReport(run.folder)
            for m in test {
                directions[m.key] = m.higherIsBetter
                if primary[m.task] == nil { primary[m.task] = m.key }
            }
            results.append(RunResult(method: run.method, task: run.task, seed: run.seed, folder: run.folder,
                                     metrics: Dictionary(test.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                     seconds: epochs.map(\.seconds).reduce(0, +)))
            var curve: [String: [Double]] = [:]
            for task in tasks {
                let key = primary[task]
                curve[task] = key.map { k in epochs.compactMap { $0.validation?[k] } } ?? []
            }
            curves[run.method, default: []].append(curve)
        }
        higherIsBetter = directions
        primaryMetrics = tasks.compactMap { primary[$0] }
        runs = results

        // The baseline: the single-task models' mean over seeds (each task's own metrics only).
        let single = results.filter { $0.method == ComparisonPlan.singleTaskName }
        if !single.isEmpty {
            var values: [String: [Double]] = [:]
            for r in single {
                for (key, v) in r.metrics where r.task.map({ key.hasPrefix($0 + "/") }) ?? false { values[key, default: []].append(v) }
            }
            baseline = values.mapValues { SeedStatistic($0).mean }
            baselineSource = "single-task models (mean over \(plan.seeds) seed\(plan.seeds == 1 ? "" : "s"))"
        } else if let file = plan.base.baselineFile {
            baseline = try DeltaM.loadBaseline(file)
            baselineSource = "the baseline file \(file)"
        } else {
            baseline = nil
            baselineSource = "none (run with --single-task, or give --baseline)"
        }

        // Rows: the single-task baselines first, then the methods in the order given.
        var methodOrder = plan.methods.map(WeightingFactory.normalized)
        if !single.isEmpty { methodOrder.insert(ComparisonPlan.singleTaskName, at: 0) }
        var rows: [Row] = []
        for method in methodOrder {
            // Per seed, one set of metrics and one time (single-task: its task models together).
            var perSeed: [(metrics: [String: Double], seconds: Double)] = []
            for seed in plan.seedValues {
                let parts = results.filter { $0.method == method && $0.seed == seed }
                guard !parts.isEmpty else { continue }
                var merged: [String: Double] = [:]
                for p in parts {
                    for (k, v) in p.metrics where p.task.map({ k.hasPrefix($0 + "/") }) ?? true { merged[k] = v }
                }
                perSeed.append((merged, parts.map(\.seconds).reduce(0, +)))
            }
            let keys = Set(perSeed.flatMap(\.metrics.keys))
            var stats: [String: SeedStatistic] = [:]
            for key in keys { stats[key] = SeedStatistic(perSeed.compactMap { $0.metrics[key] }) }
            var dm: [Double] = [], dp: [Double] = []
            if let baseline {
                for s in perSeed {
                    let values = s.metrics.map { MetricValue(task: String($0.key.split(separator: "/").first ?? ""),
                                                             name: String($0.key.split(separator: "/").dropFirst().joined(separator: "/")),
                                                             value: $0.value, higherIsBetter: directions[$0.key] ?? true) }
                    if let m = try? DeltaM.percent(values, baseline: baseline), let p = try? DeltaM.libMTL(values, baseline: baseline) {
                        dm.append(m)
                        dp.append(100 * p)
                    }
                }
            }
            var meanCurves: [String: [Double]] = [:]
            for task in tasks {
                let all = (curves[method] ?? []).compactMap { $0[task] }.filter { !$0.isEmpty }
                guard let length = all.map(\.count).min(), length > 0 else { continue }
                meanCurves[task] = (0..<length).map { e in all.map { $0[e] }.reduce(0, +) / Double(all.count) }
            }
            rows.append(Row(method: method, seeds: perSeed.count, metrics: stats,
                            deltaM: dm.isEmpty ? nil : SeedStatistic(dm), deltaP: dp.isEmpty ? nil : SeedStatistic(dp),
                            seconds: SeedStatistic(perSeed.map(\.seconds)), deltaMPerSeed: dm.isEmpty ? nil : dm,
                            validationCurves: meanCurves))
        }
        self.rows = rows
    }

    /// A finished run's test metrics (in report order, with their directions) and epoch reports.
    static func readReport(_ folder: String) throws -> ([MetricValue], [EpochReport]) {
        let path = (folder as NSString).appendingPathComponent("report.json")
        struct Report: Decodable {
            var epochs: [EpochReport]
            var test: EvaluationReport
        }
        do {
            let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            return (report.test.metrics, report.epochs)
        } catch {
            throw HydraError.invalidData("cannot read the results of \(folder) (\(path)): \(error)")
        }
    }

    /// Writes `compare.json`, `compare.md` and `compare.html` into `folder`, crash-safely.
    public func write(to folder: String) throws {
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(encoder.encode(self), to: path("compare.json"))
        try AtomicFile.write(Data(markdown.utf8), to: path("compare.md"))
        try AtomicFile.write(Data(CompareReport(self, title: folder).html().utf8), to: path("compare.html"))
    }
}
