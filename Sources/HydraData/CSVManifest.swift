import Foundation
import Torch

/// A CSV manifest: one row per image, an image-path column and one column per task.
///
/// - Paths are relative to the manifest's folder (or `root`), or absolute.
/// - Regression columns hold numbers; classification and binary columns hold class indices
///   or class names, which are mapped to indices (sorted by name unless the column gives the
///   list). The mapping is available as `FileDataset.classMappingJSON()` and, with
///   `classMappingFile`, saved to disk and reused by later runs so indices stay stable.
/// - An empty cell is a missing label for that task.
/// - RFC 4180 quoting (`"a, b"`, `""` for a quote), a UTF-8 BOM and CRLF line ends are accepted.
public struct CSVManifest {
    /// A task column of the manifest.
    public struct Column: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case regression
            /// 0/1, true/false, or two class names (given or sorted).
            case binary(classNames: [String]?)
            /// Class indices or class names; with `classNames`, any other name is an error.
            case classification(classNames: [String]?)
        }

        public var name: String
        public var kind: Kind

        public static func regression(_ name: String) -> Column { Column(name: name, kind: .regression) }
        public static func binary(_ name: String, classNames: [String]? = nil) -> Column {
            Column(name: name, kind: .binary(classNames: classNames))
        }
        public static func classification(_ name: String, classNames: [String]? = nil) -> Column {
            Column(name: name, kind: .classification(classNames: classNames))
        }
    }

    /// Loads a manifest.
    ///
    /// - Parameters:
    ///   - path: the CSV file.
    ///   - imageColumn: the header of the image-path column.
    ///   - tasks: the task columns to read, in task order.
    ///   - root: the folder relative paths are resolved against (default: the CSV's folder).
    ///   - classMappingFile: a JSON file `{"task": ["name0", ...]}`; read if it exists (its
    ///     lists then fix the indices), written after loading otherwise.
    /// - Throws: `DataError.fileNotFound`, `.missingColumn`, `.raggedRow`, `.unknownClass`,
    ///   `.notNumeric`, `.malformedManifest`.
    public static func load(_ path: String, imageColumn: String = "path", tasks: [Column], root: String? = nil,
                            name: String? = nil, classMappingFile: String? = nil) throws -> FileDataset {
        let bytes = try ImageCodec.readFile(path)
        var savedMapping: [String: [String]] = [:]
        if let mappingPath = classMappingFile, FileManager.default.fileExists(atPath: mappingPath) {
            let data = try ImageCodec.readFile(mappingPath)
            guard let decoded = try? JSONDecoder().decode([String: [String]].self, from: Data(data)) else {
                throw DataError.malformedManifest(path: mappingPath, line: 1,
                                                  message: "class mapping is not a JSON object of string lists")
            }
            savedMapping = decoded
        }
        let datasetName = name ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let dataset = try parse(Data(bytes), path: path, imageColumn: imageColumn, tasks: tasks,
                                root: root ?? (path as NSString).deletingLastPathComponent, name: datasetName,
                                classMapping: savedMapping)
        if let mappingPath = classMappingFile, !FileManager.default.fileExists(atPath: mappingPath) {
            try writeText(dataset.classMappingJSON(), to: mappingPath)
        }
        return dataset
    }

    /// The most classes a column of raw class indices may imply (its largest index + 1).
    public static let maxClasses = 1_000_000

    /// Parses a manifest held in memory (as ``load(_:imageColumn:tasks:root:name:classMappingFile:)``
    /// does after reading the file); nothing is read from or written to disk.
    ///
    /// - Parameters:
    ///   - path: names the manifest in error messages.
    ///   - root: the folder relative image paths are resolved against.
    ///   - classMapping: class lists by task (as a class mapping file holds) that fix the indices.
    public static func parse(_ data: Data, path: String, imageColumn: String = "path", tasks: [Column], root: String,
                             name: String, classMapping savedMapping: [String: [String]] = [:]) throws -> FileDataset {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.malformedManifest(path: path, line: 1, message: "the file is not UTF-8 text")
        }
        let rows = try parseCSV(text, path: path)
        guard let header = rows.first else {
            throw DataError.malformedManifest(path: path, line: 1, message: "no header row")
        }
        let headerCells = header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
        func columnIndex(_ column: String) throws -> Int {
            guard let i = headerCells.firstIndex(of: column) else {
                throw DataError.missingColumn(path: path, column: column, available: headerCells)
            }
            return i
        }
        let imageIndex = try columnIndex(imageColumn)
        let taskIndices = try tasks.map { try columnIndex($0.name) }
        guard tasks.count == Set(tasks.map(\.name)).count else {
            throw DataError.invalidArgument("task columns must be distinct: \(tasks.map(\.name))")
        }

        let body = Array(rows.dropFirst()).filter { !($0.cells.count == 1 && $0.cells[0].trimmingCharacters(in: .whitespaces).isEmpty) }
        for row in body where row.cells.count != headerCells.count {
            throw DataError.raggedRow(path: path, line: row.line, expected: headerCells.count, found: row.cells.count)
        }

        // Resolve each task's class list.
        var specs: [TaskSpec] = []
        var lookup: [[String: Int]?] = []  // nil: numeric (regression or raw indices)
        for (t, column) in tasks.enumerated() {
            let cells = body.map { $0.cells[taskIndices[t]].trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            switch column.kind {
            case .regression:
                specs.append(.regression(column.name))
                lookup.append(nil)
            case let .binary(given):
                let names = given ?? savedMapping[column.name]
                if let names {
                    guard names.count == 2, names[0] != names[1] else {
                        throw DataError.invalidArgument("binary column '\(column.name)' needs exactly 2 distinct class names, "
                            + "got \(names)")
                    }
                    specs.append(.binary(column.name, classNames: names))
                    lookup.append(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
                } else if cells.allSatisfy({ ["0", "1", "true", "false"].contains($0.lowercased()) }) {
                    specs.append(.binary(column.name, classNames: ["0", "1"]))
                    lookup.append(["0": 0, "1": 1, "false": 0, "true": 1, "False": 0, "True": 1, "FALSE": 0, "TRUE": 1])
                } else {
                    let distinct = Array(Set(cells)).sorted()
                    guard distinct.count <= 2 else {
                        throw DataError.invalidArgument("binary column '\(column.name)' has \(distinct.count) distinct values "
                            + "(\(distinct.prefix(5).joined(separator: ", "))…); use a classification column")
                    }
                    var names = distinct
                    for placeholder in ["<absent>", "<absent 2>", "<absent 3>"] where names.count < 2 && !names.contains(placeholder) {
                        names.append(placeholder)
                    }
                    specs.append(.binary(column.name, classNames: names))
                    lookup.append(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
                }
            case let .classification(given):
                if let names = given ?? savedMapping[column.name] {
                    guard !names.isEmpty, Set(names).count == names.count else {
                        throw DataError.invalidArgument("class names for '\(column.name)' must be non-empty and distinct")
                    }
                    specs.append(.classification(column.name, classNames: names))
                    lookup.append(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
                } else if !cells.isEmpty, cells.allSatisfy({ Int($0) != nil }) {
                    let maxIndex = cells.compactMap { Int($0) }.max() ?? 0
                    guard maxIndex < maxClasses else {
                        let line = body.first { $0.cells[taskIndices[t]].trimmingCharacters(in: .whitespaces) == String(maxIndex) }?.line
                        throw DataError.malformedManifest(path: path, line: line ?? 2, message: "class index \(maxIndex) in "
                            + "column '\(column.name)' implies more than \(maxClasses) classes")
                    }
                    specs.append(.classification(column.name, classNames: (0...max(0, maxIndex)).map(String.init)))
                    lookup.append(nil)
                } else {
                    let names = Array(Set(cells)).sorted()
                    specs.append(.classification(column.name, classNames: names))
                    lookup.append(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
                }
            }
        }

        let base = root
        var files: [LabeledFile] = []
        files.reserveCapacity(body.count)
        for row in body {
            let imagePath = row.cells[imageIndex].trimmingCharacters(in: .whitespaces)
            guard !imagePath.isEmpty else {
                throw DataError.malformedManifest(path: path, line: row.line, message: "empty image path in column '\(imageColumn)'")
            }
            var labels: [Double?] = []
            for (t, column) in tasks.enumerated() {
                let cell = row.cells[taskIndices[t]].trimmingCharacters(in: .whitespaces)
                if cell.isEmpty {
                    labels.append(nil)
                    continue
                }
                if let map = lookup[t] {
                    guard let index = map[cell] ?? map[cell.lowercased()] else {
                        throw DataError.unknownClass(path: path, line: row.line, column: column.name, value: cell,
                                                     known: specs[t].classNames)
                    }
                    labels.append(Double(index))
                } else if column.kind == .regression {
                    // Labels are float32 tensors: a value past Float's range is refused here.
                    guard let v = Double(cell), v.isFinite, Float(v).isFinite else {
                        throw DataError.notNumeric(path: path, line: row.line, column: column.name, value: cell)
                    }
                    labels.append(v)
                } else {
                    guard let index = Int(cell) else {
                        throw DataError.notNumeric(path: path, line: row.line, column: column.name, value: cell)
                    }
                    guard index >= 0 && index < specs[t].classNames.count else {
                        throw DataError.unknownClass(path: path, line: row.line, column: column.name, value: cell,
                                                     known: specs[t].classNames)
                    }
                    labels.append(Double(index))
                }
            }
            let resolved = imagePath.hasPrefix("/") ? imagePath : (base as NSString).appendingPathComponent(imagePath)
            files.append(LabeledFile(name: imagePath, path: resolved, labels: labels))
        }
        guard !files.isEmpty else {
            throw DataError.malformedManifest(path: path, line: 2, message: "the manifest has a header but no rows")
        }
        return FileDataset(name: name, root: base, tasks: specs, files: files)
    }

    struct Row {
        var line: Int
        var cells: [String]
    }

    /// RFC 4180 parsing. Lines are 1-based physical line numbers of each record's start.
    static func parseCSV(_ text: String, path: String) throws -> [Row] {
        var rows: [Row] = []
        var cells: [String] = []
        var cell = ""
        var inQuotes = false
        var afterQuote = false
        var line = 1
        var rowStart = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRow() {
            cells.append(cell)
            rows.append(Row(line: rowStart, cells: cells))
            cells = []
            cell = ""
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        cell.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if c == "\n" { line += 1 }
                    cell.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case ",":
                    cells.append(cell)
                    cell = ""
                    afterQuote = false
                case "\r":
                    break
                case "\n":
                    endRow()
                    afterQuote = false
                    line += 1
                    rowStart = line
                case "\"":
                    guard cell.trimmingCharacters(in: .whitespaces).isEmpty, !afterQuote else {
                        throw DataError.malformedManifest(path: path, line: line, message: "a quote inside an unquoted cell")
                    }
                    cell = ""
                    inQuotes = true
                default:
                    if afterQuote && c != " " && c != "\t" {
                        throw DataError.malformedManifest(path: path, line: line, message: "text after a closing quote")
                    }
                    if !afterQuote { cell.unicodeScalars.append(c) }
                }
            }
            i += 1
        }
        if inQuotes {
            throw DataError.malformedManifest(path: path, line: rowStart, message: "unterminated quoted cell")
        }
        if !cell.isEmpty || !cells.isEmpty { endRow() }
        return rows
    }
}

/// Writes text crash-safely (``AtomicFile``: temp file, fsync, rename).
func writeText(_ text: String, to path: String) throws {
    do {
        try AtomicFile.write(Data(text.utf8), to: path)
    } catch {
        throw DataError.unreadableFile(path: path, reason: "cannot write: \(error)")
    }
}
