import CLITestSupport
import Foundation
import HydraData
import HydraNet
import Testing
import TestSupport

/// `hydranet train --data <UTKFace folder>` starts from the UTKFace recipe
/// (``RunConfiguration/utkfaceRecipe(folder:)``); every flag given overrides it.
@Suite("UTKFace recipe on the command line")
struct RecipeCommandLineTests {
    /// 40 generated faces written as a UTKFace folder (age_gender_race_date.jpg.chip.jpg).
    static func folder(_ scratch: ScratchFolder) throws -> String {
        let folder = scratch.path("utkface")
        _ = try SyntheticFaces(count: 40, size: 32, seed: 3, missingRaceFraction: 0).write(to: folder)
        return folder
    }

    /// Kept small and fast (one epoch of a ConvNet on one thread): these flags are given in
    /// both runs; everything else comes from the recipe or the flags under test.
    static let fast = ["--backbone", "convnet", "--epochs", "1", "--batch-size", "16", "--threads", "1",
                       "--device", "cpu", "--seed", "2", "--tensorboard", "off"]

    @Test("a UTKFace folder gets the recipe: 64 px, equal weights, channels-last, no colour jitter, smoothed and balanced race, flip TTA")
    func recipeDefaults() throws {
        let scratch = try ScratchFolder("cli-recipe")
        defer { scratch.cleanUp() }
        let data = try Self.folder(scratch)
        let outcome = try HydranetProcess.run(["train", "--data", data, "--output", scratch.path("run")] + Self.fast,
                                              cache: scratch.path("cache"), logs: scratch.url)
        try #require(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        let out = outcome.stdout
        for expected in ["decoded 40 images at 64×64", "weighting: equal", "optimizer adamw lr 0.001",
                         "channels-last; flip TTA; augmentation: flip and crop\n", "race (5 classes, CE(weights=[",
                         "smoothing=0.1))"] {
            #expect(out.contains(expected), "expected '\(expected)' in:\n\(out)")
        }
        // The class weights are the inverse square roots of the training split's class frequencies.
        let spec = try Checkpoint.spec(at: scratch.path("run/best.safetensors"))
        #expect(spec.testTimeFlip, "the checkpoint does not record flip TTA")
        let race = try #require(spec.tasks.first { $0.name == "race" })
        guard case let .crossEntropy(weights?, smoothing) = race.loss else {
            Issue.record("race loss \(race.loss) has no class weights")
            return
        }
        #expect(smoothing == 0.1)
        #expect(weights.count == 5 && weights.allSatisfy { $0 > 0 })
        #expect(weights.contains { abs($0 - 1) > 0.05 }, "weights \(weights) are all ~1: no balancing")
    }

    @Test("flags override the recipe")
    func flagsOverride() throws {
        let scratch = try ScratchFolder("cli-recipe-override")
        defer { scratch.cleanUp() }
        let data = try Self.folder(scratch)
        let outcome = try HydranetProcess.run(
            ["train", "--data", data, "--output", scratch.path("run"), "--image-size", "24", "--no-channels-last",
             "--no-flip-tta", "--weighting", "uncertainty", "--label-smoothing", "0", "--class-balance", "none",
             "--optimizer", "sgd", "--lr", "0.01", "--color-jitter", "0.3"] + Self.fast,
            cache: scratch.path("cache"), logs: scratch.url)
        try #require(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        let out = outcome.stdout
        for expected in ["decoded 40 images at 24×24", "weighting: uncertainty", "optimizer sgd lr 0.01", "race (5 classes, CE);",
                         "augmentation: flip, crop and colour jitter 0.3"] {
            #expect(out.contains(expected), "expected '\(expected)' in:\n\(out)")
        }
        for unexpected in ["channels-last", "flip TTA"] {
            #expect(!out.contains(unexpected), "'\(unexpected)' in:\n\(out)")
        }
        #expect(!(try Checkpoint.spec(at: scratch.path("run/best.safetensors"))).testTimeFlip)
    }

    @Test("--time-budget plans the epochs on this machine, logs and records them; a resumed run keeps the count")
    func timeBudget() throws {
        let scratch = try ScratchFolder("cli-recipe-budget")
        defer { scratch.cleanUp() }
        let data = try Self.folder(scratch)
        var flags = Self.fast
        let epochsFlag = try #require(flags.firstIndex(of: "--epochs"))
        flags.replaceSubrange(epochsFlag...(epochsFlag + 1), with: ["--time-budget", "6s"])
        let outcome = try HydranetProcess.run(["train", "--data", data, "--output", scratch.path("run")] + flags,
                                              cache: scratch.path("cache"), logs: scratch.url)
        try #require(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        let line = try #require(outcome.stdout.split(separator: "\n").first { $0.hasPrefix("time budget 6 s: ") },
                                "no plan in:\n\(outcome.stdout)")
        let planned = try #require(line.split(separator: "→ ").last?.split(separator: " ").first.flatMap { Int($0) },
                                   "no epoch count in '\(line)'")
        #expect(planned >= 1 && line.contains("--epochs \(planned))"), "\(line)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.path("run/report.json"))))
        let epochs = try #require((report as? [String: Any])?["epochs"] as? [Any], "report.json has no epochs")
        #expect(epochs.count == planned, "trained \(epochs.count) epochs, planned \(planned)")
        let state = try SafeTensors.read(scratch.path("run/state.safetensors"))
        #expect(state.metadata[Trainer.plannedEpochsKey] == String(planned))
        #expect(outcome.stdout.contains("epoch \(planned)/\(planned)"), "no last epoch line in:\n\(outcome.stdout)")

        // Resumed with the same flags: the recorded count, not a new measurement.
        let resumed = try HydranetProcess.run(["train", "--data", data, "--output", scratch.path("run"), "--resume",
                                               scratch.path("run/state.safetensors")] + flags,
                                              cache: scratch.path("cache"), logs: scratch.url)
        try #require(resumed.status == 0 && !resumed.signalled, "\(resumed.summary)")
        #expect(resumed.stdout.contains("time budget: resuming the \(planned) epochs planned at the start"), "\(resumed.stdout)")
        #expect(!resumed.stdout.contains("time budget 6 s:"), "the resumed run measured again:\n\(resumed.stdout)")
    }

    @Test("bad --time-budget values and --epochs with --time-budget are refused with a message")
    func badTimeBudget() throws {
        let scratch = try ScratchFolder("cli-recipe-budget-bad")
        defer { scratch.cleanUp() }
        let data = try Self.folder(scratch)
        let cases: [([String], String)] = [
            (["--time-budget", "0"], "--time-budget must be a positive time"),
            (["--time-budget=-5m"], "--time-budget must be a positive time"),
            (["--time-budget", "soon"], "--time-budget must be a positive time"),
            (["--time-budget", "nan"], "--time-budget must be a positive time"),
            (["--time-budget", "10m", "--epochs", "2"], "give --epochs or --time-budget, not both"),
        ]
        for (extra, message) in cases {
            let outcome = try HydranetProcess.run(["train", "--data", data, "--output", scratch.path("run"), "--threads", "1"] + extra,
                                                  cache: scratch.path("cache"), logs: scratch.url)
            #expect(outcome.status != 0 && !outcome.signalled && outcome.stderr.contains(message),
                    "\(extra): \(outcome.summary)")
        }
    }
}
