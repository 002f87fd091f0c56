import Torch

extension FuzzTarget {
    /// The safetensors reader on the raw file bytes (the same decoder `SafeTensors.read` runs
    /// on a memory-mapped file). A successful read must give tensors whose sizes match their
    /// shapes.
    static let safetensors = FuzzTarget(name: "safetensors") { bytes in
        guard let archive = try? SafeTensors.decode(bytes) else { return }
        invariant(archive.names.count == archive.tensors.count, "names and tensors differ in count")
        for name in archive.names {
            guard let t = archive.tensors[name] else { fatalError("fuzz invariant broken: '\(name)' listed but absent") }
            invariant(t.count == t.shape.reduce(1, *), "'\(name)': \(t.count) elements for shape \(t.shape)")
        }
    }
}
