import Foundation
import Torch

extension FuzzTarget {
    /// The safetensors reader on a file's bytes in memory (`SafeTensors.read(data:name:)`, the
    /// same validation `SafeTensors.read` runs on a mapped file). A successful read must give
    /// tensors whose sizes match their shapes.
    static let safetensors = FuzzTarget(name: "safetensors") { bytes in
        guard let archive = try? SafeTensors.read(data: Data(bytes), name: "fuzz") else { return }
        invariant(archive.names.count == archive.tensors.count, "names and tensors differ in count")
        for name in archive.names {
            guard let t = archive.tensors[name] else { fatalError("fuzz invariant broken: '\(name)' listed but absent") }
            invariant(t.count == t.shape.reduce(1, *), "'\(name)': \(t.count) elements for shape \(t.shape)")
        }
    }
}
