import Foundation
import HydraData

/// A folder of `count` small generated faces (`img/N.jpg`) and a manifest `faces.csv` with
/// an age, a hair-colour and a multilabel `tags` column (some cells missing, some `-`).
public func writeTinyCSV(in folder: String, count: Int = 24) throws -> String {
    try FileManager.default.createDirectory(atPath: "\(folder)/img", withIntermediateDirectories: true)
    let faces = SyntheticFaces(count: count, size: 16, seed: 4)
    let hair = ["black", "brown", "blond"]
    let tags = ["-", "glasses", "hat", "glasses;hat", "", "beard|hat"]
    var rows = ["path,age,hair,tags"]
    for i in 0..<count {
        try Data(try ImageCodec.encodeJPEG(faces.render(i))).write(to: URL(fileURLWithPath: "\(folder)/img/\(i).jpg"))
        rows.append("img/\(i).jpg,\(i % 5 == 4 ? "" : String(20 + i)),\(hair[i % 3]),\(tags[i % tags.count])")
    }
    let path = "\(folder)/faces.csv"
    try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    return path
}
