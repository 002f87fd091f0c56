import Foundation
import Testing

@Suite("training memory")
struct TrainingMemoryTests {
    /// 300 steps of a ResNet-18 HydraNet (forward, backward, AdamW) in the leak-check
    /// process, after 50 warm-up steps: no tensor handle may outlive a step, and the
    /// resident set stays flat (allocator noise only; one leaked activation per step would
    /// add tens of MiB, a leaked graph hundreds).
    @Test("300 training steps of a ResNet-18 HydraNet leave RSS flat and no handle alive")
    func trainingStepsDoNotLeak() throws {
        let m = try LeakCheck.run("train", count: 300)
        #expect(m.liveTensorGrowth == 0, "\(m.liveTensorGrowth) tensor handles leaked over 300 steps")
        #expect(m.rssGrowth < 16 << 20, "RSS grew by \(m.rssGrowth >> 20) MiB over 300 steps")
    }
}
