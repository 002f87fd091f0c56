import Foundation

/// Writes `line` and a newline to standard output at once (unbuffered), so progress reaches
/// a pipe or a log file (`nohup`, CI, `| tee`) as it happens, not when the process exits.
/// The default log of ``ExperimentRun`` and ``Comparison``.
public func writeLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
