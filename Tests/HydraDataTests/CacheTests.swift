import Foundation
import HydraData
import Testing
import Torch

@Suite("decoded cache and splits")
struct CacheTests {
    /// A private copy of a few synthetic faces (tests modify it).
    func makeFolder(count: Int = 12) throws -> (String, FileDataset) {
        let folder = temporaryFolder()
        let ds = try SyntheticFaces(count: count, size: 32, seed: 3).write(to: folder)
        return (folder, ds)
    }

    let options = DecodeOptions(progress: .never)

    @Test("hit on the second load; miss after touching a file; miss after changing the size")
    func hitAndMiss() throws {
        let (folder, ds) = try makeFolder()
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let t = ImageTransform(size: 16)

        let first = try cache.load(ds, transform: t, options: options)
        #expect(!first.cacheStatus.isHit)
        #expect(first.images.shape == [12, 3, 16, 16])
        #expect(first.cacheFile.map { FileManager.default.fileExists(atPath: $0) } == true)

        let second = try cache.load(try UTKFace.load(folder: folder, name: ds.name), transform: t, options: options)
        #expect(second.cacheStatus == .hit)
        #expect(second.images.equal(first.images))
        #expect(second.names == first.names)
        #expect(second.contentHashes == first.contentHashes)
        for i in 0..<ds.tasks.count {
            #expect(second.labels[i].equal(first.labels[i]))
            #expect(second.masks[i].equal(first.masks[i]))
        }

        // Touch one file (new mtime, same bytes): the key changes, the cache is rebuilt.
        let touched = ds.files[3].path
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: touched)
        let third = try cache.load(try UTKFace.load(folder: folder, name: ds.name), transform: t, options: options)
        #expect(!third.cacheStatus.isHit, "\(third.cacheStatus)")
        #expect(third.images.equal(first.images))
        #expect(try cache.load(try UTKFace.load(folder: folder, name: ds.name), transform: t, options: options).cacheStatus == .hit)
        // The stale cache file was replaced, not kept beside the new one.
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
        #expect(files.filter { $0.hasSuffix(".safetensors") }.count == 1)

        // Another size is another cache.
        let other = try cache.load(ds, transform: ImageTransform(size: 24), options: options)
        #expect(!other.cacheStatus.isHit)
        #expect(other.images.shape == [12, 3, 24, 24])
        #expect(try cache.load(ds, transform: ImageTransform(size: 24), options: options).cacheStatus == .hit)
        #expect(try cache.load(ds, transform: ImageTransform(size: 16), options: options).cacheStatus == .hit)
    }

    @Test("miss after a file's size changes (replaced content)")
    func sizeChange() throws {
        let (folder, ds) = try makeFolder()
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let t = ImageTransform(size: 16)
        let first = try cache.load(ds, transform: t, options: options)
        let target = ds.files[0].path
        let bigger = try ImageCodec.encodeJPEG(try ImageCodec.decodeFile(target, scaling: .none), quality: 100)
        let attrs = try FileManager.default.attributesOfItem(atPath: target)
        try write(bigger, to: target)
        // Restore the old mtime so that only the size differs.
        try FileManager.default.setAttributes([.modificationDate: attrs[.modificationDate]!], ofItemAtPath: target)
        let second = try cache.load(try UTKFace.load(folder: folder, name: ds.name), transform: t, options: options)
        #expect(!second.cacheStatus.isHit)
        #expect(second.contentHashes[0] != first.contentHashes[0])
        #expect(second.contentHashes[1...] == first.contentHashes[1...])
    }

    @Test("a corrupt cache file is rebuilt, not trusted")
    func corruptCacheFile() throws {
        let (_, ds) = try makeFolder(count: 4)
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let t = ImageTransform(size: 16)
        let first = try cache.load(ds, transform: t, options: options)
        try write(Array("garbage".utf8), to: first.cacheFile!)
        let second = try cache.load(ds, transform: t, options: options)
        #expect(!second.cacheStatus.isHit)
        #expect(second.images.equal(first.images))
        #expect(try cache.load(ds, transform: t, options: options).cacheStatus == .hit)
    }

    /// Regression: `strict` was neither checked on a hit nor part of the key, so a strict load
    /// returned the skipped-files cache an earlier lenient load had built.
    @Test("a strict load of a dataset whose cache skipped files throws, naming the file, like a strict decode")
    func strictHit() throws {
        let (folder, _) = try makeFolder(count: 6)
        let broken = "\(folder)/30_0_0_20170101000000902.jpg.chip.jpg"
        try write(Array("not an image".utf8), to: broken)
        let ds = try UTKFace.load(folder: folder)
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let t = ImageTransform(size: 16)
        let lenient = try cache.load(ds, transform: t, options: options)
        #expect(lenient.skipped.map(\.name) == ["30_0_0_20170101000000902.jpg.chip.jpg"])
        #expect(try cache.load(ds, transform: t, options: options).cacheStatus == .hit)

        let strict = DecodeOptions(strict: true, progress: .never)
        var direct: DataError?
        do { _ = try DecodedCache.decode(ds, transform: t, options: strict) } catch let e as DataError { direct = e }
        do {
            let hit = try cache.load(ds, transform: t, options: strict)
            Issue.record("strict load returned \(hit.cacheStatus) with \(hit.skipped.count) skipped files")
        } catch let error as DataError {
            #expect(error == direct, "the same error as a strict decode")
            #expect(error.path == broken, "\(error)")
        }
        // The lenient cache is still there for lenient loads.
        #expect(try cache.load(ds, transform: t, options: options).cacheStatus == .hit)
        // Once the file is fixed the key changes; a strict load builds a complete cache.
        try FileManager.default.removeItem(atPath: broken)
        let fixed = try cache.load(try UTKFace.load(folder: folder), transform: t, options: strict)
        #expect(fixed.skipped.isEmpty && fixed.count == 6)
    }

    @Test("cache file is readable by Python's safetensors with the expected tensors")
    func pythonReadsCache() throws {
        let (_, ds) = try makeFolder(count: 4)
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let d = try cache.load(ds, transform: ImageTransform(size: 16), options: options)
        let out = try PythonReference.runCode("""
            import sys
            from safetensors import safe_open
            with safe_open(sys.argv[1], "pt") as f:
                print(sorted(f.keys()), f.get_tensor("images").shape, f.metadata()["format"])
            """, arguments: [d.cacheFile!])
        #expect(out.contains("'images'") && out.contains("'labels.age'") && out.contains("'masks.race'"))
        #expect(out.contains("torch.Size([4, 3, 16, 16])") && out.contains("hydradata-decoded-cache-v1"))
    }

    @Test("splits are stable when files are added")
    func splitStability() throws {
        let names = (0..<2000).map { "img_\($0).jpg" }
        let before = try Splitter.assign(names: names)
        let more = names + (2000..<3000).map { "img_\($0).jpg" }
        let after = try Splitter.assign(names: more.shuffled())
        let lookup = Dictionary(uniqueKeysWithValues: zip(more, try Splitter.assign(names: more)))
        #expect(zip(names, before).allSatisfy { lookup[$0.0] == $0.1 })
        #expect(after.count == 3000)
        let counts = Dictionary(grouping: before, by: { $0 }).mapValues(\.count)
        #expect((1500...1700).contains(counts[.train] ?? 0), "\(counts)")
        #expect((140...260).contains(counts[.validation] ?? 0), "\(counts)")
        #expect((140...260).contains(counts[.test] ?? 0), "\(counts)")
    }

    @Test("byte-identical images land in the same split, also through the cache")
    func identicalImages() throws {
        let (folder, _) = try makeFolder(count: 30)
        // Copy every face under other names (different labels, same bytes), as UTKFace has.
        let originals = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }
        for (i, name) in originals.enumerated() {
            let copy = "\(i % 90 + 1)_\(i % 2)_\(i % 5)_2018\(String(format: "%013d", i)).jpg.chip.jpg"
            try FileManager.default.copyItem(atPath: "\(folder)/\(name)", toPath: "\(folder)/\(copy)")
        }
        let ds = try UTKFace.load(folder: folder)
        #expect(ds.count == 60)
        let cache = DecodedCache(directory: temporaryFolder("cacheDir"))
        let decoded = try cache.load(ds, transform: ImageTransform(size: 16), options: options)
        let assigned = try Splitter.assign(names: decoded.names, contentHashes: decoded.contentHashes,
                                           fractions: SplitFractions(train: 0.5, validation: 0.25, test: 0.25))
        let groups = Dictionary(grouping: decoded.names.indices, by: { decoded.contentHashes[$0] })
        #expect(groups.count == 30)
        for (_, members) in groups {
            #expect(members.count == 2)
            #expect(Set(members.map { assigned[$0] }).count == 1)
            #expect(decoded.images.select(dim: 0, index: members[0]).equal(decoded.images.select(dim: 0, index: members[1])))
        }
        #expect(Set(assigned).count == 3)
        let splits = try decoded.splits(SplitFractions(train: 0.5, validation: 0.25, test: 0.25))
        #expect(splits.train.count + splits.validation.count + splits.test.count == 60)
        #expect(Set(splits.train).isDisjoint(with: splits.test))
    }

    @Test("real UTKFace: byte-identical files (16,412 distinct images) never straddle splits",
          .enabled(if: hasUTKFace, utkfaceMissing))
    func realDuplicates() throws {
        let ds = try UTKFace.load(folder: utkfaceFolder)
        let hashes = try ds.contentHashes()
        let groups = Dictionary(grouping: hashes.indices, by: { hashes[$0] })
        #expect(groups.count == 16_412)  // SOURCE.md: 16,686 names, 16,412 distinct images
        let assigned = try Splitter.assign(names: ds.files.map(\.name), contentHashes: hashes)
        let shared = groups.values.filter { $0.count > 1 }
        #expect(shared.allSatisfy { members in Set(members.map { assigned[$0] }).count == 1 })
        let relabeled = shared.filter { members in Set(members.map { ds.files[$0].labels.map { $0 ?? -1 } }).count > 1 }
        print("UTKFace: \(shared.count) groups of byte-identical files, \(relabeled.count) with differing labels")
        let counts = Dictionary(grouping: assigned, by: { $0 }).mapValues(\.count)
        #expect(abs(Double(counts[.train] ?? 0) / Double(ds.count) - 0.8) < 0.02, "\(counts)")
    }

    @Test("invalid split fractions throw")
    func badFractions() {
        #expect(throws: DataError.self) { try Splitter.assign(names: ["a"], fractions: SplitFractions(train: 0.9, validation: 0.2, test: 0)) }
        #expect(throws: DataError.self) { try Splitter.assign(names: ["a"], fractions: SplitFractions(train: 1.1, validation: -0.1, test: 0)) }
    }
}
