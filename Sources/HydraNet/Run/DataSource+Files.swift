import Foundation
import HydraData

extension RunConfiguration.DataSource {
    /// The image files and labels of this source: generated synthetic faces (seeded by
    /// `seed`, written once under `cacheDirectory`), a UTKFace folder or a CSV manifest (their load
    /// report is logged, as `hydranet train` shows it).
    public func files(seed: UInt64, cacheDirectory: String, log: (String) -> Void) throws -> FileDataset {
        switch self {
        case let .synthetic(count, size):
            let generator = SyntheticFaces(count: count, size: size, seed: seed, missingRaceFraction: 0.05)
            let folder = generator.defaultFolder(cacheDirectory: cacheDirectory)
            log("data: \(count) synthetic faces (\(size)×\(size)) in \(folder)")
            return try generator.write(to: folder)
        case let .utkface(folder):
            let files = try UTKFace.load(folder: folder)
            log("data: \(files.count) UTKFace images from \(folder)")
            log(files.report.description)
            return files
        case let .csv(path, columns, imageColumn):
            let files = try CSVManifest.load(path, imageColumn: imageColumn, tasks: columns)
            log("data: \(files.count) images from the CSV manifest \(path) (tasks "
                + files.tasks.map(\.description).joined(separator: "; ") + ")")
            log(files.report.description)
            return files
        }
    }
}
