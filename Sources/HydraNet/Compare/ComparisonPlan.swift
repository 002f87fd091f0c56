import Foundation

/// What `hydranet compare` trains: every weighting method for every seed (and, with
/// `singleTask`, one model per task as the Δm baseline), each in its own run folder under
/// `output`, all with the settings of `base` otherwise.
public struct ComparisonPlan: Sendable {
    /// One run of the plan.
    public struct Run: Sendable {
        /// The weighting method, or ``ComparisonPlan/singleTaskName`` for a baseline.
        public var method: String
        /// The task of a single-task baseline.
        public var task: String?
        public var seed: UInt64
        public var configuration: RunConfiguration
        public var folder: String { configuration.outputDirectory }
        /// E.g. `upgrad seed 1`, `single-task age seed 0`.
        public var label: String { method + (task.map { " \($0)" } ?? "") + " seed \(seed)" }
    }

    /// The row name of the single-task baselines.
    public static let singleTaskName = "single-task"

    public var base: RunConfiguration
    public var methods: [String]
    public var seeds: Int
    public var singleTask: Bool
    public var output: String

    public init(base: RunConfiguration, methods: [String], seeds: Int, singleTask: Bool, output: String) {
        self.base = base
        self.methods = methods
        self.seeds = seeds
        self.singleTask = singleTask
        self.output = output
    }

    /// The seeds: the base configuration's seed and the next `seeds − 1`.
    public var seedValues: [UInt64] { (0..<UInt64(max(seeds, 0))).map { base.training.seed &+ $0 } }

    public func validate() throws {
        guard !methods.isEmpty else { throw HydraError.invalidConfiguration("--methods needs at least one weighting method") }
        guard (1...100).contains(seeds) else { throw HydraError.invalidConfiguration("--seeds must be between 1 and 100") }
        for m in methods { try WeightingFactory.validateName(m) }
        let normalized = methods.map(WeightingFactory.normalized)
        if let twice = normalized.first(where: { m in normalized.filter { $0 == m }.count > 1 }) {
            throw HydraError.invalidConfiguration("method '\(twice)' is listed twice")
        }
        guard !normalized.contains("static") else {
            throw HydraError.invalidConfiguration("'static' needs per-task weights; compare the adaptive methods")
        }
        guard base.initialModel == nil, base.addTasks.isEmpty, base.resumeFrom == nil, base.tasks == nil else {
            throw HydraError.invalidConfiguration("compare trains new models from scratch: no --resume, fine-tuning or task subset")
        }
        var settings = base
        settings.weighting = "equal"
        try settings.validate()
    }

    /// Every run, seed by seed: the single-task baselines of a seed first (one per task of
    /// `tasks`), then each method.
    public func runs(tasks: [String]) -> [Run] {
        var runs: [Run] = []
        for seed in seedValues {
            if singleTask {
                for task in tasks {
                    var c = base
                    c.tasks = [task]
                    c.weighting = "equal"
                    c.gradientSource = nil
                    c.training.seed = seed
                    c.outputDirectory = path("\(Self.singleTaskName)-\(task)", "seed-\(seed)")
                    runs.append(Run(method: Self.singleTaskName, task: task, seed: seed, configuration: c))
                }
            }
            for method in methods.map(WeightingFactory.normalized) {
                var c = base
                c.weighting = method
                // An explicit gradient source applies to the gradient methods only.
                if WeightingFactory.lossMethods.contains(method) { c.gradientSource = nil }
                c.training.seed = seed
                c.outputDirectory = path(method, "seed-\(seed)")
                runs.append(Run(method: method, task: nil, seed: seed, configuration: c))
            }
        }
        return runs
    }

    func path(_ parts: String...) -> String {
        parts.reduce(output) { ($0 as NSString).appendingPathComponent($1) }
    }

    /// The settings every run shares (not the method, seed, task or folder), as text: a
    /// comparison folder holds runs of one setting only.
    public var sharedSettings: String {
        var c = base
        c.weighting = ""
        c.training.seed = 0
        c.outputDirectory = ""
        c.cacheDirectory = ""
        c.resumeFrom = nil
        // How a run is shown or logged does not change its results.
        let display = RunConfiguration()
        c.progress = display.progress
        c.logEvery = display.logEvery
        c.tensorboardDirectory = display.tensorboardDirectory
        c.writesTensorBoard = display.writesTensorBoard
        return String(describing: c)
    }
}
