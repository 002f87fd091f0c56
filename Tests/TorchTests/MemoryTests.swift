import Foundation
import Testing
import Torch

@Suite("memory")
struct MemoryTests {
    /// The leak check runs in its own process (Tests/LeakCheck), built beside the tests.
    @Test("100,000 create/free cycles of a 1 MB tensor leave RSS flat")
    func noLeak() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("hydranet-leakcheck")
        let executable = FileManager.default.isExecutableFile(atPath: binary.path) ? binary
            : PythonReference.packageRoot.appendingPathComponent(".build/debug/hydranet-leakcheck")
        try #require(FileManager.default.isExecutableFile(atPath: executable.path),
                     "hydranet-leakcheck not built (swift build builds it)")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["100000"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let growth = text.split(separator: "\n").first { $0.hasPrefix("rss_growth_bytes ") }
            .flatMap { Int($0.split(separator: " ")[1]) }
        let value = try #require(growth, "no measurement in: \(text)")
        #expect(value < 50 << 20, "RSS grew by \(value >> 20) MiB")
    }
}
