import Foundation
import HydraData
import HydraNet
import Testing
import Torch
import TorchNN

/// Synthetic faces decoded at 32×32, generated once per test process under .build (kept
/// between runs; the generator's marker file makes regeneration skip unchanged folders).
let syntheticFaces: Result<(DecodedDataset, DatasetSplits), any Error> = Result {
    let root = PythonReference.packageRoot.appendingPathComponent(".build/test-data").path
    let generator = SyntheticFaces(count: 900, size: 48, seed: 11, missingRaceFraction: 0.1)
    let files = try generator.write(to: root + "/synthetic-e2e")
    var options = DecodeOptions()
    options.progress = .never
    let decoded = try DecodedCache(directory: root + "/cache").load(files, transform: ImageTransform(size: 32),
                                                                     options: options)
    return (decoded, try decoded.splits())
}

/// The synthetic faces' tasks, age standardised on the training split.
func syntheticTasks(_ data: DecodedDataset, _ splits: DatasetSplits) -> [HydraTask] {
    var tasks = data.tasks.map { HydraTask($0) }
    let age = data.tasks.firstIndex { $0.name == "age" }!
    let trainAges = Tensor.where(data.masks[age], data.labels[age], data.labels[age].fullLike(.nan))
        .indexSelect(dim: 0, index: Tensor(splits.train.map(Int64.init))).scalars(as: Double.self).filter { !$0.isNaN }
    tasks[age].fitStandardization(trainAges)
    return tasks
}

/// A small ConvNet HydraNet that one seed fully determines (its own generator).
func syntheticModel(_ tasks: [HydraTask], seed: UInt64 = 5) throws -> HydraNetModel {
    let g = Generator(seed: seed)
    return try HydraNetModel(backbone: ConvNet(channels: [16, 32, 64], generator: g), tasks: tasks, headHidden: [32],
                             generator: g)
}

@Suite("end to end on synthetic faces", .serialized)
struct EndToEndTests {
    /// What 3 epochs must achieve against the untrained model (validation, 90 faces).
    /// Measured on the synthetic faces: every method reaches a best-epoch Δm of −25 % or
    /// better and cuts the summed validation loss by a quarter or more, so −10 % and 0.9
    /// leave wide margins.
    static let requiredDeltaM = -10.0
    static let requiredLossRatio = 0.9

    @Test("3 epochs: the best validation epoch clearly beats the untrained model",
          arguments: ["equal", "uncertainty", "dwa", "pcgrad", "mgda", "upgrad"])
    func improves(_ method: String) throws {
        let (data, splits) = try syntheticFaces.get()
        let tasks = syntheticTasks(data, splits)
        var config = TrainingConfiguration()
        config.epochs = 3
        config.learningRate = 3e-3
        let trainer = try Trainer(model: try syntheticModel(tasks),
                                  weighting: try WeightingFactory.make(method, tasks: tasks, source: nil, seed: 3),
                                  configuration: config)
        let train = try DataLoader(data, rows: splits.train, options: LoaderOptions(batchSize: 32, seed: 1, prefetch: false))
        let validation = try DataLoader(data, rows: splits.validation,
                                        options: LoaderOptions(batchSize: 128, shuffle: false, prefetch: false))
        let before = try trainer.evaluate(validation)
        // Δm against the untrained model: the trainer selects the best epoch on it.
        let untrained = Dictionary(uniqueKeysWithValues: before.metrics.map { ($0.key, $0.value) })
        let reports = try trainer.fit(train: train, validation: validation, baseline: untrained)
        try #require(reports.count == 3)
        let best = try #require(reports.last { $0.isBest }, "\(method): no epoch improved on the untrained model's Δm")
        let dm = try #require(best.deltaM)
        #expect(dm <= Self.requiredDeltaM, "\(method): best Δm \(dm) % vs the untrained model (epoch \(best.epoch))")
        let after = try #require(best.validation)
        let lossBefore = tasks.map { before.losses[$0.name]! }.reduce(0, +)
        let lossAfter = try tasks.map { try #require(after.losses[$0.name], "\(method): no \($0.name) loss") }.reduce(0, +)
        #expect(lossAfter <= Self.requiredLossRatio * lossBefore,
                "\(method): summed validation loss \(lossBefore) → \(lossAfter) (epoch \(best.epoch))")
        print("end-to-end \(method): best epoch \(best.epoch), Δm \(String(format: "%.1f", dm)) % vs untrained, summed "
            + "validation loss \(String(format: "%.3f → %.3f", lossBefore, lossAfter))")
    }

    /// MGDA's promise (Désidéri 2012; Sener & Koltun 2018) is a common descent direction: the
    /// min-norm point d of the gradients' convex hull has gᵢ·d ≥ ‖d‖² for every task (up to
    /// the solver's tolerance), so a
    /// small step along −d lowers every task's loss. UPGrad promises gᵢ·d ≥ 0 (no task's
    /// loss rises to first order). Checked on the Jacobian of a real model on real batches,
    /// in float64, and for MGDA by taking the step.
    @Test("MGDA and UPGrad updates are common descent directions on a real model's gradients",
          arguments: ["mgda", "upgrad"])
    func commonDescent(_ method: String) throws {
        let (data, splits) = try syntheticFaces.get()
        let tasks = syntheticTasks(data, splits)
        let model = try syntheticModel(tasks, seed: 8)
        model.to(dtype: .float64).eval()  // a fixed, deterministic function of the weights
        guard case let .gradient(aggregator, _) = try WeightingFactory.make(method, tasks: tasks, source: nil, seed: 3) else {
            Issue.record("\(method) is not a gradient method")
            return
        }
        let shared = model.backbone.parameters()
        let loader = try DataLoader(data, rows: splits.train, options: LoaderOptions(batchSize: 96, seed: 4, prefetch: false))
        var checked = 0
        for batch in loader.epoch(0).prefix(3) {
            let images = batch.images.to(dtype: .float64)
            let targets = batch.labels.map { $0.dtype.isFloatingPoint ? $0.to(dtype: .float64) : $0 }
            func losses() -> [Tensor] {
                zip(zip(tasks, model.outputs(images)), zip(targets, batch.masks)).map { tm, lm in
                    tm.0.maskedLoss(output: tm.1, target: lm.0, mask: lm.1)
                }
            }
            let current = losses()
            let rows = try current.enumerated().map { i, loss in
                Tensor.cat(try Autograd.grad(outputs: [loss], inputs: shared, retainGraph: i < current.count - 1)
                    .map { try #require($0, "\(method): a backbone parameter got no gradient").reshaped([-1]) })
            }
            let jacobian = Tensor.stack(rows)
            let d = aggregator.aggregate(jacobian, context: AggregationContext(taskIndices: Array(tasks.indices),
                                                                                 losses: current.map { $0.item() })).update
            let dd = d.dot(d).item()
            let products = jacobian.matmul(d).scalars(as: Double.self)
            try #require(dd > 0, "\(method): zero update")
            for (t, p) in zip(tasks, products) {
                if method == "mgda" {
                    // Exact at the min-norm point; the QP solver stops within 1e-3 of it.
                    #expect(p >= (1 - 1e-2) * dd, "\(method): g_\(t.name)·d = \(p) < ‖d‖² = \(dd)")
                } else {
                    #expect(p >= -1e-9 * dd, "\(method): g_\(t.name)·d = \(p) < 0")
                }
            }
            if method == "mgda" {
                // A step with ηgᵢ·d ≥ η‖d‖² = 1e-4 × the mean loss: every loss must fall by at
                // least half its first-order prediction.
                let before = current.map { $0.item() }
                let eta = 1e-4 * (before.reduce(0, +) / Double(before.count)) / dd
                withNoGrad {
                    var offset = 0
                    for p in shared {
                        p.sub_(d.narrow(dim: 0, start: offset, length: p.count).reshaped(p.shape) * eta)
                        offset += p.count
                    }
                }
                let after = withNoGrad { losses().map { $0.item() } }
                for (i, t) in tasks.enumerated() {
                    let predicted = eta * products[i]
                    #expect(before[i] - after[i] >= 0.5 * predicted,
                            "\(method): \(t.name) loss \(before[i]) → \(after[i]), predicted fall \(predicted)")
                }
            }
            checked += 1
        }
        #expect(checked == 3, "\(method): checked \(checked) batches, expected 3")
    }
}
