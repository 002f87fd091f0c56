import Foundation
import Torch

/// A CSV manifest: one row per image, an image-path column and one column per task.
///
/// - Paths are relative to the manifest's folder (or `root`), or absolute.
/// - Regression columns hold numbers; classification and binary columns hold class indices
///   or class names, which are mapped to indices (sorted by name unless the column gives the
///   list). The mapping is available as `FileDataset.classMappingJSON()` and, with
///   `classMappingFile`, saved to disk and reused by later runs so indices stay stable.
/// - Multi-label columns hold label names separated by `;` or `|` (`smiling;glasses`, in any
///   order); a cell of a single `-` is a sample that has none of the labels (present, all
///   0), and an empty cell is a missing label (masked), as for every kind.
/// - An empty cell is a missing label for that task.
/// - Two rows may not name the same image file.
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
            /// Label names separated by `;` or `|`, `-` for none; with `labelNames`, any other
            /// name is an error (otherwise the sorted names found are the labels). At most
            /// ``TaskKind/maxMultilabelLabels`` labels.
            case multilabel(labelNames: [String]?)
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
        public static func multilabel(_ name: String, labelNames: [String]? = nil) -> Column {
            Column(name: name, kind: .multilabel(labelNames: labelNames))
        }

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
        }

        /// Parses a task declaration, as the command line's `--task` takes it:
        /// `NAME:regression`, `NAME:binary[:NEG,POS]`, `NAME:multiclass[:A,B,C]` (or
        /// `classification`), `NAME:multilabel[:A,B,C]`. Without class names they are read
        /// from the data (sorted). Kinds are case-insensitive; names are trimmed.
        ///
        /// - Throws: `DataError.invalidArgument` naming the declaration and what is wrong.
        public init(declaration: String) throws {
            func fail(_ message: String) -> DataError {
                .invalidArgument("task declaration '\(declaration)': \(message)")
            }
            let usage = "expected NAME:KIND[:CLASSES] with KIND one of regression, binary, multiclass "
                + "(or classification), multilabel, e.g. hair:multiclass:black,brown,blond"
            let parts = declaration.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2 else { throw fail(usage) }
            let name = parts[0]
            guard !name.isEmpty else { throw fail("the task name is empty; \(usage)") }
            var classes: [String]?
            if parts.count == 3 {
                let list = parts[2].split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard !parts[2].isEmpty else { throw fail("no class names after the last ':'") }
                guard !list.contains(where: \.isEmpty) else { throw fail("an empty class name in '\(parts[2])'") }
                var seen = Set<String>()
                for c in list where !seen.insert(c).inserted { throw fail("class '\(c)' is listed twice") }
                classes = list
            }
            switch parts[1].lowercased() {
            case "regression":
                guard classes == nil else { throw fail("a regression task takes no class names") }
                self.init(name: name, kind: .regression)
            case "binary":
                if let classes, classes.count != 2 {
                    throw fail("a binary task needs exactly 2 class names (negative,positive), got \(classes.count)")
                }
                self.init(name: name, kind: .binary(classNames: classes))
            case "multiclass", "classification":
                if let classes, classes.count < 2 { throw fail("a multiclass task needs at least 2 class names") }
                self.init(name: name, kind: .classification(classNames: classes))
            case "multilabel":
                if let classes {
                    if let bad = classes.first(where: { !CSVManifest.isValidLabelName($0) }) {
                        throw fail("label name '\(bad)' is not allowed (no ';' or '|', and not '-')")
                    }
                    guard classes.count <= TaskKind.maxMultilabelLabels else {
                        throw fail("\(classes.count) labels; at most \(TaskKind.maxMultilabelLabels) are supported")
                    }
                }
                self.init(name: name, kind: .multilabel(labelNames: classes))
            default:
                throw fail("unknown kind '\(parts[1])'; \(usage)")
            }
        }

        /// The declaration that ``init(declaration:)`` parses back to this column.
        public var declaration: String {
            func list(_ names: [String]?) -> String { names.map { ":" + $0.joined(separator: ",") } ?? "" }
            switch kind {
            case .regression: return "\(name):regression"
            case let .binary(names): return "\(name):binary" + list(names)
            case let .classification(names): return "\(name):multiclass" + list(names)
            case let .multilabel(names): return "\(name):multilabel" + list(names)
            }
        }
    }

    /// Whether `name` can be a multilabel label name (cells separate names by `;` or `|`, and
    /// `-` means no labels).
    static func isValidLabelName(_ name: String) -> Bool {
        !name.isEmpty && name != "-" && !name.contains(";") && !name.contains("|")
    }

    /// The label names of a multilabel cell (`-`: none); nil when a non-empty cell names none.
    static func labelNames(inCell cell: String) -> [String]? {
        if cell == "-" { return [] }
        let names = cell.split(whereSeparator: { $0 == ";" || $0 == "|" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }

    /// `path` without `.` components, repeated slashes and `dir/..` pairs (no file system
    /// access: symbolic links are not followed).
    static func lexicallyNormalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// The header cells (trimmed) of the manifest at `path`, e.g. to list the columns a user
    /// can declare as tasks.
    /// - Throws: `DataError.fileNotFound`, `.unreadableFile`, `.malformedManifest`.
    public static func header(of path: String) throws -> [String] {
        let bytes = try ImageCodec.readFile(path)
        guard let text = String(data: Data(bytes), encoding: .utf8) else {
            throw DataError.malformedManifest(path: path, line: 1, message: "the file is not UTF-8 text")
        }
        // Only the first record is needed (a quoted cell may span lines, so parse from the top).
        guard let header = try parseCSV(text, path: path).first else {
            throw DataError.malformedManifest(path: path, line: 1, message: "no header row")
        }
        return header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
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
    ///   `.notNumeric`, `.duplicateImage`, `.malformedManifest`.
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
                                root: root ?? CSVManifest.folder(of: path), name: datasetName,
                                classMapping: savedMapping)
        if let mappingPath = classMappingFile, !FileManager.default.fileExists(atPath: mappingPath) {
            try writeText(dataset.classMappingJSON(), to: mappingPath)
        }
        return dataset
    }

    /// The folder of a file path ("." for a bare file name).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
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
            case let .multilabel(given):
                var names: [String]
                if let list = given ?? savedMapping[column.name] {
                    guard !list.isEmpty, Set(list).count == list.count, list.allSatisfy(isValidLabelName) else {
                        throw DataError.invalidArgument("label names for multilabel column '\(column.name)' must be non-empty, "
                            + "distinct, without ';' or '|' and not '-', got \(list)")
                    }
                    names = list
                } else {
                    // Malformed cells are reported with their line below.
                    names = Array(Set(cells.flatMap { labelNames(inCell: $0) ?? [] })).sorted()
                    guard !names.isEmpty else {
                        throw DataError.invalidArgument("multilabel column '\(column.name)' names no labels; declare them "
                            + "(\(column.name):multilabel:a,b,c)")
                    }
                }
                guard names.count <= TaskKind.maxMultilabelLabels else {
                    throw DataError.invalidArgument("multilabel column '\(column.name)' has \(names.count) labels; at most "
                        + "\(TaskKind.maxMultilabelLabels) are supported")
                }
                specs.append(.multilabel(column.name, labelNames: names))
                lookup.append(Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) }))
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
        var firstLine: [String: Int] = [:]  // resolved image path → line of its first row
        for row in body {
            let imagePath = row.cells[imageIndex].trimmingCharacters(in: .whitespaces)
            guard !imagePath.isEmpty else {
                throw DataError.malformedManifest(path: path, line: row.line, message: "empty image path in column '\(imageColumn)'")
            }
            let resolved = imagePath.hasPrefix("/") ? imagePath : (base as NSString).appendingPathComponent(imagePath)
            let identity = lexicallyNormalized(resolved)
            if let first = firstLine[identity] {
                throw DataError.duplicateImage(path: path, image: imagePath, firstLine: first, line: row.line)
            }
            firstLine[identity] = row.line
            var labels: [Double?] = []
            for (t, column) in tasks.enumerated() {
                let cell = row.cells[taskIndices[t]].trimmingCharacters(in: .whitespaces)
                if cell.isEmpty {
                    labels.append(nil)
                    continue
                }
                if case .multilabel = column.kind, let map = lookup[t] {
                    guard let names = labelNames(inCell: cell) else {
                        throw DataError.malformedManifest(path: path, line: row.line, message: "cell '\(cell)' of multilabel "
                            + "column '\(column.name)' names no label; write '-' for a sample with none of the labels")
                    }
                    var indices: [Int] = []
                    for label in names {
                        guard let index = map[label] else {
                            throw DataError.unknownClass(path: path, line: row.line, column: column.name, value: label,
                                                         known: specs[t].classNames)
                        }
                        indices.append(index)
                    }
                    labels.append(TaskKind.encodeLabelSet(indices))
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
