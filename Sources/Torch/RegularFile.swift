import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files that come from users (weights, images) safely.
///
/// Not memory-mapped: a file truncated by another process while mapped kills the reader
/// with SIGBUS (`torch.save` rewrites its file in place). Not a device, a pipe or a folder
/// either, which could stream forever or mean nothing: anything but a regular file is
/// refused. Callers turn a ``Failure`` into their own error type.
public enum RegularFile {
    /// Why a file could not be read.
    public enum Failure: Error, Equatable, Sendable {
        case notFound
        /// A folder, a device, a pipe, …
        case notRegular(isDirectory: Bool)
        /// open/stat/read failed; the system's message.
        case unreadable(String)
    }

    /// The bytes of the regular file at `path`. A file that shrinks while it is read yields
    /// the bytes that were there (callers validate what they parse).
    public static func read(_ path: String) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            return .failure(code == ENOENT ? .notFound : .unreadable(String(cString: strerror(code))))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular(isDirectory: (st.st_mode & S_IFMT) == S_IFDIR)) }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            while done < size {
                let n = Foundation.read(fd, raw.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if n == 0 { break }  // the file shrank meanwhile
                done += n
            }
        }
        if failure != 0 { return .failure(.unreadable(String(cString: strerror(failure)))) }
        if done < size { bytes.removeLast(size - done) }
        return .success(bytes)
    }
}
