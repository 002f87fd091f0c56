import Foundation

/// The CLI's one writer for standard output: every `print` in this module comes here, and
/// each call reaches the file descriptor at once (one `write`). Swift's own `print` goes
/// through C's `stdout`, which is block-buffered on a pipe or a file: a `nohup` log or a CI
/// job would show nothing until the process exits.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator) + terminator
    StandardOutput.shared.write(text)
}

final class StandardOutput: @unchecked Sendable {
    static let shared = StandardOutput()
    private let lock = NSLock()

    func write(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
