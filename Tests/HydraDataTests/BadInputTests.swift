import Foundation
import HydraData
import Testing
import Torch

/// Every bad-input case of the data issue: a clear typed error, never a crash; corrupt images
/// in a dataset are skipped and counted unless `strict`.
@Suite("bad input")
struct BadInputTests {
    let goodJPEG: [UInt8] = try! ImageCodec.encodeJPEG(SyntheticFaces(count: 1, size: 32).render(0), quality: 90)

    func decodeError(_ bytes: [UInt8]) -> DataError? {
        do {
            _ = try ImageCodec.decode(bytes, path: "x.jpg")
            return nil
        } catch let e as DataError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test("zero-byte file")
    func zeroBytes() throws {
        let folder = temporaryFolder()
        try write([], to: "\(folder)/empty.jpg")
        #expect(throws: DataError.emptyFile(path: "\(folder)/empty.jpg")) { try ImageCodec.decodeFile("\(folder)/empty.jpg") }
        #expect(decodeError([]) == .emptyFile(path: "x.jpg"))
    }

    @Test("truncated JPEG (every cut point) throws, never grey-fills or crashes")
    func truncatedJPEG() {
        // Every cut, down to only the end-of-image marker missing (PIL calls that truncated too).
        let cuts = Array(stride(from: 1, to: goodJPEG.count, by: max(1, goodJPEG.count / 60))) + [goodJPEG.count - 1]
        for cut in cuts {
            let e = decodeError(Array(goodJPEG.prefix(cut)))
            guard let e else {
                Issue.record("truncation at \(cut)/\(goodJPEG.count) decoded without error")
                continue
            }
            switch e {
            case .corruptImage, .notAnImage: break
            default: Issue.record("truncation at \(cut): unexpected \(e)")
            }
        }
        if case let .corruptImage(_, reason)? = decodeError(Array(goodJPEG.prefix(goodJPEG.count / 2))) {
            #expect(reason.contains("truncated"), "\(reason)")
        } else {
            Issue.record("half a JPEG should be reported as corrupt")
        }
    }

    @Test("corrupted JPEG and PNG bytes throw typed errors")
    func corruptedBytes() throws {
        var g = SeededGenerator(seed: 11)
        let png = try ImageCodec.encodePNG(SyntheticFaces(count: 1, size: 32).render(0))
        for (source, trailer) in [(goodJPEG, 0), (png, 12)] {  // a PNG's IEND chunk may be missing (as PIL)
            for _ in 0..<40 {
                var bad = source
                for _ in 0..<8 {
                    let i = 2 + g.below(bad.count - 2)
                    bad[i] = UInt8(truncatingIfNeeded: g.next())
                }
                // Either decodes (corruption in pixel data can be survivable) or throws DataError.
                _ = try? ImageCodec.decode(bad)
                do { _ = try ImageCodec.decode(bad) } catch { #expect(error is DataError) }
            }
            for cut in stride(from: 8, to: source.count - trailer, by: max(1, source.count / 25)) {
                #expect(throws: DataError.self) { try ImageCodec.decode(Array(source.prefix(cut))) }
            }
        }
        // A PNG with a broken CRC in IHDR.
        var badCRC = png
        badCRC[29] ^= 0xFF
        #expect(throws: DataError.self) { try ImageCodec.decode(badCRC) }
    }

    @Test("a text file named .jpg")
    func textFile() {
        let e = decodeError(Array("hello, world\n".utf8))
        guard case let .notAnImage(_, reason)? = e else {
            Issue.record("expected notAnImage, got \(String(describing: e))")
            return
        }
        #expect(reason.contains("'hello, w'"), "\(reason)")
    }

    @Test("a PNG named .jpg decodes")
    func pngNamedJPEG() throws {
        let folder = temporaryFolder()
        let image = SyntheticFaces(count: 1, size: 32).render(0)
        try write(try ImageCodec.encodePNG(image), to: "\(folder)/photo.jpg")
        let decoded = try ImageCodec.decodeFile("\(folder)/photo.jpg")
        #expect(decoded == image)
    }

    @Test("an image larger than the pixel limit is refused before decoding")
    func tooLarge() throws {
        let e = decodeError(goodJPEG)
        #expect(e == nil)
        #expect(throws: DataError.self) { try ImageCodec.decode(goodJPEG, maxPixels: 100) }
        do {
            _ = try ImageCodec.decode(goodJPEG, maxPixels: 100)
        } catch let DataError.imageTooLarge(_, reason) {
            #expect(reason.contains("32x32"))
        }
    }

    @Test("unreadable files: missing, a folder named .jpg, a dangling link, no permission")
    func unreadable() throws {
        let folder = temporaryFolder()
        #expect(throws: DataError.fileNotFound(path: "\(folder)/none.jpg")) { try ImageCodec.readFile("\(folder)/none.jpg") }
        try FileManager.default.createDirectory(atPath: "\(folder)/dir.jpg", withIntermediateDirectories: true)
        #expect(throws: DataError.unreadableFile(path: "\(folder)/dir.jpg", reason: "it is a folder")) {
            try ImageCodec.readFile("\(folder)/dir.jpg")
        }
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/link.jpg", withDestinationPath: "\(folder)/gone")
        #expect(throws: DataError.fileNotFound(path: "\(folder)/link.jpg")) { try ImageCodec.readFile("\(folder)/link.jpg") }
        if geteuid() != 0 {  // root reads anything
            try write(goodJPEG, to: "\(folder)/secret.jpg")
            chmod("\(folder)/secret.jpg", 0)
            #expect(throws: DataError.self) { try ImageCodec.readFile("\(folder)/secret.jpg") }
        }
    }

    @Test("empty folder, missing folder, a file given as folder")
    func folders() throws {
        let empty = temporaryFolder()
        #expect(throws: DataError.emptyFolder(path: empty, detail: "the folder is empty")) { try UTKFace.load(folder: empty) }
        try write(Array("x".utf8), to: "\(empty)/notes.txt")
        do {
            _ = try UTKFace.load(folder: empty)
            Issue.record("expected emptyFolder")
        } catch let DataError.emptyFolder(_, detail) {
            #expect(detail.contains("none ending in .jpg"))
        }
        #expect(throws: DataError.folderNotFound(path: "\(empty)/nope")) { try UTKFace.load(folder: "\(empty)/nope") }
        #expect(throws: DataError.notAFolder(path: "\(empty)/notes.txt")) { try UTKFace.load(folder: "\(empty)/notes.txt") }
        // Only unreadable names: no usable images, with the reasons in the message.
        try write(goodJPEG, to: "\(empty)/photo.jpg")
        do {
            _ = try UTKFace.load(folder: empty)
            Issue.record("expected noUsableImages")
        } catch let DataError.noUsableImages(_, summary) {
            #expect(summary.contains("unreadable name: 1"))
        }
    }

    @Test("corrupt images in a dataset are skipped and counted; strict makes them fatal")
    func skippedAndStrict() throws {
        let folder = temporaryFolder()
        try SyntheticFaces(count: 6, size: 32, seed: 5).write(to: folder)
        try write([], to: "\(folder)/30_0_0_20170101000000901.jpg.chip.jpg")                  // zero bytes
        try write(Array(goodJPEG.prefix(200)), to: "\(folder)/30_0_0_20170101000000902.jpg.chip.jpg")  // truncated
        try write(Array("not an image".utf8), to: "\(folder)/30_0_0_20170101000000903.jpg.chip.jpg")   // text
        try write(try ImageCodec.encodePNG(SyntheticFaces(count: 1, size: 32).render(0)),
                  to: "\(folder)/30_0_0_20170101000000904.jpg.chip.jpg")                           // PNG named .jpg
        try FileManager.default.createDirectory(atPath: "\(folder)/30_0_0_20170101000000905.jpg.chip.jpg",
                                                withIntermediateDirectories: true)                 // a folder
        let ds = try UTKFace.load(folder: folder)
        #expect(ds.count == 11)
        let decoded = try DecodedCache.decode(ds, transform: ImageTransform(size: 16), options: DecodeOptions(progress: .never))
        #expect(decoded.count == 7)
        #expect(decoded.skipped.count == 4)
        let reasons = Dictionary(grouping: decoded.skipped, by: \.reason).mapValues(\.count)
        #expect(reasons[.corruptImage] == 2 && reasons[.unreadableFile] == 2, "\(decoded.skipped)")
        #expect(decoded.names.contains("30_0_0_20170101000000904.jpg.chip.jpg"))
        #expect(throws: DataError.self) {
            try DecodedCache.decode(ds, transform: ImageTransform(size: 16), options: DecodeOptions(strict: true, progress: .never))
        }
        // The skipped files survive a cache round trip.
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        _ = try cache.load(ds, transform: ImageTransform(size: 16), options: DecodeOptions(progress: .never))
        let hit = try cache.load(ds, transform: ImageTransform(size: 16), options: DecodeOptions(progress: .never))
        #expect(hit.cacheStatus == .hit && hit.skipped == decoded.skipped)
    }

    /// Each scan of a progressive JPEG is a pass over the whole image: thousands of them in a
    /// small file kept the decoder busy for as long as the file liked.
    @Test("a progressive JPEG with more than 500 scans is refused")
    func tooManyScans() throws {
        let progressive = try ImageCodec.encodeJPEG(SyntheticFaces(count: 1, size: 32).render(0), quality: 90, progressive: true)
        #expect(try ImageCodec.decode(progressive).width == 32)
        // Find the last scan (SOS segment and its entropy-coded data) and repeat it.
        var pos = 2, lastScan = 0..<0
        while pos + 4 <= progressive.count, progressive[pos] == 0xFF, progressive[pos + 1] != 0xD9 {
            let length = Int(progressive[pos + 2]) << 8 | Int(progressive[pos + 3])
            var end = pos + 2 + length
            if progressive[pos + 1] == 0xDA {
                while end + 1 < progressive.count,
                      !(progressive[end] == 0xFF && progressive[end + 1] != 0 && !(0xD0...0xD7).contains(progressive[end + 1])) {
                    end += 1
                }
                lastScan = pos..<end
            }
            pos = end
        }
        #expect(!lastScan.isEmpty && Array(progressive[pos...]) == [0xFF, 0xD9])
        let repeated = Array(progressive[..<pos]) + Array(repeating: Array(progressive[lastScan]), count: 600).joined() + [0xFF, 0xD9]
        guard case let .corruptImage(_, reason) = decodeError(repeated) else {
            Issue.record("not refused as corrupt: \(String(describing: decodeError(repeated)))")
            return
        }
        #expect(reason.contains("more than 500 scans"), "\(reason)")
    }

    /// A label outside its task's range reached the losses, which trap (e.g. from a cache file).
    @Test("decoded labels outside their task's range are refused")
    func labelRange() throws {
        let images = Tensor.zeros([2, 3, 4, 4], dtype: .uint8)
        let mask = Tensor([true, true])
        func dataset(_ task: TaskSpec, _ labels: Tensor) throws -> DecodedDataset {
            try DecodedDataset(name: "x", tasks: [task], transform: ImageTransform(size: 4), images: images,
                               labels: [labels], masks: [mask], names: ["a", "b"], contentHashes: [1, 2])
        }
        #expect(throws: DataError.self) { try dataset(.classification("c", classNames: ["a", "b"]), Tensor([0, 7] as [Int64])) }
        #expect(throws: DataError.self) { try dataset(.classification("c", classNames: ["a", "b"]), Tensor([-1, 0] as [Int64])) }
        #expect(throws: DataError.self) { try dataset(.binary("b"), Tensor([0, 0.5] as [Float])) }
        #expect(throws: DataError.self) { try dataset(.regression("r"), Tensor([1, .infinity] as [Float])) }
        _ = try dataset(.classification("c", classNames: ["a", "b"]), Tensor([1, 0] as [Int64]))
        // A masked-out (missing) label is not checked.
        _ = try DecodedDataset(name: "x", tasks: [.binary("b")], transform: ImageTransform(size: 4), images: images,
                               labels: [Tensor([1, 9] as [Float])], masks: [Tensor([true, false])], names: ["a", "b"],
                               contentHashes: [1, 2])
    }

    @Test("invalid options throw")
    func invalidOptions() throws {
        #expect(throws: DataError.self) { try ImageTransform(size: 0).validate() }
        #expect(throws: DataError.self) { try Normalization(mean: [0, 0], std: [1, 1]).validate() }
        #expect(throws: DataError.self) { try Normalization(mean: [0, 0, 0], std: [1, 0, 1]).validate() }
        #expect(throws: DataError.self) { try Augmentation(horizontalFlip: 2).validate() }
        #expect(throws: DataError.self) { try SyntheticFaces(count: 0).validate() }
        let d = try DecodedCache.decode(sharedSynthetic.dataset, transform: ImageTransform(size: 8),
                                        options: DecodeOptions(progress: .never))
        #expect(throws: DataError.self) { try DataLoader(d, options: LoaderOptions(batchSize: 0)) }
        #expect(throws: DataError.self) { try DataLoader(d, rows: [1000]) }
        #expect(throws: DataError.self) { try d.image(at: -1) }
    }
}
