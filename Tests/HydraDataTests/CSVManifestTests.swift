import Foundation
import HydraData
import Testing
import Torch

@Suite("CSV manifests")
struct CSVManifestTests {
    /// A folder with three small JPEGs and a manifest written from `csv`.
    func manifest(_ csv: String) throws -> String {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(atPath: "\(folder)/img", withIntermediateDirectories: true)
        let faces = SyntheticFaces(count: 3, size: 16, seed: 2)
        for i in 0..<3 { try write(try ImageCodec.encodeJPEG(faces.render(i)), to: "\(folder)/img/\(i).jpg") }
        try write(Array(csv.utf8), to: "\(folder)/faces.csv")
        return "\(folder)/faces.csv"
    }

    let columns: [CSVManifest.Column] = [.regression("age"), .binary("smiling"), .classification("hair")]

    @Test("numbers, class names, empty cells as missing labels, quoting, BOM and CRLF")
    func happyPath() throws {
        let path = try manifest("\u{FEFF}path,age,smiling,hair,\"note, with comma\"\r\n"
            + "img/0.jpg,31.5,1,brown,\"said \"\"hi\"\"\"\r\n"
            + "img/1.jpg,,0,black,x\r\n"
            + "\"img/2.jpg\", 7 ,,brown,\r\n\r\n")
        let ds = try CSVManifest.load(path, tasks: columns)
        #expect(ds.count == 3)
        #expect(ds.name == "faces")
        #expect(ds.tasks.map(\.name) == ["age", "smiling", "hair"])
        #expect(ds.tasks[2].classNames == ["black", "brown"])
        #expect(ds.tasks[2].kind == .classification(classes: 2))
        #expect(ds.files.map(\.labels) == [[31.5, 1, 1], [nil, 0, 0], [7, nil, 1]])
        #expect(ds.files[0].path.hasSuffix("/img/0.jpg") && ds.files[0].path.hasPrefix("/"))
        #expect(ds.classMappingJSON() == #"{"hair":["black","brown"],"smiling":["0","1"]}"#)
        let decoded = try DecodedCache.decode(ds, transform: ImageTransform(size: 8), options: DecodeOptions(progress: .never))
        #expect(decoded.labels[2].dtype == .int64 && decoded.labels[0].dtype == .float32)
        #expect(decoded.masks[0].scalars(as: Bool.self) == [true, false, true])
        #expect(decoded.labels[0].scalars(as: Float.self) == [31.5, 0, 7])
    }

    @Test("the class mapping is saved and reused so indices stay stable")
    func mappingFile() throws {
        let path = try manifest("path,hair\nimg/0.jpg,red\nimg/1.jpg,black\n")
        let mapping = (path as NSString).deletingLastPathComponent + "/classes.json"
        let first = try CSVManifest.load(path, tasks: [.classification("hair")], classMappingFile: mapping)
        #expect(first.tasks[0].classNames == ["black", "red"])
        #expect(FileManager.default.fileExists(atPath: mapping))
        // A later manifest with a new class name is an error against the saved mapping.
        try write(Array("path,hair\nimg/0.jpg,red\nimg/2.jpg,blond\n".utf8), to: path)
        #expect(throws: DataError.unknownClass(path: path, line: 3, column: "hair", value: "blond", known: ["black", "red"])) {
            try CSVManifest.load(path, tasks: [.classification("hair")], classMappingFile: mapping)
        }
        // Fewer classes keep the saved indices.
        try write(Array("path,hair\nimg/0.jpg,red\n".utf8), to: path)
        let again = try CSVManifest.load(path, tasks: [.classification("hair")], classMappingFile: mapping)
        #expect(again.files[0].labels == [1])
    }

    @Test("a missing column names the available ones")
    func missingColumn() throws {
        let path = try manifest("file,age\nimg/0.jpg,3\n")
        #expect(throws: DataError.missingColumn(path: path, column: "path", available: ["file", "age"])) {
            try CSVManifest.load(path, tasks: [.regression("age")])
        }
        #expect(throws: DataError.missingColumn(path: path, column: "gender", available: ["file", "age"])) {
            try CSVManifest.load(path, imageColumn: "file", tasks: [.regression("age"), .binary("gender")])
        }
        let ok = try CSVManifest.load(path, imageColumn: "file", tasks: [.regression("age")])
        #expect(ok.count == 1)
    }

    @Test("ragged rows report the line")
    func ragged() throws {
        let path = try manifest("path,age\nimg/0.jpg,3\nimg/1.jpg,4,extra\n")
        #expect(throws: DataError.raggedRow(path: path, line: 3, expected: 2, found: 3)) {
            try CSVManifest.load(path, tasks: [.regression("age")])
        }
        let short = try manifest("path,age,hair\nimg/0.jpg,3\n")
        #expect(throws: DataError.raggedRow(path: short, line: 2, expected: 3, found: 2)) {
            try CSVManifest.load(short, tasks: [.regression("age")])
        }
    }

    @Test("an unknown class name against a given class list")
    func unknownClass() throws {
        let path = try manifest("path,hair\nimg/0.jpg,brown\nimg/1.jpg,purple\n")
        #expect(throws: DataError.unknownClass(path: path, line: 3, column: "hair", value: "purple", known: ["black", "brown"])) {
            try CSVManifest.load(path, tasks: [.classification("hair", classNames: ["black", "brown"])])
        }
        let index = try manifest("path,hair\nimg/0.jpg,1\nimg/1.jpg,5\n")
        #expect(throws: DataError.self) {
            try CSVManifest.load(index, tasks: [.classification("hair", classNames: ["a", "b"])])
        }
    }

    @Test("a non-numeric regression label")
    func notNumeric() throws {
        let path = try manifest("path,age\nimg/0.jpg,3\nimg/1.jpg,thirty\n")
        #expect(throws: DataError.notNumeric(path: path, line: 3, column: "age", value: "thirty")) {
            try CSVManifest.load(path, tasks: [.regression("age")])
        }
        let nan = try manifest("path,age\nimg/0.jpg,nan\n")
        #expect(throws: DataError.self) { try CSVManifest.load(nan, tasks: [.regression("age")]) }
    }

    @Test("malformed files: unterminated quote, no rows, missing manifest, binary with 3 values")
    func malformed() throws {
        let quote = try manifest("path,age\n\"img/0.jpg,3\n")
        #expect(throws: DataError.malformedManifest(path: quote, line: 2, message: "unterminated quoted cell")) {
            try CSVManifest.load(quote, tasks: [.regression("age")])
        }
        let header = try manifest("path,age\n")
        #expect(throws: DataError.self) { try CSVManifest.load(header, tasks: [.regression("age")]) }
        #expect(throws: DataError.fileNotFound(path: "/nonexistent/x.csv")) {
            try CSVManifest.load("/nonexistent/x.csv", tasks: [])
        }
        let three = try manifest("path,s\nimg/0.jpg,a\nimg/1.jpg,b\nimg/2.jpg,c\n")
        #expect(throws: DataError.self) { try CSVManifest.load(three, tasks: [.binary("s")]) }
    }

    /// Regressions: each of these used to trap (a range of Int.max class names, a dictionary
    /// of duplicate keys, Int(1e300) in the report) instead of throwing or loading.
    @Test("hostile values: a huge class index, duplicate or placeholder-like binary names, values past float32")
    func hostileValues() throws {
        let huge = try manifest("path,hair\nimg/0.jpg,0\nimg/1.jpg,9223372036854775807\n")
        #expect(throws: DataError.malformedManifest(path: huge, line: 3, message: "class index 9223372036854775807 in column "
                                                    + "'hair' implies more than \(CSVManifest.maxClasses) classes")) {
            try CSVManifest.load(huge, tasks: [.classification("hair")])
        }
        let placeholder = try manifest("path,s\nimg/0.jpg,<absent>\nimg/1.jpg,\n")
        let ds = try CSVManifest.load(placeholder, tasks: [.binary("s")])
        #expect(ds.tasks[0].classNames == ["<absent>", "<absent 2>"] && ds.files.map(\.labels) == [[0], [nil]])

        let mapped = try manifest("path,s\nimg/0.jpg,a\n")
        let mapping = (mapped as NSString).deletingLastPathComponent + "/classes.json"
        try write(Array(#"{"s": ["a", "a"]}"#.utf8), to: mapping)
        #expect(throws: DataError.self) { try CSVManifest.load(mapped, tasks: [.binary("s")], classMappingFile: mapping) }
        #expect(throws: DataError.self) { try CSVManifest.load(mapped, tasks: [.binary("s", classNames: ["x", "x"])]) }

        let far = try manifest("path,age\nimg/0.jpg,3\nimg/1.jpg,1e300\n")
        #expect(throws: DataError.notNumeric(path: far, line: 3, column: "age", value: "1e300")) {
            try CSVManifest.load(far, tasks: [.regression("age")])
        }
        // Large but float32 values load, and the report prints them (no histogram bucket for 1e30).
        let big = try manifest("path,age\nimg/0.jpg,-1e30\nimg/1.jpg,1e30\nimg/2.jpg,123456\n")
        let report = try CSVManifest.load(big, tasks: [.regression("age")]).report.description
        #expect(report.contains("range -1e+30…1e+30"), "\(report)")
    }

    @Test("parse(_:path:…) reads a manifest held in memory, naming the given path in errors")
    func inMemory() throws {
        let ds = try CSVManifest.parse(Data("path,age\na.jpg,3\n".utf8), path: "upload.csv", tasks: [.regression("age")],
                                       root: "/data", name: "upload")
        #expect(ds.files.map(\.path) == ["/data/a.jpg"] && ds.files[0].labels == [3])
        #expect(throws: DataError.notNumeric(path: "upload.csv", line: 2, column: "age", value: "x")) {
            try CSVManifest.parse(Data("path,age\na.jpg,x\n".utf8), path: "upload.csv", tasks: [.regression("age")],
                                  root: "/data", name: "upload")
        }
        #expect(throws: DataError.malformedManifest(path: "upload.csv", line: 1, message: "the file is not UTF-8 text")) {
            try CSVManifest.parse(Data([0xFF, 0xFE, 0x00]), path: "upload.csv", tasks: [], root: "/", name: "x")
        }
    }

    @Test("missing image files named in a manifest are skipped and counted at decode time")
    func missingImage() throws {
        let path = try manifest("path,age\nimg/0.jpg,3\nimg/9.jpg,4\n")
        let ds = try CSVManifest.load(path, tasks: [.regression("age")])
        let d = try DecodedCache.decode(ds, transform: ImageTransform(size: 8), options: DecodeOptions(progress: .never))
        #expect(d.count == 1)
        #expect(d.skipped.map(\.name) == ["img/9.jpg"] && d.skipped[0].reason == .unreadableFile)
    }
}
