import Foundation
import Testing

/// The inputs that once crashed a fuzz target, kept as regression cases in
/// `Fuzz/regressions/<target>/` (one file per input, as libFuzzer wrote it; see Fuzz/README.md).
/// Test suites feed each file to the parser the way the target does and expect a thrown error.
public enum FuzzRegressions {
    /// The regression inputs of one target, sorted by name (empty if it has none).
    public static func inputs(_ target: String) -> [Input] {
        let folder = PythonReference.packageRoot.appendingPathComponent("Fuzz/regressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map {
            Input(name: $0, path: folder.appendingPathComponent($0).path)
        }
    }

    /// One regression input: its file name (shown in test results) and path.
    public struct Input: Sendable, CustomTestStringConvertible {
        public let name: String
        public let path: String

        public var bytes: [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }
        public var testDescription: String { name }
    }
}
