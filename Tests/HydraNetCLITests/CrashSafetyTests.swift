import CLITestSupport
import Foundation
import HydraNet
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `hydranet train` killed with `SIGKILL` at 50 seeded-random moments, many of them in the
/// middle of a save: the run folder only ever holds complete files, each a version the
/// uninterrupted run also writes, `--resume` always continues, and the resumed run ends at
/// exactly the uninterrupted run's weights.
@Suite("crash safety", .serialized)
struct CrashSafetyTests {
    static let epochs = 4
    /// A tiny run: 48 generated faces at 16×16, a small ConvNet, batch 16, one thread, no
    /// schedule (so a run of k epochs is the first k epochs of a longer one).
    static let arguments = ["train", "--data", "synthetic", "--synthetic-count", "48", "--image-size", "16",
                            "--backbone", "convnet", "--batch-size", "16", "--schedule", "none", "--seed", "9",
                            "--threads", "1", "--device", "cpu"]
    static let files = ["best.safetensors", "last.safetensors", "metrics.jsonl", "report.html", "report.json",
                        "state.safetensors", "tensorboard", "test-evaluation.json", "test-metrics.json"]

    @Test("SIGKILL at 50 random moments (during saves too): complete files only, and resuming ends at the same weights")
    func killAndResume() throws {
        let scratch = try ScratchFolder("crash")
        defer { scratch.cleanUp() }
        let cache = scratch.path("cache")
        func launch(_ output: String, epochs: Int = CrashSafetyTests.epochs) throws -> HydranetProcess {
            let state = RunFiles(output).path("state.safetensors")
            let resume = FileManager.default.fileExists(atPath: state) ? ["--resume", state] : []
            return try HydranetProcess(Self.arguments + ["--epochs", String(epochs), "--output", output] + resume,
                                       cache: cache, logs: scratch.url.appendingPathComponent("logs"))
        }

        // Every version of every file: the run one epoch at a time (each step resumed from the
        // last's state), then the same run uninterrupted, which must end identically.
        let versions = try Versions(chain: scratch.path("chain"), epochs: Self.epochs) { output, epochs in
            try launch(output, epochs: epochs).wait()
        }
        let uninterrupted = RunFiles(scratch.path("uninterrupted"))
        let start = Date()
        let straight = try launch(uninterrupted.folder).wait()
        let duration = Date().timeIntervalSince(start)  // only to spread the kill moments
        try #require(straight.status == 0 && !straight.signalled, "\(straight.summary)")
        try versions.expectFinal(uninterrupted, "the uninterrupted run")

        // The kill loop: each launch resumes from the folder's state (or starts afresh) and is
        // killed at a random moment of the run's duration (even kills) or just as the n-th
        // change to the folder appears, n random (odd kills: these land inside saves).
        var generator = SeededGenerator(seed: 20_240_611)
        let killed = RunFiles(scratch.path("killed"))
        var tracker = Tracker()
        var kills = 0, midSave = 0, completions = 0, launches = 0
        while kills < 50 {
            launches += 1
            try #require(launches <= 150, "50 kills took over 150 launches")
            let process = try launch(killed.folder)
            if kills % 2 == 0 {
                let deadline = Date().addingTimeInterval(Double.random(in: 0..<duration, using: &generator))
                while process.process.isRunning && Date() < deadline { usleep(200) }
            } else {
                // A change is a file appearing, growing, shrinking, being replaced or going:
                // the n-th change seen is inside (or right after) one of the run's writes,
                // whichever way it writes.
                let n = Int.random(in: 1...16, using: &generator)
                var changes = 0
                var previous = Self.folderState(killed.folder)
                while process.process.isRunning && changes < n {
                    usleep(100)
                    let now = Self.folderState(killed.folder)
                    if now != previous { changes += 1 }
                    previous = now
                }
            }
            if process.process.isRunning { kill(process.pid, SIGKILL) }
            let outcome = process.wait()
            if outcome.signalled {
                try #require(outcome.status == SIGKILL, "\(outcome.summary)")
                kills += 1
                tracker.killed.insert(process.pid)
                if try killed.names().contains(where: { AtomicFile.temporaryOwner(ofName: $0) == process.pid }) { midSave += 1 }
                try tracker.check(killed, versions: versions, after: "kill \(kills)")
            } else {
                // It finished before its moment: a complete run, resumed through earlier kills.
                try #require(outcome.status == 0, "a launch after kill \(kills) failed: \(outcome.summary)")
                completions += 1
                try versions.expectFinal(killed, "a run completed after kill \(kills)")
                try FileManager.default.removeItem(atPath: killed.folder)
                tracker = Tracker(killed: tracker.killed)
            }
        }
        // Resume to the end once more: the same final files as the uninterrupted run.
        let last = try launch(killed.folder).wait()
        try #require(last.status == 0 && !last.signalled, "the final resume failed: \(last.summary)")
        try versions.expectFinal(killed, "the run resumed after 50 kills")
        #expect(midSave >= 1, "no kill landed inside a save (\(kills) kills, \(launches) launches)")
        print("crash safety: \(kills) kills (\(midSave) inside a save), \(completions) runs completed between kills, "
              + "\(launches + 1) launches; uninterrupted run \(String(format: "%.1f", duration)) s")
    }

    /// The folder's files with their sizes, inodes and modification times.
    static func folderState(_ folder: String) -> [String: [Int]] {
        var state: [String: [Int]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            var st = stat()
            guard stat((folder as NSString).appendingPathComponent(name), &st) == 0 else { continue }
            #if canImport(Darwin)
            let mtime = st.st_mtimespec
            #else
            let mtime = st.st_mtim
            #endif
            state[name] = [Int(st.st_size), Int(st.st_ino), Int(mtime.tv_sec), Int(mtime.tv_nsec)]
        }
        return state
    }

    /// Every complete version each file of the run takes: `last`, `state` and `best` after
    /// each epoch, and the final `metrics.jsonl`, `report.json` and `test-metrics.json`.
    struct Versions {
        var last: [SafeTensorsArchive] = []
        var state: [SafeTensorsArchive] = []
        var best: [SafeTensorsArchive] = []
        /// The final log's lines, timings removed.
        var metrics: [String] = []
        var report = ""
        var testMetrics = ""

        /// Runs `epochs` one-epoch steps in `chain` (`run(folder, k)` trains to epoch k,
        /// resuming from the folder's state) and records each file after each.
        init(chain: String, epochs: Int, run: (String, Int) throws -> HydranetProcess.Outcome) throws {
            let files = RunFiles(chain)
            for k in 1...epochs {
                let outcome = try run(chain, k)
                try #require(outcome.status == 0 && !outcome.signalled, "epoch \(k) of the reference: \(outcome.summary)")
                last.append(try files.tensors("last.safetensors"))
                state.append(try files.tensors("state.safetensors"))
                let b = try files.tensors("best.safetensors")
                if !best.contains(where: { sameTensors($0, b) }) { best.append(b) }
                #expect(try files.loggedEpochReports().map(\.epoch) == Array(1...k))
            }
            for k in 1..<epochs { try #require(!sameTensors(last[k - 1], last[k]), "epochs \(k) and \(k + 1) end alike") }
            metrics = try files.metricsLines().map(withoutTimings)
            report = try withoutTimings(files.report())
            testMetrics = try withoutTimings(files.json("test-metrics.json"))
        }

        /// Which version of `last` (or `state`) a file is; nil if none.
        func index(of archive: SafeTensorsArchive, in list: [SafeTensorsArchive]) -> Int? {
            list.firstIndex { sameTensors($0, archive) }
        }

        /// A finished run's folder holds exactly the final versions (and nothing else).
        func expectFinal(_ files: RunFiles, _ what: String) throws {
            let names = try files.names()
            #expect(names == CrashSafetyTests.files, "\(what): \(names)")
            #expect(sameTensors(try files.tensors("last.safetensors"), last.last!), "\(what): last.safetensors")
            #expect(sameTensors(try files.tensors("state.safetensors"), state.last!), "\(what): state.safetensors")
            #expect(sameTensors(try files.tensors("best.safetensors"), best.last!), "\(what): best.safetensors")
            #expect(try files.metricsLines().map(withoutTimings) == metrics, "\(what): metrics.jsonl")
            #expect(try withoutTimings(files.report()) == report, "\(what): report.json")
            #expect(try withoutTimings(files.json("test-metrics.json")) == testMetrics, "\(what): test-metrics.json")
        }
    }

    /// What a killed run's folder may hold, and how far its files got (they never go back).
    struct Tracker {
        /// The processes killed so far (their temporary files may remain until the next run
        /// starts).
        var killed: Set<Int32> = []
        var lastVersion = -1
        var stateVersion = -1

        mutating func check(_ files: RunFiles, versions: Versions, after moment: String) throws {
            for name in try files.names() {
                if let owner = AtomicFile.temporaryOwner(ofName: name) {
                    #expect(killed.contains(owner), "\(moment): \(name) belongs to no killed process")
                    continue
                }
                switch name {
                case "last.safetensors":
                    let v = try #require(versions.index(of: try files.tensors(name), in: versions.last),
                                         "\(moment): last.safetensors is no epoch's model")
                    #expect(v >= lastVersion, "\(moment): last.safetensors went back from epoch \(lastVersion + 1) to \(v + 1)")
                    lastVersion = v
                case "state.safetensors":
                    let v = try #require(versions.index(of: try files.tensors(name), in: versions.state),
                                         "\(moment): state.safetensors is no epoch's state")
                    #expect(v >= stateVersion, "\(moment): state.safetensors went back")
                    stateVersion = v
                case "best.safetensors":
                    let best = try files.tensors(name)
                    #expect(versions.best.contains { sameTensors($0, best) }, "\(moment): best.safetensors is no best model")
                case "metrics.jsonl":
                    let lines = try files.metricsLines().map(withoutTimings)
                    #expect(lines.count <= versions.metrics.count && Array(versions.metrics.prefix(lines.count)) == lines,
                            "\(moment): metrics.jsonl is not a prefix of the run's log")
                case "report.json":
                    #expect(try withoutTimings(files.report()) == versions.report, "\(moment): report.json")
                case "test-metrics.json":
                    #expect(try withoutTimings(files.json(name)) == versions.testMetrics, "\(moment): test-metrics.json")
                case "tensorboard":
                    break  // append-only event files, one per launch (TensorBoard skips a torn last record)
                case "test-evaluation.json":
                    _ = try files.json(name)  // complete (it is written once, from the final model)
                case "report.html":
                    // A page for people (with timings): complete, whichever epoch it shows.
                    let page = try String(contentsOfFile: files.path(name), encoding: .utf8)
                    #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"), "\(moment): report.html is torn")
                default:
                    Issue.record("\(moment): unexpected file \(name)")
                }
            }
        }
    }
}
