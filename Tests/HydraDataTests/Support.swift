import Foundation
import HydraData
import Testing
import Torch

/// The shared UTKFace copy (`../shared/datasets/utkface` beside the package), if present.
let utkfaceFolder: String = PythonReference.packageRoot
    .appendingPathComponent("../shared/datasets/utkface").standardizedFileURL.path

let hasUTKFace: Bool = FileManager.default.fileExists(atPath: utkfaceFolder + "/SOURCE.md")
    || ((try? FileManager.default.contentsOfDirectory(atPath: utkfaceFolder))?.isEmpty == false)

/// The message shown when UTKFace tests are skipped.
let utkfaceMissing: Comment = "skipped: ../shared/datasets/utkface is absent (real-data checks need it)"

/// A fresh, empty temporary folder for one test.
func temporaryFolder(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("hydradata-tests-\(getpid())/\(clean)-\(UInt32.random(in: 0...UInt32.max))").path
    try? FileManager.default.removeItem(atPath: path)
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The bytes of a uint8 tensor.
func bytes(of t: Tensor) -> [UInt8] { t.contiguous().scalars(as: UInt8.self) }

/// Mean and max |a − b| of two uint8 tensors (as Doubles).
func differences(_ a: Tensor, _ b: Tensor) -> (mean: Double, max: Double) {
    let d = (a.to(dtype: .float64) - b.to(dtype: .float64)).abs()
    return (d.mean().item(), d.max().item())
}

/// A small synthetic UTKFace folder, generated once per process and shared read-only.
let sharedSynthetic: (folder: String, dataset: FileDataset) = {
    let folder = temporaryFolder("sharedSynthetic")
    let generator = SyntheticFaces(count: 40, size: 48, seed: 7, missingRaceFraction: 0.1)
    let dataset = try! generator.write(to: folder)
    return (folder, dataset)
}()
