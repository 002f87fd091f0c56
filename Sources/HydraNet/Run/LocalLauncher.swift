import Foundation
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts `processes` local copies of a command as one data-parallel group, as
/// `torchrun --nproc-per-node N` does: each gets torchrun's variables (`MASTER_ADDR`,
/// `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`), rank 0's output is passed through,
/// the others' standard output is dropped (their errors still show, prefixed with the rank).
///
/// When one worker fails, the others notice through their collectives and fail too; the
/// launcher waits for all and returns the first failure's status (0 when all succeed). A
/// SIGINT or SIGTERM sent to the launcher is forwarded to every worker.
public struct LocalLauncher {
    public var executable: String
    public var arguments: [String]
    public var processes: Int
    public var masterPort: Int?

    public init(executable: String, arguments: [String], processes: Int, masterPort: Int? = nil) throws {
        guard processes >= 1 else { throw HydraError.invalidConfiguration("--nproc must be ≥ 1, got \(processes)") }
        self.executable = executable
        self.arguments = arguments
        self.processes = processes
        self.masterPort = masterPort
    }

    /// Intra-op threads per worker when the user chose none: the machine's cores shared out.
    public static func threadsPerWorker(processes: Int) -> Int {
        Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / Swift.max(processes, 1))
    }

    /// A TCP port that was free a moment ago on the loopback interface.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HydraError.invalidConfiguration("no socket for a free port: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, length) == 0 else { return -1 }
                return getsockname(fd, p, &length)
            }
        }
        guard bound == 0 else { throw HydraError.invalidConfiguration("could not bind a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs the workers to completion; returns the exit status to report.
    public func run() throws -> Int32 {
        let port = try masterPort ?? LocalLauncher.freePort()
        var workers: [Process] = []
        var errorPipes: [Pipe] = []
        let base = ProcessInfo.processInfo.environment
        for rank in 0..<processes {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = arguments
            var env = base
            let e = try DistributedEnvironment(masterAddress: "127.0.0.1", masterPort: port, rank: rank,
                                               worldSize: processes, localRank: rank)
            for (k, v) in e.variables { env[k] = v }
            p.environment = env
            if rank != 0 {
                p.standardOutput = FileHandle.nullDevice
                let pipe = Pipe()
                p.standardError = pipe
                pipe.fileHandleForReading.readabilityHandler = { handle in
                    let data = handle.availableData
                    guard !data.isEmpty, let text = String(data: data, encoding: .utf8) else { return }
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                    let prefixed = lines.enumerated().map { i, l in
                        i == lines.count - 1 && l.isEmpty ? "" : "[rank \(rank)] \(l)\n"
                    }.joined()
                    FileHandle.standardError.write(Data(prefixed.utf8))
                }
                errorPipes.append(pipe)
            }
            try p.run()
            workers.append(p)
        }
        // Forward interrupts: each worker stops after its current step (they agree on which).
        let forward: [DispatchSourceSignal] = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue(label: "hydranet.launcher"))
            source.setEventHandler { for w in workers where w.isRunning { kill(w.processIdentifier, sig) } }
            source.resume()
            return source
        }
        defer {
            for s in forward { s.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        var status: Int32 = 0
        for w in workers {
            w.waitUntilExit()
            let code = w.terminationReason == .uncaughtSignal ? 128 + w.terminationStatus : w.terminationStatus
            if status == 0 && code != 0 { status = code }
        }
        for pipe in errorPipes {
            pipe.fileHandleForReading.readabilityHandler = nil
            let rest = pipe.fileHandleForReading.readDataToEndOfFile()
            if !rest.isEmpty { FileHandle.standardError.write(rest) }
        }
        return status
    }
}
