import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `hydranet compare` on a tiny synthetic setup: 2 methods × 2 seeds + single-task
/// baselines. Killed (SIGKILL) once its first run has finished, then started again: the
/// finished run is reused untouched, the table has the planned shape, and its Δm and Δp
/// are what a hand computation from the runs' `test-metrics.json` gives.
@Suite("compare command", .serialized)
struct CompareCommandTests {
    static let tasks = ["age", "gender", "race"]
    static let methods = ["equal", "upgrad"]
    static let seeds: [UInt64] = [3, 4]

    static func arguments(_ output: String) -> [String] {
        ["compare", "--methods", methods.joined(separator: ","), "--seeds", "2", "--single-task",
         "--data", "synthetic", "--synthetic-count", "48", "--image-size", "16", "--backbone", "convnet",
         "--batch-size", "16", "--schedule", "none", "--epochs", "1", "--seed", "3", "--threads", "1", "--device", "cpu",
         "--output", output]
    }

    @Test("killed after its first run and restarted: finished runs reused; table shape and Δm/Δp by hand")
    func killRestartAndArithmetic() throws {
        let scratch = try ScratchFolder("compare")
        defer { scratch.cleanUp() }
        let (cache, logs, output) = (scratch.path("cache"), scratch.url.appendingPathComponent("logs"), scratch.path("cmp"))
        let first = RunFiles("\(output)/single-task-age/seed-3")

        // 1. Start, and SIGKILL as soon as the first run (single-task age, seed 3) has finished.
        let process = try HydranetProcess(Self.arguments(output), cache: cache, logs: logs)
        while process.process.isRunning && !first.exists("test-metrics.json") { usleep(2_000) }
        try #require(process.process.isRunning, "compare ended before it could be killed: \(process.wait().summary)")
        kill(process.pid, SIGKILL)
        let killed = process.wait()
        try #require(killed.signalled && killed.status == SIGKILL, "\(killed.summary)")
        let before = try Self.modificationTimes(first.folder)
        try #require(before.keys.contains("best.safetensors") && before.keys.contains("report.json"), "\(before.keys.sorted())")
        #expect(!FileManager.default.fileExists(atPath: "\(output)/compare.json"), "compare.json written before all runs ended")

        // 2. The same command again finishes, reusing the finished run without retraining it.
        let rerun = try HydranetProcess.run(Self.arguments(output), cache: cache, logs: logs)
        try #require(rerun.status == 0 && !rerun.signalled, "\(rerun.summary)")
        #expect(rerun.stdout.contains("single-task age seed 3: reused"), "\(rerun.stdout)")
        #expect(!rerun.stdout.contains("[single-task age seed 3] "), "the finished run was trained again:\n\(rerun.stdout)")
        #expect(try Self.modificationTimes(first.folder) == before, "the reused run's files changed")

        // 3. The table: one row for the baselines and one per method, each over 2 seeds.
        let json = try #require(try RunFiles(output).json("compare.json") as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.map { $0["method"] as? String } == ["single-task"] + Self.methods)
        #expect(rows.allSatisfy { $0["seeds"] as? Int == 2 })
        #expect(json["primaryMetrics"] as? [String] == ["age/mae", "gender/accuracy", "race/accuracy"])
        #expect((json["runs"] as? [Any])?.count == Self.seeds.count * (Self.tasks.count + Self.methods.count))
        let markdown = try String(contentsOfFile: "\(output)/compare.md", encoding: .utf8)
        let tableLines = markdown.split(separator: "\n").filter { $0.hasPrefix("|") }
        #expect(tableLines.count == 2 + 3, "\(markdown)")
        #expect(tableLines.first?.contains("age/mae ↓") == true && tableLines.first?.contains("Δm% ↓") == true)
        #expect(rerun.stdout.contains(String(tableLines[0])), "the table is not printed:\n\(rerun.stdout)")

        // 4. Δm and Δp by hand from the runs' test-metrics.json.
        func metrics(_ folder: String) throws -> [String: Double] {
            try RunFiles("\(output)/\(folder)").decode([String: Double].self, "test-metrics.json")
        }
        func higherIsBetter(_ key: String) -> Bool { !(key.hasSuffix("/mae") || key.hasSuffix("/rmse")) }
        var baseline: [String: Double] = [:]
        for task in Self.tasks {
            let perSeed = try Self.seeds.map { try metrics("single-task-\(task)/seed-\($0)") }
            for key in perSeed[0].keys where key.hasPrefix(task + "/") {
                baseline[key] = perSeed.map { $0[key]! }.reduce(0, +) / Double(perSeed.count)
            }
        }
        #expect(Set(baseline.keys) == ["age/mae", "age/rmse", "gender/accuracy", "gender/f1", "gender/auroc",
                                       "race/accuracy", "race/macro_f1"])
        for (r, method) in Self.methods.enumerated() {
            var dms: [Double] = [], dps: [Double] = []
            for seed in Self.seeds {
                let m = try metrics("\(method)/seed-\(seed)")
                let keys = baseline.keys.filter { m[$0] != nil && baseline[$0] != 0 }.sorted()
                let terms = keys.map { k in (higherIsBetter(k) ? -1.0 : 1.0) * (m[k]! - baseline[k]!) / baseline[k]! }
                dms.append(100 * terms.reduce(0, +) / Double(terms.count))
                let perTask = Self.tasks.compactMap { task -> Double? in
                    let own = keys.filter { $0.hasPrefix(task + "/") }
                    guard !own.isEmpty else { return nil }
                    return own.map { k in (higherIsBetter(k) ? -1.0 : 1.0) * (baseline[k]! - m[k]!) / baseline[k]! }
                        .reduce(0, +) / Double(own.count)
                }
                dps.append(100 * perTask.reduce(0, +) / Double(perTask.count))
            }
            func meanStd(_ v: [Double]) -> (Double, Double) {
                let mean = v.reduce(0, +) / Double(v.count)
                return (mean, (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot())
            }
            let row = rows[r + 1]
            let dm = try #require(row["deltaM"] as? [String: Any]), dp = try #require(row["deltaP"] as? [String: Any])
            let (dmMean, dmStd) = meanStd(dms), (dpMean, dpStd) = meanStd(dps)
            #expect(abs((dm["mean"] as! Double) - dmMean) < 1e-9, "\(method) Δm \(dm) vs \(dmMean)")
            #expect(abs((dm["std"] as! Double) - dmStd) < 1e-9, "\(method) Δm std \(dm) vs \(dmStd)")
            #expect(abs((dp["mean"] as! Double) - dpMean) < 1e-9, "\(method) Δp \(dp) vs \(dpMean)")
            #expect(abs((dp["std"] as! Double) - dpStd) < 1e-9, "\(method) Δp std \(dp) vs \(dpStd)")
            // The printed cell: mean ± std with two decimals.
            #expect(markdown.contains(String(format: "%+.2f ± %.2f", dmMean, dmStd)), "\(method): \(markdown)")
            // A per-task metric cell: the mean over seeds of the runs' own values.
            let mae = try Self.seeds.map { try metrics("\(method)/seed-\($0)")["age/mae"]! }
            let maeStat = try #require((row["metrics"] as? [String: Any])?["age/mae"] as? [String: Any])
            #expect(abs((maeStat["mean"] as! Double) - mae.reduce(0, +) / 2) < 1e-12)
        }

        // 5. compare.html opens cleanly in Chromium, every chart drawn.
        let page = try HeadlessChromium.load("\(output)/compare.html")
        #expect(page.console.isEmpty, "console messages:\n\(page.console.joined(separator: "\n"))")
        let charts = HeadlessChromium.charts(in: page.dom)
        #expect(charts.count == 3 + 2 + 3, "\(charts.map(\.title))")
        for chart in charts { #expect(chart.html.contains("class=\"mark\"") && !chart.html.contains("data-empty"), "\(chart.title)") }
        try HeadlessChromium.screenshot("\(output)/compare.html",
                                        to: (HeadlessChromium.artifacts as NSString).appendingPathComponent("compare.png"),
                                        height: 2400)
    }

    /// Name → modification time (ns) of every file in `folder`.
    static func modificationTimes(_ folder: String) throws -> [String: Int] {
        var times: [String: Int] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            var st = stat()
            guard stat("\(folder)/\(name)", &st) == 0 else { continue }
            #if canImport(Darwin)
            let t = st.st_mtimespec
            #else
            let t = st.st_mtim
            #endif
            times[name] = Int(t.tv_sec) * 1_000_000_000 + Int(t.tv_nsec)
        }
        return times
    }
}
