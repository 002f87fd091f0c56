import Foundation
import Testing
import TestSupport

/// Debian's `chromium` (installed by `scripts/setup --test`) in headless mode: a page opened
/// straight from disk, its DOM after loading, everything it wrote to the console, and a
/// screenshot.
public enum HeadlessChromium {
    /// What Chromium saw of a page.
    public struct Page {
        /// The DOM after loading (`--dump-dom`).
        public var dom: String
        /// Console messages (errors and logs: SVG attribute errors, uncaught exceptions, …).
        public var console: [String]
    }

    /// The browser binary (`chromium`, else `chromium-browser`, on the PATH).
    public static func executable() throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for dir in path {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        Issue.record("chromium is not installed: scripts/setup --test installs it (TEST_DEBIAN_PACKAGES in scripts/deps.env)")
        throw CocoaError(.fileNoSuchFile)
    }

    /// Opens `file` and returns its DOM and console messages.
    public static func load(_ file: String) throws -> Page {
        let (out, err) = try run(["--enable-logging=stderr", "--v=0", "--dump-dom", URL(fileURLWithPath: file).absoluteString])
        let console = err.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Page(dom: out, console: console)
    }

    /// Saves a `width`×`height` screenshot of `file` as the PNG `output`.
    public static func screenshot(_ file: String, to output: String, width: Int = 1280, height: Int = 4000) throws {
        try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: output)
        _ = try run(["--hide-scrollbars", "--screenshot=\(output)", "--window-size=\(width),\(height)",
                     URL(fileURLWithPath: file).absoluteString])
        try #require(FileManager.default.fileExists(atPath: output), "chromium wrote no screenshot to \(output)")
    }

    /// Runs headless Chromium with its own throw-away profile; returns stdout and stderr.
    static func run(_ arguments: [String]) throws -> (String, String) {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("hydranet-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(profile.path)"] + arguments
        let outFile = profile.appendingPathExtension("out"), errFile = profile.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let out = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        try #require(process.terminationStatus == 0, "chromium \(arguments) exited with \(process.terminationStatus): \(err.suffix(2000))")
        return (out, err)
    }

    /// The `<figure class="chart">` elements of a DOM, each with its title (`data-chart`).
    public static func charts(in dom: String) -> [(title: String, html: String)] {
        let parts = dom.components(separatedBy: "<figure class=\"chart\"").dropFirst()
        return parts.map { part in
            let html = part.components(separatedBy: "</figure>").first ?? ""
            var title = ""
            if let r = html.range(of: "data-chart=\"") {
                title = String(html[r.upperBound...].prefix { $0 != "\"" })
            }
            return (title, html)
        }
    }

    /// The folder for test artifacts (screenshots): `.build/artifacts`.
    public static var artifacts: String {
        PythonReference.packageRoot.appendingPathComponent(".build/artifacts").path
    }
}
