import Foundation
import Torch

/// Reference values computed by Python torch (the version `scripts/setup --test` installs
/// into `.venv`). Fixture scripts live in `Tests/Fixtures/<name>.py`, take the output path
/// (and, second, the final path that side files are named after) and write a safetensors
/// file; results are cached in `.build/fixtures` under
/// the script's content hash, so editing a script regenerates its fixture.
public enum PythonReference {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The package root (two levels above this file's folder).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var python: URL { packageRoot.appendingPathComponent(".venv/bin/python") }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: SafeTensorsArchive] = [:]
    /// Fixtures whose script failed: the error is reported again without rerunning Python
    /// for each of the (possibly hundreds of) tests that need it.
    nonisolated(unsafe) private static var failures: [String: any Error] = [:]

    /// The tensors written by `Tests/Fixtures/<name>.py`, generating them on first use.
    public static func fixture(_ name: String) throws -> [String: Tensor] {
        try fixtureArchive(name).tensors
    }

    /// The tensors and metadata written by `Tests/Fixtures/<name>.py`.
    public static func fixtureArchive(_ name: String) throws -> SafeTensorsArchive {
        lock.lock()
        defer { lock.unlock() }
        if let hit = cache[name] { return hit }
        if let failure = failures[name] { throw failure }
        do {
            let out = try generate(name)
            let archive = try SafeTensors.read(out.path)
            cache[name] = archive
            return archive
        } catch {
            failures[name] = error
            throw error
        }
    }

    /// Path of the safetensors file `Tests/Fixtures/<name>.py` writes (generated on first
    /// use). Scripts may write side files named `<that path>.<suffix>` (e.g. a `.pth`).
    public static func fixtureURL(_ name: String) throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let failure = failures[name] { throw failure }
        do {
            return try generate(name)
        } catch {
            failures[name] = error
            throw error
        }
    }

    private static func generate(_ name: String) throws -> URL {
        let script = packageRoot.appendingPathComponent("Tests/Fixtures/\(name).py")
        let source = try Data(contentsOf: script)
        let dir = packageRoot.appendingPathComponent(".build/fixtures")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("\(name)-\(fnv1a(source)).safetensors")
        if !FileManager.default.fileExists(atPath: out.path) {
            // Side files are written next to the final path; the main file is renamed into
            // place last, so its presence means the whole fixture is complete.
            let tmp = out.path + ".tmp\(getpid())"
            _ = try run([script.path, tmp, out.path])
            try FileManager.default.moveItem(atPath: tmp, toPath: out.path)
        }
        return out
    }

    /// Runs the reference Python with `arguments`; returns stdout. Throws with stderr on failure.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(description: "Python reference environment missing (\(python.path)): run `scripts/setup --test`")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env["PYTHONHASHSEED"] = "0"
        env["OMP_NUM_THREADS"] = env["OMP_NUM_THREADS"] ?? "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        let errData = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python \(arguments.joined(separator: " ")) failed "
                + "(\(process.terminationStatus)):\n\(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: outData, as: UTF8.self)
    }

    /// Runs a Python snippet (`python -c`), with extra arguments in `sys.argv[1:]`.
    @discardableResult
    public static func runCode(_ code: String, arguments: [String] = []) throws -> String {
        try run(["-c", code] + arguments)
    }

    private static func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
