import Foundation

/// Image files named on a command line: a file stands for itself; a folder for every
/// `.jpg`, `.jpeg` and `.png` file under it (recursively, sorted by path).
public enum ImageFiles {
    /// File name extensions taken from folders (case-insensitive).
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The image files `path` names. Throws `DataError.fileNotFound` for a missing path and
    /// `.emptyFolder` for a folder without images.
    public static func list(_ path: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DataError.fileNotFound(path: path)
        }
        guard isFolder.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw DataError.unreadableFile(path: path, reason: "cannot list the folder")
        }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            guard extensions.contains((relative as NSString).pathExtension.lowercased()) else { continue }
            let full = (path as NSString).appendingPathComponent(relative)
            var dir: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { files.append(full) }
        }
        guard !files.isEmpty else {
            throw DataError.emptyFolder(path: path, detail: "no .jpg, .jpeg or .png files in it or below it")
        }
        return files.sorted()
    }
}
