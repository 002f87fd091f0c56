#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file in a per-process folder under `$HYDRANET_FUZZ_SCRATCH` (default `/dev/shm`: memory,
/// not disk) for parsers whose only entry point takes a path. Rewritten for every input; the
/// folder is removed at a normal exit (after a crash `scripts/fuzz` removes the whole scratch
/// folder it made).
struct ScratchFile {
    let path: String

    init(_ name: String) {
        path = "\(ScratchFile.folder)/\(name)"
    }

    /// Replaces the file's contents with `bytes`.
    func store(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot create \(path): \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
        close(fd)
    }

    /// Removes the file (for optional inputs absent from this run).
    func remove() { unlink(path) }

    /// Removes the per-process folder and what is in it (at exit).
    private static func removeFolder() {
        guard let dir = opendir(folder) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { unlink("\(folder)/\(name)") }
        }
        closedir(dir)
        rmdir(folder)
    }

    private static let folder: String = {
        let base = getenv("HYDRANET_FUZZ_SCRATCH").map { String(cString: $0) }
            ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
        let folder = "\(base)/hydranet-fuzz-\(getpid())"
        mkdir(folder, 0o700)
        atexit { ScratchFile.removeFolder() }
        return folder
    }()
}
