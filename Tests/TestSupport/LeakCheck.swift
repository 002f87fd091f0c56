import Foundation
import Testing

/// Runs the `hydranet-leakcheck` program (Tests/LeakCheck, built beside the tests) in its
/// own process and returns its measurements. Throws when the program is missing, fails, or
/// prints no measurement: a leak check that cannot measure fails.
public enum LeakCheck {
    public struct Measurement: Sendable {
        public var rssBefore: Int
        public var rssGrowth: Int
        public var liveTensorGrowth: Int
    }

    public static func run(_ mode: String, count: Int) throws -> Measurement {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("hydranet-leakcheck")
        let executable = FileManager.default.isExecutableFile(atPath: beside.path) ? beside
            : PythonReference.packageRoot.appendingPathComponent(".build/debug/hydranet-leakcheck")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw PythonReference.Failure(description: "hydranet-leakcheck is not built (swift build builds it)")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = [mode, String(count)]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonReference.Failure(description: "hydranet-leakcheck \(mode) exited \(process.terminationStatus): \(errors)")
        }
        func value(_ key: String) throws -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + " ") }),
                  let v = Int(line.split(separator: " ")[1]) else {
                throw PythonReference.Failure(description: "hydranet-leakcheck printed no \(key) in: \(text) \(errors)")
            }
            return v
        }
        let m = Measurement(rssBefore: try value("rss_before_bytes"), rssGrowth: try value("rss_growth_bytes"),
                            liveTensorGrowth: try value("live_tensor_growth"))
        guard m.rssBefore > 0 else {
            throw PythonReference.Failure(description: "hydranet-leakcheck measured a resident set of \(m.rssBefore) bytes")
        }
        return m
    }
}
