import Foundation
import HydraData

extension FuzzTarget {
    /// The CSV manifest parser (`CSVManifest.parse`, what `load` runs on the file's bytes) with
    /// a UTKFace-like set of task columns (`path`, `age`, `gender`, `race`), class names
    /// inferred and given. An input may hold a second file after its first NUL byte: a
    /// class-mapping JSON (`{"task": ["name", …]}`), decoded as `load` decodes it, so both files
    /// a user supplies are fuzzed. A parsed manifest must have a label or nil for every task of
    /// every row, each index inside its task's classes.
    static let csv = FuzzTarget(name: "csv") { bytes in
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        var mapping: [String: [String]] = [:]
        if split < bytes.endIndex {
            let json = Data(bytes[(split + 1)...])
            // `load` refuses a mapping that does not decode.
            guard let decoded = try? JSONDecoder().decode([String: [String]].self, from: json) else { return }
            mapping = decoded
        }
        let manifest = Data(bytes[..<split])
        for tasks in taskSets {
            guard let data = try? CSVManifest.parse(manifest, path: "fuzz.csv", tasks: tasks, root: "/fuzz", name: "fuzz",
                                                    classMapping: mapping)
            else { continue }
            invariant(!data.files.isEmpty, "a manifest with no rows parsed")
            for file in data.files {
                invariant(file.labels.count == tasks.count, "\(file.labels.count) labels for \(tasks.count) tasks")
                for (label, spec) in zip(file.labels, data.tasks) {
                    guard let label, !spec.classNames.isEmpty else { continue }
                    invariant(label >= 0 && Int(label) < spec.classNames.count, "label \(label) of '\(spec.name)'")
                }
            }
        }
    }
}

private let taskSets: [[CSVManifest.Column]] = [
    [.regression("age"), .binary("gender"), .classification("race")],
    [.binary("gender", classNames: ["m", "f"]), .classification("race", classNames: ["a", "b", "c"])],
]
