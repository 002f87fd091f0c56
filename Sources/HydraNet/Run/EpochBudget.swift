import Foundation
import HydraData
import Torch

/// How many epochs fit in a wall-clock budget on this machine (``RunConfiguration/timeBudget``).
///
/// A learning-rate schedule such as cosine needs the run's length before the first step,
/// so the budget is turned into an epoch count up front: a scratch copy of the model
/// (same architecture, tasks, frozen parameters, precision and layout; its own weights,
/// so the run's seeded initialisation and data order are untouched) trains a few steps on
/// real training batches through the run's own data pipeline and augmentation, scores part
/// of the validation split, and saves the files an epoch saves. The run then trains that
/// many epochs, as if `--epochs` had been given: the count is logged and recorded in the
/// training state, so a resumed run keeps it, and `--epochs N` repeats the run exactly.
public struct EpochBudget: Sendable, Equatable {
    /// The budget for the epochs (training, validation and the per-epoch saves), in seconds.
    public var budget: Double
    /// Measured seconds per training step (data loading included).
    public var stepSeconds: Double
    /// Training steps per epoch.
    public var stepsPerEpoch: Int
    /// Estimated seconds of one validation pass over the whole validation split.
    public var validationSeconds: Double
    /// Measured seconds of an epoch's saves (checkpoints and training state).
    public var saveSeconds: Double
    /// The share of the budget planned for (the rest absorbs the measurement's error).
    public static let plannedShare = 0.95

    public init(budget: Double, stepSeconds: Double, stepsPerEpoch: Int, validationSeconds: Double, saveSeconds: Double) {
        self.budget = budget
        self.stepSeconds = stepSeconds
        self.stepsPerEpoch = stepsPerEpoch
        self.validationSeconds = validationSeconds
        self.saveSeconds = saveSeconds
    }

    /// The estimated seconds of one epoch.
    public var epochSeconds: Double { Double(stepsPerEpoch) * stepSeconds + validationSeconds + saveSeconds }

    /// The most whole epochs whose estimated time fits in ``plannedShare`` of the budget;
    /// at least 1 (a budget shorter than one epoch still trains one), at most
    /// ``TrainingConfiguration/maxEpochs``.
    public var epochs: Int {
        let fit = budget * Self.plannedShare / epochSeconds
        guard epochSeconds > 0, !fit.isNaN else { return 1 }
        return Int(Swift.min(Swift.max(fit.rounded(.down), 1), Double(TrainingConfiguration.maxEpochs)))
    }

    /// One line for the run's log.
    public var summary: String {
        String(format: "time budget %@: %.3f s per training step × %d steps + %.1f s validation + %.1f s saves ≈ %.0f s per epoch "
            + "→ %d epochs (about %@; repeat exactly with --epochs %d)",
               Self.format(budget), stepSeconds, stepsPerEpoch, validationSeconds, saveSeconds, epochSeconds, epochs,
               Self.format(Double(epochs) * epochSeconds), epochs)
    }

    /// `90 s`, `20 min`, `1 h 30 min`.
    static func format(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e9 else { return String(format: "%.3g s", seconds) }
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s) s" }
        if s < 7200 { return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }

    /// The longest budget accepted: a year.
    public static let maxBudget = 366.0 * 24 * 3600

    /// Parses a budget: a number with a unit (`90s`, `20m`, `20min`, `1.5h`) or a bare number
    /// of minutes. Nil for anything else, zero, negative, not finite or over ``maxBudget``.
    public static func parse(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("min", 60), ("s", 1), ("m", 60), ("h", 3600)]
        var scale = 60.0, number = t
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            scale = factor
            number = String(t.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            break
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale <= maxBudget else { return nil }
        return value * scale
    }

    /// Measures this machine's speed on `model`'s architecture (see the type's description)
    /// and returns the plan for `budget` seconds.
    ///
    /// - Parameters:
    ///   - spec: the run's model description (``ModelSpec/makeModel(generator:)`` rebuilds it).
    ///   - model: the run's model: its tasks (losses, standardisation) and which parameters
    ///     train are copied; nothing of it is changed.
    ///   - weighting: a fresh weighting method of the run's kind, used by the scratch trainer.
    ///   - configuration: the run's training configuration (optimizer, precision, layout).
    ///   - train: the run's training loader options and rows; `validation` the validation rows.
    public static func measure(budget: Double, spec: ModelSpec, model: HydraNetModel, weighting: WeightingMethod,
                               configuration: TrainingConfiguration, data: DecodedDataset, train: [Int],
                               validation: [Int], options: LoaderOptions, device: Device) throws -> EpochBudget {
        let scratch = try model.rebuilt(spec: spec, device: device)
        let trains = Dictionary(model.namedParameters().map { ($0.0, $0.1.requiresGrad) }, uniquingKeysWith: { a, _ in a })
        for (name, p) in scratch.namedParameters() where trains[name] == false { p.requiresGrad = false }
        var c = configuration
        c.schedule = nil
        let trainer = try Trainer(model: scratch, weighting: weighting, configuration: c)

        // Training: the run's pipeline (augmentation included), its own data order.
        var trainOptions = options
        trainOptions.seed = options.seed &+ 0x9E37_79B9
        let loader = try DataLoader(data, rows: train, options: trainOptions)
        let stepsPerEpoch = loader.batchCount
        let columns = try trainer.columns(for: data.tasks)
        // The median step after a warm-up (the first steps build oneDNN's kernels and the
        // allocator's pools), each step timed from the end of the one before, so that waiting
        // for the next batch counts.
        let warmup = Swift.min(5, Swift.max(stepsPerEpoch - 1, 0)), timed = Swift.min(20, Swift.max(stepsPerEpoch - warmup, 1))
        scratch.enterTrainingMode()
        var times: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        for (i, batch) in loader.epoch(0).prefix(warmup + timed).enumerated() {
            _ = try trainer.step(batch, columns: columns)
            let now = DispatchTime.now().uptimeNanoseconds
            if i >= warmup { times.append(Double(now - last) / 1e9) }
            last = now
        }
        times.sort()
        let stepSeconds = times.isEmpty ? 0 : (times[(times.count - 1) / 2] + times[times.count / 2]) / 2

        // Validation: part of the split, scored twice (the first pass warms up), scaled up.
        var validationSeconds = 0.0
        if !validation.isEmpty {
            var evalOptions = options
            evalOptions.shard = nil
            evalOptions.shuffle = false
            evalOptions.dropLast = false
            evalOptions.augmentation = nil
            evalOptions.batchSize = Swift.max(options.batchSize, 256)
            let part = Array(validation.prefix(evalOptions.batchSize))
            let subset = try DataLoader(data, rows: part, options: evalOptions)
            _ = try trainer.evaluate(subset)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try trainer.evaluate(subset)
            validationSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 * Double(validation.count) / Double(part.count)
        }

        // The saves of an epoch: the best and last checkpoints and the training state.
        let folder = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("hydranet-budget-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let checkpoint = (folder as NSString).appendingPathComponent("model.safetensors")
        try Checkpoint.save(scratch, input: spec.input, to: checkpoint)
        try Checkpoint.save(scratch, input: spec.input, to: checkpoint)
        try trainer.saveTrainingState(to: (folder as NSString).appendingPathComponent("state.safetensors"))
        let saveSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        return EpochBudget(budget: budget, stepSeconds: stepSeconds, stepsPerEpoch: stepsPerEpoch,
                           validationSeconds: validationSeconds, saveSeconds: saveSeconds)
    }
}
