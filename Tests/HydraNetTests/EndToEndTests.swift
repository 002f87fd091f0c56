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

@Suite("end to end on synthetic faces", .serialized)
struct EndToEndTests {
    static func makeWeighting(_ name: String, tasks: [HydraTask]) throws -> WeightingMethod {
        try WeightingFactory.make(name, tasks: tasks, source: nil, seed: 3)
    }

    @Test("3 epochs improve all three tasks over the untrained model",
          arguments: ["equal", "uncertainty", "dwa", "pcgrad", "mgda", "upgrad"])
    func improves(_ method: String) throws {
        let (data, splits) = try syntheticFaces.get()
        var tasks = data.tasks.map { HydraTask($0) }
        let ageColumn = data.tasks.firstIndex { $0.name == "age" }!
        let trainAges = Tensor.where(data.masks[ageColumn], data.labels[ageColumn], data.labels[ageColumn].fullLike(.nan))
            .indexSelect(dim: 0, index: Tensor(splits.train.map(Int64.init))).scalars(as: Double.self).filter { !$0.isNaN }
        tasks[ageColumn].fitStandardization(trainAges)
        let model = try withGlobalRNG {
            Torch.manualSeed(5)
            return try HydraNetModel(backbone: ConvNet(channels: [16, 32, 64]), tasks: tasks, headHidden: [32])
        }
        var config = TrainingConfiguration()
        config.epochs = 3
        config.learningRate = 3e-3
        let trainer = try Trainer(model: model, weighting: try Self.makeWeighting(method, tasks: tasks),
                                  configuration: config)
        let train = try DataLoader(data, rows: splits.train, options: LoaderOptions(batchSize: 32, seed: 1, prefetch: false))
        let validation = try DataLoader(data, rows: splits.validation,
                                        options: LoaderOptions(batchSize: 128, shuffle: false, prefetch: false))
        let before = try trainer.evaluate(validation)
        let reports = try trainer.fit(train: train, validation: validation)
        let after = try #require(reports.last?.validation)
        for task in tasks {
            let b = try #require(before.losses[task.name]), a = try #require(after.losses[task.name])
            #expect(a < b, "\(method): \(task.name) validation loss \(b) → \(a)")
        }
        #expect(after["age/mae"]! < before["age/mae"]!, "\(method): age MAE \(before["age/mae"]!) → \(after["age/mae"]!)")
        #expect(after["gender/accuracy"]! > before["gender/accuracy"]!,
                "\(method): gender accuracy \(before["gender/accuracy"]!) → \(after["gender/accuracy"]!)")
        #expect(after["race/accuracy"]! > before["race/accuracy"]!,
                "\(method): race accuracy \(before["race/accuracy"]!) → \(after["race/accuracy"]!)")
    }
}
