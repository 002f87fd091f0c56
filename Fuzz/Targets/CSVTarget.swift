import HydraData

extension FuzzTarget {
    /// The CSV manifest loader with a UTKFace-like set of task columns (`path`, `age`,
    /// `gender`, `race`), class names inferred and given. An input may hold a second file after
    /// its first NUL byte: a class-mapping JSON (`{"task": ["name", …]}`), which `load` reads
    /// when it exists, so both files a user supplies are fuzzed. A loaded manifest must have a
    /// label or nil for every task of every row, each index inside its task's classes.
    static let csv = FuzzTarget(name: "csv") { bytes in
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        manifestFile.store(UnsafeRawBufferPointer(rebasing: bytes[..<split]))
        if split < bytes.endIndex {
            mappingFile.store(UnsafeRawBufferPointer(rebasing: bytes[(split + 1)...]))
        } else {
            mappingFile.remove()
        }
        for tasks in taskSets {
            guard let data = try? CSVManifest.load(manifestFile.path, imageColumn: "path", tasks: tasks,
                                                   classMappingFile: split < bytes.endIndex ? mappingFile.path : nil)
            else { continue }
            invariant(!data.files.isEmpty, "a manifest with no rows loaded")
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

private let manifestFile = ScratchFile("manifest.csv")
private let mappingFile = ScratchFile("classes.json")

private let taskSets: [[CSVManifest.Column]] = [
    [.regression("age"), .binary("gender"), .classification("race")],
    [.binary("gender", classNames: ["m", "f"]), .classification("race", classNames: ["a", "b", "c"])],
]
