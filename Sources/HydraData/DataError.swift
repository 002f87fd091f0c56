/// Errors the data layer throws for problems in user input (files, folders, manifests,
/// options). Each message names the file (and line, for manifests) and says what is wrong.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file that should exist does not.
    case fileNotFound(path: String)
    /// A file exists but cannot be read (permissions, a folder where a file was expected, I/O).
    case unreadableFile(path: String, reason: String)
    /// A zero-byte file.
    case emptyFile(path: String)
    /// The bytes are neither JPEG nor PNG (whatever the file name says).
    case notAnImage(path: String, reason: String)
    /// A JPEG or PNG that its decoder rejects (truncated, corrupt, unsupported).
    case corruptImage(path: String, reason: String)
    /// An image with more pixels than the configured limit (a decompression bomb guard).
    case imageTooLarge(path: String, reason: String)
    /// The dataset folder does not exist.
    case folderNotFound(path: String)
    /// The dataset path exists but is not a folder.
    case notAFolder(path: String)
    /// The folder holds no image files.
    case emptyFolder(path: String, detail: String)
    /// Every candidate file was skipped; `summary` says why.
    case noUsableImages(path: String, summary: String)
    /// A manifest lacks a column the caller asked for.
    case missingColumn(path: String, column: String, available: [String])
    /// A manifest row has a different number of cells than the header.
    case raggedRow(path: String, line: Int, expected: Int, found: Int)
    /// A class name that is not in the task's class list.
    case unknownClass(path: String, line: Int, column: String, value: String, known: [String])
    /// A regression (or class-index) cell that is not a number.
    case notNumeric(path: String, line: Int, column: String, value: String)
    /// Two manifest rows name the same image file (`image` as the later row writes it).
    case duplicateImage(path: String, image: String, firstLine: Int, line: Int)
    /// A manifest that cannot be parsed (unterminated quote, no header, bad encoding).
    case malformedManifest(path: String, line: Int, message: String)
    /// A cache file that exists but cannot be used.
    case cache(path: String, message: String)
    /// An invalid option or argument.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .fileNotFound(path): "\(path): no such file"
        case let .unreadableFile(path, reason): "\(path): cannot read the file: \(reason)"
        case let .emptyFile(path): "\(path): the file is empty (0 bytes)"
        case let .notAnImage(path, reason): "\(path): not an image: \(reason)"
        case let .corruptImage(path, reason): "\(path): corrupt image: \(reason)"
        case let .imageTooLarge(path, reason): "\(path): image too large: \(reason)"
        case let .folderNotFound(path): "\(path): no such folder"
        case let .notAFolder(path): "\(path): not a folder"
        case let .emptyFolder(path, detail): "\(path): no images in the folder (\(detail))"
        case let .noUsableImages(path, summary): "\(path): no usable images; every file was skipped:\n\(summary)"
        case let .missingColumn(path, column, available):
            "\(path): no column '\(column)' in the header (columns: \(available.map { "'\($0)'" }.joined(separator: ", ")))"
        case let .raggedRow(path, line, expected, found):
            "\(path), line \(line): \(found) cells, but the header has \(expected) columns"
        case let .unknownClass(path, line, column, value, known):
            "\(path), line \(line): unknown class '\(value)' in column '\(column)' (known: "
                + "\(known.map { "'\($0)'" }.joined(separator: ", ")))"
        case let .notNumeric(path, line, column, value):
            "\(path), line \(line): '\(value)' in column '\(column)' is not a number"
        case let .duplicateImage(path, image, firstLine, line):
            "\(path), line \(line): image '\(image)' is listed twice (first on line \(firstLine)); each image may have one row"
        case let .malformedManifest(path, line, message): "\(path), line \(line): \(message)"
        case let .cache(path, message): "\(path): decoded cache: \(message)"
        case let .invalidArgument(message): message
        }
    }

    /// The file the error is about, if any.
    public var path: String? {
        switch self {
        case let .fileNotFound(p), let .unreadableFile(p, _), let .emptyFile(p), let .notAnImage(p, _),
             let .corruptImage(p, _), let .imageTooLarge(p, _), let .folderNotFound(p), let .notAFolder(p),
             let .emptyFolder(p, _), let .noUsableImages(p, _), let .missingColumn(p, _, _),
             let .raggedRow(p, _, _, _), let .unknownClass(p, _, _, _, _), let .notNumeric(p, _, _, _),
             let .malformedManifest(p, _, _), let .cache(p, _), let .duplicateImage(p, _, _, _):
            p
        case .invalidArgument: nil
        }
    }
}
