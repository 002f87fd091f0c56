import Foundation

/// Where this process sits in a distributed run, as `torchrun` describes it in the
/// environment: `MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`.
public struct DistributedEnvironment: Sendable, Equatable {
    public var masterAddress: String
    public var masterPort: Int
    public var rank: Int
    public var worldSize: Int
    /// The rank among the processes on this machine.
    public var localRank: Int
    /// The network interface gloo uses (`GLOO_SOCKET_IFNAME`; nil: by hostname).
    public var socketInterface: String?

    public init(masterAddress: String, masterPort: Int, rank: Int, worldSize: Int, localRank: Int? = nil) throws {
        guard worldSize >= 1 else { throw TorchError.invalidArgument("WORLD_SIZE must be ≥ 1, got \(worldSize)") }
        guard (0..<worldSize).contains(rank) else {
            throw TorchError.invalidArgument("RANK \(rank) is outside 0..<WORLD_SIZE (\(worldSize))")
        }
        guard (1...65535).contains(masterPort) else {
            throw TorchError.invalidArgument("MASTER_PORT \(masterPort) is outside 1...65535")
        }
        guard !masterAddress.isEmpty else { throw TorchError.invalidArgument("MASTER_ADDR is empty") }
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank ?? rank
    }

    /// The run described by torchrun's variables, or nil when `WORLD_SIZE` and `RANK` are
    /// not set (a single-process run). `MASTER_ADDR` defaults to 127.0.0.1 and
    /// `MASTER_PORT` to 29500, as in PyTorch.
    ///
    /// - Throws: `TorchError.invalidArgument` naming the variable that is malformed.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> DistributedEnvironment? {
        guard env["WORLD_SIZE"] != nil || env["RANK"] != nil else { return nil }
        func int(_ name: String, default value: Int? = nil) throws -> Int {
            guard let text = env[name] else {
                if let value { return value }
                throw TorchError.invalidArgument("\(name) is not set (a distributed run needs RANK and WORLD_SIZE)")
            }
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw TorchError.invalidArgument("\(name)=\(text) is not an integer")
            }
            return v
        }
        var e = try DistributedEnvironment(masterAddress: env["MASTER_ADDR"] ?? "127.0.0.1",
                                           masterPort: int("MASTER_PORT", default: 29500),
                                           rank: int("RANK"), worldSize: int("WORLD_SIZE"),
                                           localRank: int("LOCAL_RANK", default: try int("RANK")))
        e.socketInterface = env["GLOO_SOCKET_IFNAME"].flatMap { $0.isEmpty ? nil : $0 }
        return e
    }

    /// The variables a worker of this run gets (torchrun's names).
    public var variables: [String: String] {
        var v = ["MASTER_ADDR": masterAddress, "MASTER_PORT": String(masterPort), "RANK": String(rank),
                 "WORLD_SIZE": String(worldSize), "LOCAL_RANK": String(localRank)]
        if let socketInterface { v["GLOO_SOCKET_IFNAME"] = socketInterface }
        return v
    }
}
