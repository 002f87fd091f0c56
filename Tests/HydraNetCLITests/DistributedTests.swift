import CLITestSupport
import Foundation
import HydraNet
import Testing
import TestSupport
import Torch

/// Data-parallel training as real processes: ranks of `hydranet-ddp-check` (fixed model and
/// data, a few steps) against PyTorch's DistributedDataParallel under torchrun and against
/// one process with the combined batch; two ranks in two network namespaces; a rank killed
/// or stalled; `hydranet train --nproc 2` and its resume.
@Suite("distributed training (processes)", .serialized)
struct DistributedTests {
    /// The largest difference between the floating-point tensors of two weight files (which
    /// must hold the same names).
    static func maxDifference(_ a: String, _ b: String) throws -> Double {
        let x = try SafeTensors.load(a), y = try SafeTensors.load(b)
        #expect(Set(x.keys) == Set(y.keys), "\(a) and \(b) hold different tensors")
        var worst = 0.0
        for (name, t) in x where t.dtype.isFloatingPoint {
            let u = try #require(y[name], "\(b) lacks \(name)")
            worst = max(worst, maxAbsDiff(t, u))
        }
        return worst
    }

    /// Runs `hydranet-ddp-check DIR ARGS` as `world` ranks (nil: one plain process); each rank
    /// may get extra variables and a wrapper command. Returns every rank's outcome.
    static func ranks(_ dir: String, _ arguments: [String], world: Int?, logs: URL,
                      environment: (Int) -> [String: String] = { _ in [:] },
                      wrapper: (Int) -> [String] = { _ in [] }, masterAddress: String = "127.0.0.1")
        throws -> [HydranetProcess.Outcome] {
        guard let world else {
            return [try HydranetProcess([dir] + arguments, cache: dir, logs: logs, executable: "hydranet-ddp-check")
                .wait(hangGuard: 300)]
        }
        let port = try LocalLauncher.freePort()
        let processes = try (0..<world).map { rank in
            var env = try DistributedEnvironment(masterAddress: masterAddress, masterPort: port, rank: rank,
                                                 worldSize: world).variables
            for (k, v) in environment(rank) { env[k] = v }
            return try HydranetProcess([dir] + arguments, cache: dir, logs: logs, environment: env,
                                       executable: "hydranet-ddp-check", wrapper: wrapper(rank))
        }
        return processes.map { $0.wait(hangGuard: 300) }
    }

    @Test("2 ranks × 5 steps equal PyTorch DDP under torchrun (ConvNet with BatchNorm, SGD with momentum)")
    func parityWithTorchrun() throws {
        let scratch = try ScratchFolder("ddp-torch")
        defer { scratch.cleanUp() }
        let dir = scratch.path("run")
        for outcome in try Self.ranks(dir, [], world: 2, logs: scratch.url) {
            #expect(outcome.status == 0, "\(outcome.summary)")
        }
        let port = try LocalLauncher.freePort()
        try PythonReference.run(["-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", String(port),
                                 PythonReference.packageRoot.appendingPathComponent("Tests/Python/ddp_reference.py").path,
                                 dir, scratch.path("torch.safetensors")])
        let difference = try Self.maxDifference(dir + "/final.safetensors", scratch.path("torch.safetensors"))
        #expect(difference <= 1e-5, "HydraNet DDP vs PyTorch DDP: max |Δw| = \(difference)")
        // The run moved the weights (the comparison is not between two untouched copies).
        let moved = try Self.maxDifference(dir + "/final.safetensors", dir + "/init.safetensors")
        #expect(moved > 1e-2, "the weights barely changed: \(moved)")
    }

    @Test("2 ranks equal one process with the combined batch (no BatchNorm), for loss- and gradient-level methods",
          arguments: [["--weighting", "equal"], ["--weighting", "uncertainty"], ["--weighting", "pcgrad"],
                      ["--weighting", "upgrad"], ["--weighting", "upgrad", "--source", "features"],
                      ["--weighting", "pcgrad", "--source", "features"]])
    func parityWithCombinedBatch(_ method: [String]) throws {
        let scratch = try ScratchFolder("ddp-combined")
        defer { scratch.cleanUp() }
        let arguments = ["--backbone", "mlp"] + method
        let single = try Self.ranks(scratch.path("single"), arguments, world: nil, logs: scratch.url)
        let double = try Self.ranks(scratch.path("double"), arguments, world: 2, logs: scratch.url)
        for outcome in single + double { #expect(outcome.status == 0, "\(outcome.summary)") }
        let difference = try Self.maxDifference(scratch.path("single/final.safetensors"),
                                                scratch.path("double/final.safetensors"))
        #expect(difference <= 1e-5, "\(method): 2 ranks vs one process, max |Δw| = \(difference)")
        // Each rank saw half of every batch: the ranks' step losses differ from the single run's
        // only by that; the two runs must not be the same process in disguise.
        #expect(single[0].stdout.contains("step 5:") && double[0].stdout.contains("step 5:"))
    }

    @Test("no_sync gradient accumulation: 2 ranks × 2 micro-batches equal one process with the combined batch")
    func accumulationWithNoSync() throws {
        let scratch = try ScratchFolder("ddp-nosync")
        defer { scratch.cleanUp() }
        let single = try Self.ranks(scratch.path("single"), ["--backbone", "mlp"], world: nil, logs: scratch.url)
        let accumulated = try Self.ranks(scratch.path("accumulated"), ["--backbone", "mlp", "--accumulate", "2"], world: 2,
                                         logs: scratch.url)
        for outcome in single + accumulated { #expect(outcome.status == 0, "\(outcome.summary)") }
        #expect(accumulated[0].stdout.contains("step 5: accumulated 2"), "\(accumulated[0].stdout)")
        let difference = try Self.maxDifference(scratch.path("single/final.safetensors"),
                                                scratch.path("accumulated/final.safetensors"))
        #expect(difference <= 1e-5, "accumulation under noSync vs one process: max |Δw| = \(difference)")
    }

    @Test("synchronized BatchNorm: 2 ranks equal one process with the combined batch (ConvNet), local BatchNorm does not")
    func synchronizedBatchNorm() throws {
        let scratch = try ScratchFolder("ddp-syncbn")
        defer { scratch.cleanUp() }
        let single = try Self.ranks(scratch.path("single"), ["--backbone", "convnet"], world: nil, logs: scratch.url)
        let synced = try Self.ranks(scratch.path("synced"), ["--backbone", "convnet", "--sync-bn", "1"], world: 2,
                                    logs: scratch.url)
        let local = try Self.ranks(scratch.path("local"), ["--backbone", "convnet"], world: 2, logs: scratch.url)
        for outcome in single + synced + local { #expect(outcome.status == 0, "\(outcome.summary)") }
        let difference = try Self.maxDifference(scratch.path("single/final.safetensors"),
                                                scratch.path("synced/final.safetensors"))
        #expect(difference <= 1e-5, "synchronized BatchNorm, 2 ranks vs one process: max |Δw| = \(difference)")
        // Local statistics are a different computation: the comparison can tell them apart.
        let localDifference = try Self.maxDifference(scratch.path("single/final.safetensors"),
                                                     scratch.path("local/final.safetensors"))
        #expect(localDifference > 1e-3, "local BatchNorm matched the combined batch: \(localDifference)")
    }

    @Test("two hosts: ranks in two network namespaces joined by a veth pair reach the loopback run's weights")
    func twoNetworkNamespaces() throws {
        #expect(getuid() == 0, "network namespaces need root (CI runs as root)")
        let scratch = try ScratchFolder("ddp-netns")
        defer { scratch.cleanUp() }
        let tag = String(getpid() % 10000)
        let (a, b) = ("hn\(tag)a", "hn\(tag)b")
        let (ifA, ifB) = ("hv\(tag)a", "hv\(tag)b")
        let (addrA, addrB) = ("10.231.\(getpid() % 200).1", "10.231.\(getpid() % 200).2")
        @discardableResult
        func ip(_ words: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            p.arguments = words.split(separator: " ").map(String.init)
            let err = Pipe()
            p.standardError = err
            try p.run()
            p.waitUntilExit()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            try #require(p.terminationStatus == 0, "ip \(words): \(message)")
            return message
        }
        defer {
            for ns in [a, b] { try? ip("netns delete \(ns)") }
        }
        try ip("netns add \(a)")
        try ip("netns add \(b)")
        try ip("link add \(ifA) type veth peer name \(ifB)")
        try ip("link set \(ifA) netns \(a)")
        try ip("link set \(ifB) netns \(b)")
        try ip("netns exec \(a) ip addr add \(addrA)/24 dev \(ifA)")
        try ip("netns exec \(b) ip addr add \(addrB)/24 dev \(ifB)")
        for (ns, dev) in [(a, ifA), (b, ifB)] {
            try ip("netns exec \(ns) ip link set \(dev) up")
            try ip("netns exec \(ns) ip link set lo up")
        }
        let arguments = ["--backbone", "mlp", "--weighting", "equal"]
        let hosts = try Self.ranks(scratch.path("hosts"), arguments, world: 2, logs: scratch.url,
                                   environment: { ["GLOO_SOCKET_IFNAME": $0 == 0 ? ifA : ifB] },
                                   wrapper: { ["/usr/sbin/ip", "netns", "exec", $0 == 0 ? a : b] },
                                   masterAddress: addrA)
        let loopback = try Self.ranks(scratch.path("loopback"), arguments, world: 2, logs: scratch.url)
        for outcome in hosts + loopback { #expect(outcome.status == 0, "\(outcome.summary)") }
        let difference = try Self.maxDifference(scratch.path("hosts/final.safetensors"),
                                                scratch.path("loopback/final.safetensors"))
        #expect(difference <= 1e-6, "two namespaces vs loopback: max |Δw| = \(difference)")
    }

    @Test("a rank killed or stalled mid-run: the other exits with a clear error (no hang)")
    func deadOrStalledPeer() throws {
        let scratch = try ScratchFolder("ddp-fault")
        defer { scratch.cleanUp() }
        for stall in [false, true] {
            let port = try LocalLauncher.freePort()
            func rank(_ r: Int, _ extra: [String]) throws -> HydranetProcess {
                let env = try DistributedEnvironment(masterAddress: "127.0.0.1", masterPort: port, rank: r, worldSize: 2).variables
                return try HydranetProcess([scratch.path("fault"), "--backbone", "mlp", "--steps", "400", "--timeout", "5"] + extra,
                                           cache: scratch.path("c"), logs: scratch.url, environment: env,
                                           executable: "hydranet-ddp-check")
            }
            let survivor = try rank(0, [])
            let victim = try rank(1, ["--pause-after", "3"])
            while victim.process.isRunning && !victim.stdoutSoFar.contains("paused") { Thread.sleep(forTimeInterval: 0.05) }
            if !stall { kill(victim.pid, SIGKILL) }
            let outcome = survivor.wait(hangGuard: 120)
            kill(victim.pid, SIGKILL)
            _ = victim.wait()
            #expect(!outcome.signalled && outcome.status != 0, "\(outcome.summary)")
            #expect(outcome.stderr.contains("allreduce failed on rank 0 of 2: another rank exited, stalled past the timeout"),
                    "stall \(stall): \(outcome.stderr)")
            // gloo's own words: a stalled peer times out; a dead one drops its connection.
            #expect(stall ? outcome.stderr.contains("Timed out")
                          : outcome.stderr.contains("Connection closed by peer") || outcome.stderr.contains("reset by peer"),
                    "stall \(stall): \(outcome.stderr)")
        }
    }

    @Test("rendezvous: a missing peer or an unreachable master is an error within the timeout")
    func rendezvousTimeout() throws {
        let scratch = try ScratchFolder("ddp-rendezvous")
        defer { scratch.cleanUp() }
        for rank in [0, 1] {
            // Rank 0 waits for a worker that never comes; rank 1 looks for a master that is not there.
            let env = try DistributedEnvironment(masterAddress: "127.0.0.1", masterPort: try LocalLauncher.freePort(),
                                                 rank: rank, worldSize: 2).variables
            let outcome = try HydranetProcess([scratch.path("r"), "--timeout", "2"], cache: scratch.path("c"), logs: scratch.url,
                                              environment: env, executable: "hydranet-ddp-check").wait(hangGuard: 120)
            #expect(!outcome.signalled && outcome.status != 0, "\(outcome.summary)")
            #expect(outcome.stderr.contains("(TCPStore) failed") && outcome.stderr.contains("not every rank reached the rendezvous"),
                    "rank \(rank): \(outcome.stderr)")
            // One clear line, not c10d's retry logs with C++ backtraces.
            #expect(!outcome.stderr.contains("frame #"), "rank \(rank): \(outcome.stderr)")
        }
    }

    @Test("hydranet train --nproc 2: one run folder written by rank 0; killed mid-epoch, --resume continues the group")
    func trainNprocAndResume() throws {
        let scratch = try ScratchFolder("ddp-train")
        defer { scratch.cleanUp() }
        let out = scratch.path("run")
        let base = ["train", "--synthetic-count", "240", "--image-size", "16", "--backbone", "convnet", "--batch-size", "16",
                    "--epochs", "3", "--schedule", "none", "--output", out, "--distributed-timeout", "20"]
        // Two workers started as torchrun starts them; rank 1 killed while epoch 2 runs.
        let port = try LocalLauncher.freePort()
        let workers = try (0..<2).map { r in
            try HydranetProcess(base + ["--threads", "1"], cache: scratch.path("cache"), logs: scratch.url,
                                environment: try DistributedEnvironment(masterAddress: "127.0.0.1", masterPort: port,
                                                                        rank: r, worldSize: 2).variables)
        }
        while workers[0].process.isRunning && !workers[0].stdoutSoFar.contains("epoch 1/3") { Thread.sleep(forTimeInterval: 0.02) }
        kill(workers[1].pid, SIGKILL)
        let first = workers[0].wait(hangGuard: 180)
        _ = workers[1].wait()
        #expect(!first.signalled && first.status != 0, "\(first.summary)")
        #expect(first.stderr.contains("failed on rank 0 of 2: another rank exited"), "\(first.stderr)")
        #expect(first.stdout.contains("distributed: rank 0 of 2"), "\(first.stdout)")
        let files = RunFiles(out)
        #expect(files.exists("state.safetensors"), "epoch 1's state is missing")

        // The whole group resumes from rank 0's state through the launcher.
        let resumed = try HydranetProcess.run(base + ["--nproc", "2", "--resume", files.path("state.safetensors")],
                                              cache: scratch.path("cache"), logs: scratch.url)
        #expect(resumed.status == 0, "\(resumed.summary)")
        #expect(resumed.stdout.contains("resumed from"), "\(resumed.stdout)")
        // Only rank 0 logs: each epoch line once.
        for epoch in 2...3 {
            #expect(resumed.stdout.components(separatedBy: "epoch \(epoch)/3").count == 2, "\(resumed.stdout)")
        }
        let reports = try files.epochReports()
        #expect(reports.map(\.epoch) == [1, 2, 3])
        #expect(files.exists("test-metrics.json") && files.exists("best.safetensors"))
    }
}
