import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When to draw progress bars (always on standard error).
public enum ProgressMode: String, Sendable, Codable {
    /// Only when standard error is a terminal.
    case auto
    case always
    case never

    var enabled: Bool {
        switch self {
        case .auto: isatty(STDERR_FILENO) != 0
        case .always: true
        case .never: false
        }
    }
}

/// A thread-safe text progress bar on standard error: `label  n/total [=====>    ] 48%  3512/s  ETA 2s`.
/// Workers call `advance`; it redraws at most ten times a second.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let lock = NSLock()
    private var done = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var finished = false

    public init(_ label: String, total: Int, mode: ProgressMode = .auto) {
        self.label = label
        self.total = max(0, total)
        self.enabled = mode.enabled
    }

    public func advance(by n: Int = 1) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lastDraw >= 100_000_000 || done >= total {
            lastDraw = now
            draw(now: now)
        }
    }

    /// Draws the final state and ends the line.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled, !finished else { return }
        finished = true
        draw(now: DispatchTime.now().uptimeNanoseconds)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(now: UInt64) {
        let elapsed = Double(now - start) / 1e9
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = "\r\(label) \(done)/\(total) [\(bar)] " + String(format: "%3.0f%%  %.0f/s  ETA %.0fs ", fraction * 100, rate, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
