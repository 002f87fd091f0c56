import Foundation
import HydraNet
import Testing
import Torch
import TorchNN

@Suite("resume", .serialized)
struct ResumeTests {
    /// Two epochs straight vs one epoch, save, a fresh trainer, load, one more epoch.
    @Test("resuming from a training checkpoint continues the exact trajectory",
          arguments: ["uncertainty", "dwa", "famo", "rlw", "pcgrad", "nash-mtl", "gradnorm"])
    func resume(_ method: String) throws {
        let (data, splits) = try syntheticFaces.get()
        let rows = Array(splits.train.prefix(192))
        let tasks = data.tasks.map { HydraTask($0) }
        // Every trainer's model is drawn from a generator with the same seed, which then draws
        // the heads' dropout masks: the resumed run must restore that generator's state too.
        func model() throws -> HydraNetModel {
            let g = Generator(seed: 9)
            return try HydraNetModel(backbone: ConvNet(channels: [8, 16], generator: g), tasks: tasks, headHidden: [16],
                                     headDropout: 0.2, generator: g)
        }
        func trainer() throws -> Trainer {
            let model = try model()
            var c = TrainingConfiguration()
            c.epochs = 2
            c.schedule = .cosineAnnealing(tMax: 12)
            return try Trainer(model: model, weighting: try WeightingFactory.make(method, tasks: tasks, source: nil, seed: 4),
                               configuration: c)
        }
        let loader = try DataLoader(data, rows: rows, options: LoaderOptions(batchSize: 32, seed: 2, prefetch: false))
        let straight = try trainer()
        _ = try straight.trainEpoch(loader)
        _ = try straight.trainEpoch(loader)

        let first = try trainer()
        _ = try first.trainEpoch(loader)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(method)-\(getpid()).safetensors").path
        try first.saveTrainingState(to: path)
        let resumed = try trainer()
        try resumed.loadTrainingState(from: path)
        #expect(resumed.epoch == 1 && resumed.globalStep == first.globalStep)
        _ = try resumed.trainEpoch(loader)
        for (k, v) in straight.model.stateDict() {
            expectClose(resumed.model.stateDict()[k]!, v, rtol: 1e-5, atol: 1e-6, "\(method) \(k)")
        }
        // A checkpoint of another method is refused.
        let other = try Trainer(model: try model(),
                                weighting: .loss(EqualWeighting()), configuration: TrainingConfiguration())
        #expect(throws: HydraError.self) { try other.loadTrainingState(from: path) }
    }
}
