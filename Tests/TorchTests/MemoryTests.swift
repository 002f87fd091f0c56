import Foundation
import Testing
import Torch

@Suite("memory")
struct MemoryTests {
    /// The leak check runs in its own process (Tests/LeakCheck), built beside the tests.
    @Test("100,000 create/free cycles of a 1 MB tensor leave RSS flat and no handle alive")
    func noLeak() throws {
        let m = try LeakCheck.run("tensors", count: 100_000)
        #expect(m.liveTensorGrowth == 0, "\(m.liveTensorGrowth) tensor handles leaked")
        #expect(m.rssGrowth < 50 << 20, "RSS grew by \(m.rssGrowth >> 20) MiB")
    }

    @Test("the leak check sees a leak: 1,000 held 256 KiB tensors are 1,000 live handles and ≥ 250 MiB")
    func leakIsSeen() throws {
        let m = try LeakCheck.run("leak", count: 1_000)
        #expect(m.liveTensorGrowth == 1_000)
        #expect(m.rssGrowth >= 250 << 20, "RSS grew by only \(m.rssGrowth >> 20) MiB")
    }
}
