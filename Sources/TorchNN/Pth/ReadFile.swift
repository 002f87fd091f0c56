import Foundation
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of the regular file at `path`, read into memory.
///
/// Not memory-mapped: a file truncated by another process while mapped kills the reader
/// with SIGBUS (`torch.save` rewrites its file in place). Not a device or a pipe either,
/// which could stream forever: anything but a regular file is refused.
func readRegularFile(_ path: String) throws -> Data {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw TorchError.file(path: path, message: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
        throw TorchError.file(path: path, message: "cannot stat: \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw TorchError.file(path: path, message: "not a regular file") }
    let size = Int(st.st_size)
    var data = Data(count: size)
    var done = 0
    var failure: Int32 = 0
    data.withUnsafeMutableBytes { raw in
        while done < size {
            let n = read(fd, raw.baseAddress! + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            if n == 0 { break }  // the file shrank meanwhile: what was read is checked as usual
            done += n
        }
    }
    if failure != 0 { throw TorchError.file(path: path, message: "read failed: \(String(cString: strerror(failure)))") }
    if done < size { data.removeSubrange(done..<size) }
    return data
}
