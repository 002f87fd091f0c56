import CTorch
import Foundation

/// A key-value store every rank of a group reaches over TCP (`torch.distributed.TCPStore`):
/// the rendezvous where ranks find each other. Rank 0 hosts it (`isMaster`); the others
/// connect to it. Creating it waits until `worldSize` ranks have connected, or throws after
/// `timeout`.
public final class TCPStore: @unchecked Sendable {
    let handle: ct_store

    /// - Parameters:
    ///   - host: the master's address (`MASTER_ADDR`).
    ///   - port: the master's port (`MASTER_PORT`).
    ///   - worldSize: how many ranks join.
    ///   - isMaster: whether this process hosts the store (rank 0).
    ///   - timeout: how long to wait for the others before throwing.
    public init(host: String, port: Int, worldSize: Int, isMaster: Bool, timeout: Duration) throws {
        guard (1...65535).contains(port) else { throw TorchError.invalidArgument("port \(port) is outside 1...65535") }
        guard worldSize >= 1 else { throw TorchError.invalidArgument("world size must be ≥ 1, got \(worldSize)") }
        ct_distributed_quiet_logs()
        guard let h = ct_tcp_store_create(host, Int32(port), Int32(worldSize), isMaster ? 1 : 0, timeout.milliseconds) else {
            throw DistributedError(operation: "rendezvous at \(host):\(port) (TCPStore)", rank: isMaster ? 0 : -1,
                                   worldSize: worldSize, detail: lastTorchError,
                                   explanation: "not every rank reached the rendezvous within the timeout")
        }
        handle = h
    }

    private init(handle: ct_store) { self.handle = handle }

    /// The same store with every key under `prefix` (`PrefixStore`): a separate namespace,
    /// e.g. for a second process group.
    public func prefixed(_ prefix: String) throws -> TCPStore {
        guard let h = ct_prefix_store_create(prefix, handle) else {
            throw TorchError.libtorch(op: "PrefixStore", message: lastTorchError)
        }
        return TCPStore(handle: h)
    }

    deinit { ct_store_free(handle) }

    /// Stores `value` under `key`.
    public func set(_ key: String, _ value: [UInt8]) throws {
        try tryCheck("TCPStore.set(\(key))", value.withUnsafeBufferPointer {
            ct_store_set(handle, key, $0.baseAddress, Int64($0.count))
        })
    }

    /// The value under `key`, waiting for it (up to the store's timeout).
    public func get(_ key: String) throws -> [UInt8] {
        let n = ct_store_get(handle, key, nil, 0)
        guard n >= 0 else { throw TorchError.libtorch(op: "TCPStore.get(\(key))", message: lastTorchError) }
        var out = [UInt8](repeating: 0, count: Int(n))
        let m = out.withUnsafeMutableBufferPointer { ct_store_get(handle, key, $0.baseAddress, n) }
        guard m == n else { throw TorchError.libtorch(op: "TCPStore.get(\(key))", message: lastTorchError) }
        return out
    }

    /// Atomically adds `delta` to the counter `key` and returns the new value.
    @discardableResult
    public func add(_ key: String, _ delta: Int) throws -> Int {
        let v = ct_store_add(handle, key, Int64(delta))
        guard v != Int64.min else { throw TorchError.libtorch(op: "TCPStore.add(\(key))", message: lastTorchError) }
        return Int(v)
    }
}

extension Duration {
    /// Whole milliseconds (at least 1 for a positive duration).
    var milliseconds: Int64 {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return ms == 0 && atto > 0 ? 1 : ms
    }
}
