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

    /// Whether bars draw in this mode here (`auto`: standard error is a terminal).
    public var isActive: Bool { enabled }

    var enabled: Bool {
        switch self {
        case .auto: isatty(STDERR_FILENO) != 0
        case .always: true
        case .never: false
        }
    }
}

/// A thread-safe text progress bar on standard error: `label  n/total [=====>    ] 48%  3512/s  ETA 2s`,
/// optionally followed by a caller's detail text (`… | loss age 0.41 | w 1.00/0.93`).
/// Workers call `advance`; it redraws at most ten times a second, in place.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let enabled: Bool
    private let showsRate: Bool
    private let initial: Int
    private let lock = NSLock()
    private var done = 0
    private var detail = ""
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var finished = false

    /// - Parameters:
    ///   - initial: work already done before this bar starts (e.g. a resumed epoch's steps):
    ///     shown in the count, left out of the rate and the ETA.
    ///   - showsRate: show the built-in items-per-second (off when the detail text shows its
    ///     own rate, e.g. images per second).
    public init(_ label: String, total: Int, mode: ProgressMode = .auto, initial: Int = 0, showsRate: Bool = true) {
        self.label = label
        self.total = max(0, total)
        self.enabled = mode.enabled
        self.initial = max(0, initial)
        self.showsRate = showsRate
        done = self.initial
    }

    /// Whether the bar draws at all (its mode allows it here).
    public var isEnabled: Bool { enabled }

    public func advance(by n: Int = 1) {
        advance(by: n, detail: nil)
    }

    /// Advances by `n` and replaces the detail text shown after the bar (nil keeps it).
    public func advance(by n: Int = 1, detail: String?) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        if let detail { self.detail = detail }
        guard enabled, !finished else { return }
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

    /// Erases the bar's line (so that a summary line can take its place).
    public func clear() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled, !finished else { return }
        finished = true
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    private func draw(now: UInt64) {
        let elapsed = Double(now - start) / 1e9
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = elapsed > 0 ? Double(done - initial) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        var line = "\r\u{1B}[2K\(label) \(done)/\(total) [\(bar)] " + String(format: "%3.0f%%", fraction * 100)
        if showsRate { line += String(format: "  %.0f/s", rate) }
        line += String(format: "  ETA %.0fs ", eta)
        if !detail.isEmpty { line += " " + detail }
        // One physical line: a wrapped line could not be redrawn in place.
        let prefix = "\r\u{1B}[2K"
        let visible = line.dropFirst(prefix.count)
        let columns = ProgressBar.terminalColumns()
        if visible.count >= columns { line = prefix + String(visible.prefix(columns - 1)) }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// The width of the terminal on standard error (80 when it cannot be read).
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 20 else { return 80 }
        return Int(size.ws_col)
    }
}
