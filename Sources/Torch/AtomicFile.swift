import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file writes: every file HydraNet writes (checkpoints, training states, the
/// decoded cache, reports, metrics logs) goes through `write(_:to:)`, so a
/// reader — or a run resumed after a crash, a `SIGKILL` or a power cut — sees either the
/// complete previous version of a file or the complete new one, never a partial file.
///
/// The bytes go to a temporary file in the target's folder (`.<name>.tmp-<pid>-<random>`),
/// which is flushed to disk (`fsync`) and renamed over the target; then the folder itself
/// is flushed, so the rename survives a power cut. A process killed mid-write leaves only
/// its temporary file behind; ``removeStaleTemporaries(in:)`` deletes those of dead
/// processes.
public enum AtomicFile {
    /// Writes `bytes` to `path`, replacing any existing file atomically and durably.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(raw: $0, to: path) }
    }

    /// Writes `data` to `path`, replacing any existing file atomically and durably.
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write(raw: $0, to: path) }
    }

    /// The marker in temporary file names: `.<name>.tmp-<pid>-<random>`.
    static let marker = ".tmp-"

    /// The temporary file name for a write of `path` by this process.
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent)\(marker)\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The process id that wrote a temporary file named `name`, or nil if `name` is not
    /// one of ours.
    public static func temporaryOwner(ofName name: String) -> Int32? {
        guard name.hasPrefix("."), let range = name.range(of: marker, options: .backwards) else { return nil }
        let parts = name[range.upperBound...].split(separator: "-")
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1], radix: 16) != nil else { return nil }
        return pid
    }

    /// Whether `name` is a temporary file of an unfinished write (by any process).
    public static func isTemporary(_ name: String) -> Bool { temporaryOwner(ofName: name) != nil }

    /// Deletes the temporary files in `directory` left by processes that no longer run
    /// (killed mid-write); returns their names. Files of running processes stay.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = temporaryOwner(ofName: name), pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH {
                if unlink((directory as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
            }
        }
        return removed
    }

    private static func write(raw: UnsafeRawBufferPointer, to path: String) throws {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TorchError.file(path: path, message: "cannot create \(tmp): \(errnoText())") }
        var failure: String?
        var written = 0
        while written < raw.count {
            let n = posixWrite(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = "write failed: \(errnoText())"
                break
            }
            written += n
        }
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(errnoText())" }
        if close(fd) != 0 && failure == nil { failure = "close failed: \(errnoText())" }
        if let failure {
            unlink(tmp)
            throw TorchError.file(path: path, message: failure)
        }
        guard rename(tmp, path) == 0 else {
            let message = errnoText()
            unlink(tmp)
            throw TorchError.file(path: path, message: "cannot rename \(tmp) over it: \(message)")
        }
        try syncDirectory(of: path)
    }

    /// Flushes the folder holding `path`, so a rename in it is on disk.
    private static func syncDirectory(of path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw TorchError.file(path: path, message: "cannot open its folder to sync it: \(errnoText())") }
        defer { close(fd) }
        // Some file systems cannot sync a folder (EINVAL); the rename is then as durable as
        // they make it.
        if fsync(fd) != 0 && errno != EINVAL {
            throw TorchError.file(path: path, message: "cannot sync its folder: \(errnoText())")
        }
    }
}

/// The POSIX `write`, under a name that does not clash with `AtomicFile.write(_:to:)`.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
