import Foundation
import HydraData
import Testing
import Torch

@Suite("UTKFace names and folders")
struct UTKFaceTests {
    typealias Note = UTKFace.Note

    func parsed(_ name: String) throws -> UTKFace.ParsedName {
        try UTKFace.parse(name).get()
    }

    @Test("the four real malformed names: kept, missing fields masked, nothing guessed")
    func realMalformedNames() throws {
        let a = try parsed("61_1_20170109142408075.jpg.chip.jpg")
        #expect(a.age == 61 && a.gender == 1 && a.race == nil)
        #expect(a.notes == [Note.missingField("race")])
        #expect(a.labels == [61, 1, nil])

        let b = try parsed("61_1_20170109150557335.jpg.chip.jpg")
        #expect(b.age == 61 && b.gender == 1 && b.race == nil)

        let c = try parsed("24_0_1_20170116220224657 .jpg.chip.jpg")
        #expect(c.age == 24 && c.gender == 0 && c.race == 1)
        #expect(c.notes == [Note.spaceBeforeExtension])

        let d = try parsed("55_0_0_20170116232725357jpg.chip.jpg")
        #expect(d.age == 55 && d.gender == 0 && d.race == 0)
        #expect(d.notes == [Note.noDotBeforeExtension])
    }

    @Test("regular names, folder prefixes ignored")
    func regularNames() throws {
        let p = try parsed("UTKFace/26_1_3_20170117154855392.jpg.chip.jpg")
        #expect(p.age == 26 && p.gender == 1 && p.race == 3 && p.notes.isEmpty)
        // The article's path[8:] would have read the folder name; we read the base name only.
        let q = try parsed("/data/other/folder/1_0_4_20161221193016140.jpg.chip.jpg")
        #expect(q.labels == [1, 0, 4])
        #expect(try parsed("116_1_0_20170120134921760.jpg").labels == [116, 1, 0])
        #expect(try parsed("25_0_1.jpg").labels == [25, 0, 1])
    }

    @Test("empty fields are missing labels; unreadable names and out-of-range values are skipped")
    func rules() throws {
        let e = try parsed("30__2_20170109142408075.jpg.chip.jpg")
        #expect(e.labels == [30, nil, 2])
        #expect(e.notes == [Note.emptyField("gender")])
        #expect(try parsed("_1_2_20170109142408075.jpg").labels == [nil, 1, 2])

        func failure(_ name: String) -> UTKFace.NameError? {
            if case let .failure(e) = UTKFace.parse(name) { return e }
            return nil
        }
        #expect(failure("photo.jpg")?.reason == .unreadableName)
        #expect(failure("x_1_2_20170109142408075.jpg")?.reason == .unreadableName)
        #expect(failure("25_a_2_20170109142408075.jpg")?.reason == .unreadableName)
        #expect(failure("1_2_3_4_20170109142408075.jpg")?.reason == .unreadableName)
        #expect(failure("20170109142408075.jpg")?.reason == .unreadableName)
        #expect(failure("121_0_0_20170109142408075.jpg")?.reason == .outOfRange)
        #expect(failure("30_2_0_20170109142408075.jpg")?.reason == .outOfRange)
        #expect(failure("30_0_5_20170109142408075.jpg")?.reason == .outOfRange)
        #expect(failure("30_0_-1_20170109142408075.jpg")?.reason == .unreadableName)
        #expect(try parsed("0_0_0_20170109142408075.jpg").labels == [0, 0, 0])
        #expect(try parsed("120_1_4_20170109142408075.jpg").labels == [120, 1, 4])
    }

    @Test("hostile names (huge numbers, non-ASCII digits, thousands of fields, empty) are skipped or masked, never trap")
    func hostileNames() {
        let long = String(repeating: "9", count: 10_000)
        let cases: [(String, Bool)] = [  // name, kept
            ("9999999_0_0_20170109142408075.jpg", false),  // 7 digits: an age out of range
            ("\(long)_0_0_20170109142408075.jpg", false),  // digits past Int: read as the date, no labels
            ("30_\(long)_0_20170109142408075.jpg", true),  // the long run is the date: age 30, the rest masked
            ("٣٠_0_0_20170109142408075.jpg", false),  // Arabic-Indic digits are not ASCII
            ("30_0_0_" + String(repeating: "_", count: 5000) + ".jpg", false),
            (String(repeating: "_", count: 5000) + "20170109142408075.jpg", false),
            ("", false), ("_", false), (".jpg", false), ("_.jpg", false), ("..jpg", false),
            ("30_0_0_\(long).jpg", true),
            ("30 _0_0_20170109142408075.jpg", true),
            ("30_0_0", true),
            ("jpg30_0_0_20170109142408075.jpg", false),
        ]
        for (name, kept) in cases {
            switch UTKFace.parse(name) {
            case .success: #expect(kept, "\(name.prefix(40)) was kept")
            case .failure: #expect(!kept, "\(name.prefix(40)) was skipped")
            }
        }
    }

    @Test("a folder with odd names: kept, masked, skipped and ignored files all reported")
    func folderReport() throws {
        let folder = temporaryFolder()
        let jpeg = try ImageCodec.encodeJPEG(RGBImage(width: 8, height: 8, pixels: Array(repeating: 128, count: 192)))
        for name in ["20_0_1_20170101000000001.jpg.chip.jpg", "61_1_20170109142408075.jpg.chip.jpg",
                     "24_0_1_20170116220224657 .jpg.chip.jpg", "55_0_0_20170116232725357jpg.chip.jpg",
                     "200_0_0_20170101000000002.jpg.chip.jpg", "abc.jpg"] {
            try write(jpeg, to: "\(folder)/\(name)")
        }
        try write(Array("notes".utf8), to: "\(folder)/README.txt")
        let ds = try UTKFace.load(folder: folder)
        #expect(ds.count == 4)
        #expect(ds.files.map(\.name).contains("61_1_20170109142408075.jpg.chip.jpg"))
        let r = ds.report
        #expect(r.images == 4)
        #expect(r.skipped.count == 2)
        #expect(r.skippedByReason[.outOfRange]?.map(\.name) == ["200_0_0_20170101000000002.jpg.chip.jpg"])
        #expect(r.skippedByReason[.unreadableName]?.map(\.name) == ["abc.jpg"])
        #expect(r.ignored == ["README.txt"])
        #expect(r.taskSummaries[2].missing == 1 && r.taskSummaries[2].labeled == 3)
        let text = r.description
        #expect(text.contains("4 images kept, 2 skipped"))
        #expect(text.contains("missing race field"))
        #expect(text.contains("label out of range: 1"))
    }

    @Test("summary over the whole shared folder reports exactly the four malformed names",
          .enabled(if: hasUTKFace, utkfaceMissing))
    func sharedFolderSummary() throws {
        let ds = try UTKFace.load(folder: utkfaceFolder)
        let r = ds.report
        print(r)
        #expect(ds.count == 16_686)
        #expect(r.skipped.isEmpty)
        #expect(r.notesByKind == [
            Note.missingField("race"): ["61_1_20170109142408075.jpg.chip.jpg", "61_1_20170109150557335.jpg.chip.jpg"],
            Note.spaceBeforeExtension: ["24_0_1_20170116220224657 .jpg.chip.jpg"],
            Note.noDotBeforeExtension: ["55_0_0_20170116232725357jpg.chip.jpg"],
        ])
        #expect(r.taskSummaries.map(\.labeled) == [16_686, 16_686, 16_684])
        #expect(r.taskSummaries.map(\.missing) == [0, 0, 2])
        #expect(r.taskSummaries[0].minimum == 1 && r.taskSummaries[0].maximum == 116)
        let space = ds.files.first { $0.name.hasPrefix("24_0_1_20170116220224657 ") }
        #expect(space?.labels == [24, 0, 1])
        let noDot = ds.files.first { $0.name.hasPrefix("55_0_0_20170116232725357jpg") }
        #expect(noDot?.labels == [55, 0, 0])
    }
}
