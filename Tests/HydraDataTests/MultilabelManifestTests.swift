import Foundation
import HydraData
import Testing
import Torch

/// Multi-label CSV columns through the data pipeline, duplicate image rows, and task
/// declarations (`NAME:KIND[:CLASSES]`).
@Suite("CSV manifests: multilabel columns, duplicates, declarations")
struct MultilabelManifestTests {
    /// A folder with `count` small JPEGs (`img/0.jpg` …) and a manifest written from `csv`.
    func manifest(_ csv: String, count: Int = 4) throws -> String {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(atPath: "\(folder)/img", withIntermediateDirectories: true)
        let faces = SyntheticFaces(count: count, size: 16, seed: 3)
        for i in 0..<count { try write(try ImageCodec.encodeJPEG(faces.render(i)), to: "\(folder)/img/\(i).jpg") }
        try write(Array(csv.utf8), to: "\(folder)/faces.csv")
        return "\(folder)/faces.csv"
    }

    static let csv = "path,age,tags\n"
        + "img/0.jpg,30,glasses;hat\n"   // two labels (';')
        + "img/1.jpg,40,-\n"             // present, none of the labels
        + "img/2.jpg,50,\n"              // missing (masked)
        + "img/3.jpg,60, beard | glasses \n"  // '|' and spaces

    @Test("label sets parse (';', '|', '-', empty), encode as bit masks and decode to N×k rows")
    func parseAndDecode() throws {
        let path = try manifest(Self.csv)
        let ds = try CSVManifest.load(path, tasks: [.regression("age"), .multilabel("tags")])
        // Inferred label names are sorted.
        #expect(ds.tasks[1] == .multilabel("tags", labelNames: ["beard", "glasses", "hat"]))
        #expect(ds.tasks[1].kind == .multilabel(labels: 3))
        let encoded = ds.files.map { $0.labels[1] }
        #expect(encoded == [TaskKind.encodeLabelSet([1, 2]), 0, nil, TaskKind.encodeLabelSet([0, 1])])
        #expect(TaskKind.decodeLabelSet(encoded[0]!) == [1, 2] && TaskKind.decodeLabelSet(0) == [])
        // Per-label counts over the labelled samples.
        let summary = ds.report.taskSummaries[1]
        #expect(summary.labeled == 3 && summary.missing == 1 && summary.classCounts == [1, 2, 1])
        #expect(ds.report.description.contains("tags: 3 labelled, 1 missing; beard 1 (33.3%), glasses 2 (66.7%), hat 1 (33.3%)"),
                "\(ds.report.description)")

        let decoded = try DecodedCache.decode(ds, transform: ImageTransform(size: 8), options: DecodeOptions(progress: .never))
        let tags = decoded.labels[1]
        #expect(tags.shape == [4, 3] && tags.dtype == .float32)
        #expect(tags.scalars(as: Float.self) == [0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0])
        #expect(decoded.masks[1].scalars(as: Bool.self) == [true, true, false, true])
        #expect(decoded.labels(at: 0) == [30, TaskKind.encodeLabelSet([1, 2])])
        #expect(decoded.labels(at: 2) == [50, nil])
        #expect(decoded.labelMask(at: 1) == [true, true])

        // Subsets keep the rows (and their rank-2 labels).
        let sub = try decoded.subset([3, 0])
        #expect(sub.labels[1].shape == [2, 3] && sub.labels[1].scalars(as: Float.self) == [1, 1, 0, 0, 1, 1])

        // Batches: labels B×k, masks [B].
        let loader = try DataLoader(decoded, options: LoaderOptions(batchSize: 3, shuffle: false, prefetch: false))
        let batches = Array(loader.epoch(0))
        #expect(batches.map { $0.labels[1].shape } == [[3, 3], [1, 3]])
        #expect(batches.map { $0.masks[1].shape } == [[3], [1]])
        #expect(batches[0].labels[0].shape == [3])
    }

    @Test("the decoded cache stores and reads multilabel tensors")
    func cacheRoundTrip() throws {
        let path = try manifest(Self.csv)
        let ds = try CSVManifest.load(path, tasks: [.multilabel("tags", labelNames: ["hat", "glasses", "beard"])])
        let cache = DecodedCache(directory: temporaryFolder())
        let first = try cache.load(ds, transform: ImageTransform(size: 8), options: DecodeOptions(progress: .never))
        let second = try cache.load(ds, transform: ImageTransform(size: 8), options: DecodeOptions(progress: .never))
        #expect(!first.cacheStatus.isHit && second.cacheStatus.isHit)
        #expect(second.tasks == first.tasks && second.labels[0].shape == [4, 3])
        #expect(second.labels[0].equal(first.labels[0]) && second.masks[0].equal(first.masks[0]))
        // The given order fixes the indices: hat 0, glasses 1, beard 2.
        #expect(second.labels[0].scalars(as: Float.self) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    }

    @Test("an unknown label name, a cell naming no label, a multilabel column without labels")
    func badCells() throws {
        let path = try manifest(Self.csv)
        #expect(throws: DataError.unknownClass(path: path, line: 2, column: "tags", value: "hat",
                                               known: ["glasses", "beard"])) {
            try CSVManifest.load(path, tasks: [.multilabel("tags", labelNames: ["glasses", "beard"])])
        }
        let empty = try manifest("path,tags\nimg/0.jpg,hat\nimg/1.jpg,;\n")
        #expect(throws: DataError.malformedManifest(path: empty, line: 3, message: "cell ';' of multilabel column 'tags' "
                                                    + "names no label; write '-' for a sample with none of the labels")) {
            try CSVManifest.load(empty, tasks: [.multilabel("tags")])
        }
        let none = try manifest("path,tags\nimg/0.jpg,-\nimg/1.jpg,\n")
        #expect(throws: DataError.invalidArgument("multilabel column 'tags' names no labels; declare them (tags:multilabel:a,b,c)")) {
            try CSVManifest.load(none, tasks: [.multilabel("tags")])
        }
        // Decoded tensors that are not 0/1 are refused.
        let images = Tensor.zeros([2, 3, 4, 4], dtype: .uint8)
        #expect(throws: DataError.self) {
            try DecodedDataset(name: "x", tasks: [.multilabel("t", labelNames: ["a", "b"])], transform: ImageTransform(size: 4),
                               images: images, labels: [Tensor([0, 2, 1, 0] as [Float], shape: [2, 2])],
                               masks: [Tensor([true, true])], names: ["a", "b"], contentHashes: [1, 2])
        }
        // …and so are rank-1 labels for a multilabel task.
        #expect(throws: DataError.self) {
            try DecodedDataset(name: "x", tasks: [.multilabel("t", labelNames: ["a", "b"])], transform: ImageTransform(size: 4),
                               images: images, labels: [Tensor([0, 1] as [Float])],
                               masks: [Tensor([true, true])], names: ["a", "b"], contentHashes: [1, 2])
        }
    }

    @Test("two rows naming the same image: an error with the path and both lines")
    func duplicateImage() throws {
        let path = try manifest("path,age\nimg/0.jpg,3\nimg/1.jpg,4\nimg/0.jpg,5\n")
        let error = DataError.duplicateImage(path: path, image: "img/0.jpg", firstLine: 2, line: 4)
        #expect(throws: error) { try CSVManifest.load(path, tasks: [.regression("age")]) }
        #expect(error.description == "\(path), line 4: image 'img/0.jpg' is listed twice (first on line 2); each image may have one row")
        // The same file spelled differently is the same image.
        let spelled = try manifest("path,age\nimg/1.jpg,3\n./img//1.jpg,4\n")
        #expect(throws: DataError.duplicateImage(path: spelled, image: "./img//1.jpg", firstLine: 2, line: 3)) {
            try CSVManifest.load(spelled, tasks: [.regression("age")])
        }
    }

    @Test("task declarations: every kind, with and without class names, round trip")
    func declarations() throws {
        let cases: [(String, CSVManifest.Column)] = [
            ("age:regression", .regression("age")),
            ("smiling:binary", .binary("smiling")),
            ("smiling:binary:no,yes", .binary("smiling", classNames: ["no", "yes"])),
            ("hair:multiclass", .classification("hair")),
            ("hair:multiclass:black,brown,blond", .classification("hair", classNames: ["black", "brown", "blond"])),
            ("hair:classification:black, brown", .classification("hair", classNames: ["black", "brown"])),
            (" hair : MultiClass : a,b ", .classification("hair", classNames: ["a", "b"])),
            ("tags:multilabel:a,b,c", .multilabel("tags", labelNames: ["a", "b", "c"])),
            ("tags:multilabel", .multilabel("tags")),
        ]
        for (text, column) in cases {
            #expect(try CSVManifest.Column(declaration: text) == column, "\(text)")
            #expect(try CSVManifest.Column(declaration: column.declaration) == column, "\(column.declaration)")
        }
    }

    @Test("bad task declarations name the declaration and the problem")
    func badDeclarations() throws {
        let cases: [(String, String)] = [
            ("age", "expected NAME:KIND[:CLASSES]"),
            (":regression", "the task name is empty"),
            ("age:regresion", "unknown kind 'regresion'"),
            ("age:regression:a,b", "a regression task takes no class names"),
            ("s:binary:a", "a binary task needs exactly 2 class names (negative,positive), got 1"),
            ("s:binary:a,b,c", "a binary task needs exactly 2 class names"),
            ("h:multiclass:a", "a multiclass task needs at least 2 class names"),
            ("h:multiclass:", "no class names after the last ':'"),
            ("h:multiclass:a,,b", "an empty class name in 'a,,b'"),
            ("h:multiclass:a,b,a", "class 'a' is listed twice"),
            ("t:multilabel:a;b,c", "label name 'a;b' is not allowed"),
            ("t:multilabel:-,c", "label name '-' is not allowed"),
        ]
        for (text, message) in cases {
            do {
                _ = try CSVManifest.Column(declaration: text)
                Issue.record("'\(text)' was accepted")
            } catch let error as DataError {
                let description = error.description
                #expect(description.hasPrefix("task declaration '\(text)': "), "\(description)")
                #expect(description.contains(message), "\(description)")
            }
        }
        let many = "t:multilabel:" + (0..<54).map { "l\($0)" }.joined(separator: ",")
        #expect(throws: DataError.self) { try CSVManifest.Column(declaration: many) }
    }

    @Test("header(of:) lists a manifest's columns")
    func header() throws {
        let path = try manifest("\u{FEFF}path, age ,\"tags, more\"\r\nimg/0.jpg,3,a\r\n")
        #expect(try CSVManifest.header(of: path) == ["path", "age", "tags, more"])
        #expect(throws: DataError.fileNotFound(path: "/nonexistent/x.csv")) { try CSVManifest.header(of: "/nonexistent/x.csv") }
    }
}
