import Foundation

/// The UTKFace dataset: a folder of `age_gender_race_datetime.jpg.chip.jpg` faces.
///
/// Labels come from the file's base name (never from the folder path, unlike the article's
/// `path[8:]`). The released data has irregular names, handled as follows:
/// - a missing field (`61_1_20170109142408075.jpg.chip.jpg` has no race) is a **missing
///   label** for that task: the image is kept and the label masked, never guessed;
/// - spaces before the extension and a missing dot before `jpg` are tolerated;
/// - names whose label fields cannot be read, and values out of range (age outside
///   0…120, gender not 0/1, race not 0…4), are skipped and reported.
public enum UTKFace {
    /// The three UTKFace tasks: age (regression), gender (binary), race (5 classes).
    public static let tasks: [TaskSpec] = [
        .regression("age"),
        .binary("gender", classNames: ["male", "female"]),
        .classification("race", classNames: ["White", "Black", "Asian", "Indian", "Others"]),
    ]

    public static let ageRange = 0...120
    public static let raceCount = 5

    /// What a file name says.
    public struct ParsedName: Sendable, Equatable {
        public var age: Int?
        public var gender: Int?
        public var race: Int?
        /// Irregularities that did not prevent reading (e.g. "missing race field").
        public var notes: [String]

        public var labels: [Double?] { [age.map(Double.init), gender.map(Double.init), race.map(Double.init)] }
    }

    /// Why a name was rejected.
    public struct NameError: Error, Sendable, Equatable {
        public var reason: SkipReason
        public var detail: String
    }

    /// Note texts used in reports.
    public enum Note {
        public static func missingField(_ task: String) -> String { "missing \(task) field (\(task) label masked)" }
        public static func emptyField(_ task: String) -> String { "empty \(task) field (\(task) label masked)" }
        public static let spaceBeforeExtension = "whitespace before the extension"
        public static let noDotBeforeExtension = "no dot before the extension"
    }

    /// Parses a file's base name (any folder part is ignored).
    public static func parse(_ fileName: String) -> Result<ParsedName, NameError> {
        let base = String(fileName.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        let fields = base.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        let names = ["age", "gender", "race"]
        var notes: [String] = []

        // The date field starts with a long digit run; label fields come before it.
        let dateIndex = fields.firstIndex { leadingDigits($0).count >= 8 }
        var labelFields = Array(fields[..<(dateIndex ?? fields.count)])
        if dateIndex == nil, let last = labelFields.popLast() {
            // No date: the last field carries the extension ("25_0_1.jpg").
            labelFields.append(stripExtension(last, notes: &notes))
        }
        guard labelFields.count <= 3 else {
            return .failure(NameError(reason: .unreadableName,
                                      detail: "\(labelFields.count) label fields before the date (expected age_gender_race)"))
        }
        if let d = dateIndex {
            let tail = fields[d...].joined(separator: "_")
            let stem = String(tail.prefix { $0 != "." })
            let rest = stem.dropFirst(leadingDigits(stem).count)
            if rest.first?.isWhitespace == true || stem.last?.isWhitespace == true {
                notes.append(Note.spaceBeforeExtension)
            }
            let letters = rest.trimmingCharacters(in: .whitespaces).lowercased()
            if ["jpg", "jpeg", "png"].contains(where: { letters.hasPrefix($0) }) {
                notes.append(Note.noDotBeforeExtension)
            }
        }
        var values: [Int?] = [nil, nil, nil]
        for (i, name) in names.enumerated() {
            guard i < labelFields.count else {
                notes.append(Note.missingField(name))
                continue
            }
            let text = labelFields[i].trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                notes.append(Note.emptyField(name))
                continue
            }
            guard text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let v = Int(text) else {
                return .failure(NameError(reason: .unreadableName, detail: "\(name) field '\(labelFields[i])' is not a number"))
            }
            values[i] = v
        }
        if values.allSatisfy({ $0 == nil }) {
            return .failure(NameError(reason: .unreadableName, detail: "no age, gender or race in the name"))
        }
        if let a = values[0], !ageRange.contains(a) {
            return .failure(NameError(reason: .outOfRange, detail: "age \(a) outside \(ageRange.lowerBound)…\(ageRange.upperBound)"))
        }
        if let g = values[1], g != 0, g != 1 {
            return .failure(NameError(reason: .outOfRange, detail: "gender \(g) is not 0 or 1"))
        }
        if let r = values[2], !(0..<raceCount).contains(r) {
            return .failure(NameError(reason: .outOfRange, detail: "race \(r) outside 0…\(raceCount - 1)"))
        }
        return .success(ParsedName(age: values[0], gender: values[1], race: values[2], notes: notes))
    }

    /// Loads the labels of every image in `folder` (names only; nothing is decoded). Files
    /// that are not `.jpg`/`.jpeg`/`.png` are ignored; skipped files and irregular names are
    /// in the returned dataset's `report`.
    ///
    /// - Throws: `DataError.folderNotFound`, `.notAFolder`, `.emptyFolder`, or
    ///   `.noUsableImages` when every image name is unreadable.
    public static func load(folder: String, name: String = "utkface") throws -> FileDataset {
        let listing = try ImageFolder.list(folder)
        var files: [LabeledFile] = []
        var skipped: [SkippedFile] = []
        var notes: [NameNote] = []
        files.reserveCapacity(listing.images.count)
        for file in listing.images {
            switch parse(file) {
            case let .success(parsed):
                files.append(LabeledFile(name: file, path: listing.root + "/" + file, labels: parsed.labels))
                notes += parsed.notes.map { NameNote(name: file, note: $0) }
            case let .failure(error):
                skipped.append(SkippedFile(name: file, reason: error.reason, detail: error.detail))
            }
        }
        let report = DatasetReport(name: name, root: listing.root, tasks: tasks, files: files, skipped: skipped,
                                   notes: notes, ignored: listing.ignored)
        guard !files.isEmpty else { throw DataError.noUsableImages(path: listing.root, summary: report.description) }
        return FileDataset(name: name, root: listing.root, tasks: tasks, files: files, report: report)
    }

    /// The UTKFace file name for labels (the datetime field is any 17-digit stamp).
    public static func fileName(age: Int, gender: Int, race: Int, stamp: UInt64) -> String {
        let digits = String(stamp % 100_000_000_000_000_000)
        return "\(age)_\(gender)_\(race)_\(String(repeating: "0", count: 17 - digits.count))\(digits).jpg.chip.jpg"
    }

    private static func leadingDigits(_ s: String) -> Substring {
        s.prefix { $0.isASCII && $0.isNumber }
    }

    private static func stripExtension(_ field: String, notes: inout [String]) -> String {
        var stem = String(field.prefix { $0 != "." })
        for ext in ["jpeg", "jpg", "png"] where stem.lowercased().hasSuffix(ext) && stem.count > ext.count {
            stem.removeLast(ext.count)
            notes.append(Note.noDotBeforeExtension)
            break
        }
        if stem.last?.isWhitespace == true { notes.append(Note.spaceBeforeExtension) }
        return stem
    }
}

/// Listing image files in a folder (not recursive).
enum ImageFolder {
    static let imageExtensions = [".jpg", ".jpeg", ".png"]

    struct Listing {
        var root: String
        var images: [String]
        var ignored: [String]
    }

    static func isImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return imageExtensions.contains { lower.hasSuffix($0) }
    }

    /// The image files of `folder`, sorted by name; hidden files are skipped silently.
    static func list(_ folder: String) throws -> Listing {
        let root = (folder as NSString).standardizingPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw DataError.folderNotFound(path: root)
        }
        guard isDirectory.boolValue else { throw DataError.notAFolder(path: root) }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw DataError.unreadableFile(path: root, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        var images: [String] = [], ignored: [String] = []
        for e in entries where !e.hasPrefix(".") {
            if isImageName(e) { images.append(e) } else { ignored.append(e) }
        }
        images.sort()
        guard !images.isEmpty else {
            let detail = ignored.isEmpty ? "the folder is empty"
                : "\(ignored.count) file(s), none ending in .jpg, .jpeg or .png"
            throw DataError.emptyFolder(path: root, detail: detail)
        }
        return Listing(root: root, images: images, ignored: ignored)
    }
}
