import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `hydranet` command-line tool, run as a real subprocess. Its output goes to
/// files (never a pipe a full buffer could block), read back when it exits.
public struct HydranetProcess {
    /// What a finished run left.
    public struct Outcome {
        public var status: Int32
        /// Whether it was ended by a signal (`status` is then the signal's number).
        public var signalled: Bool
        public var stdout: String
        public var stderr: String

        public var summary: String { "status \(status)\(signalled ? " (signal)" : ""); stderr:\n\(stderr)\nstdout:\n\(stdout)" }
    }

    /// The `hydranet` binary (or another of the package's executables) beside the test
    /// bundle, else in `.build/debug`.
    public static func executable(_ name: String = "hydranet") throws -> URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        let url = FileManager.default.isExecutableFile(atPath: beside.path) ? beside
            : PythonReference.packageRoot.appendingPathComponent(".build/debug/\(name)")
        try #require(FileManager.default.isExecutableFile(atPath: url.path), "\(name) not built (swift build builds it)")
        return url
    }

    public let process = Process()
    private let stdoutFile: URL
    private let stderrFile: URL

    /// Starts `hydranet ARGUMENTS` with the decoded cache (and generated data) in `cache`;
    /// `logs` is a folder for its output files.
    /// `stdin`: a file whose bytes the process reads on standard input (default: none).
    /// `environment`: extra variables; `executable`: another of the package's programs;
    /// `wrapper`: a command that runs the program (e.g. `["/usr/sbin/ip", "netns", "exec", "ns0"]`).
    public init(_ arguments: [String], cache: String, logs: URL, stdin: URL? = nil, environment extra: [String: String] = [:],
                executable: String = "hydranet", wrapper: [String] = []) throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let tag = UUID().uuidString
        stdoutFile = logs.appendingPathComponent("\(tag).out")
        stderrFile = logs.appendingPathComponent("\(tag).err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let program = try HydranetProcess.executable(executable)
        if let first = wrapper.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(wrapper.dropFirst()) + [program.path] + arguments
        } else {
            process.executableURL = program
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["HYDRANET_CACHE"] = cache
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// What the process has written to standard output so far (while it runs).
    public var stdoutSoFar: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    public var stderrSoFar: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Waits for the process to end and returns what it left. A process still running after
    /// `hangGuard` seconds is killed (and then reported as ended by SIGKILL): a guard
    /// against a hung suite, not a time limit on the result.
    public func wait(hangGuard: Double? = nil) -> Outcome {
        if let hangGuard {
            let deadline = Date().addingTimeInterval(hangGuard)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "<unreadable \(url.path)>" }
        let outcome = Outcome(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                              stdout: text(stdoutFile), stderr: text(stderrFile))
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
        return outcome
    }

    /// Runs `hydranet ARGUMENTS` to the end.
    public static func run(_ arguments: [String], cache: String, logs: URL, stdin: URL? = nil) throws -> Outcome {
        try HydranetProcess(arguments, cache: cache, logs: logs, stdin: stdin).wait()
    }
}

/// A fresh temporary folder for one test, removed by `cleanUp()`.
public struct ScratchFolder {
    public let url: URL
    public init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hydranet-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ component: String) -> String { url.appendingPathComponent(component).path }
    public func cleanUp() { try? FileManager.default.removeItem(at: url) }
}
