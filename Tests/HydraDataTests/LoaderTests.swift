import Foundation
import HydraData
import Testing
import Torch

@Suite("loader, augmentation, synthetic faces")
struct LoaderTests {
    let decoded: DecodedDataset = try! DecodedCache.decode(sharedSynthetic.dataset, transform: ImageTransform(size: 16),
                                                           options: DecodeOptions(progress: .never))

    @Test("seeded shuffling: same seed and epoch give the same order; epochs differ; every row once")
    func shuffling() throws {
        let a = try DataLoader(decoded, options: LoaderOptions(batchSize: 8, seed: 42))
        let b = try DataLoader(decoded, options: LoaderOptions(batchSize: 8, seed: 42))
        let c = try DataLoader(decoded, options: LoaderOptions(batchSize: 8, seed: 43))
        #expect(a.order(epoch: 0) == b.order(epoch: 0))
        #expect(a.order(epoch: 0) != a.order(epoch: 1))
        #expect(a.order(epoch: 0) != c.order(epoch: 0))
        #expect(a.order(epoch: 3).sorted() == Array(0..<40))
        let unshuffled = try DataLoader(decoded, options: LoaderOptions(shuffle: false))
        #expect(unshuffled.order(epoch: 5) == Array(0..<40))
    }

    @Test("batching and drop-last")
    func batching() throws {
        let keep = try DataLoader(decoded, options: LoaderOptions(batchSize: 16, seed: 1))
        let sizes = Array(keep.epoch(0)).map(\.count)
        #expect(sizes == [16, 16, 8] && keep.batchCount == 3)
        let drop = try DataLoader(decoded, options: LoaderOptions(batchSize: 16, dropLast: true, seed: 1))
        #expect(Array(drop.epoch(0)).map(\.count) == [16, 16] && drop.batchCount == 2)
        let batch = Array(keep.epoch(0))[0]
        #expect(batch.images.shape == [16, 3, 16, 16] && batch.images.dtype == .float32)
        #expect(batch.labels.count == 3 && batch.masks.count == 3)
        #expect(batch.labels[0].shape == [16] && batch.masks[2].dtype == .bool)
        // Rows of a split only.
        let split = try decoded.splits()
        let train = try DataLoader(decoded, rows: split.train, options: LoaderOptions(batchSize: 7, seed: 1))
        let seen = Array(train.epoch(0)).flatMap(\.indices)
        #expect(seen.sorted() == split.train)
    }

    @Test("batches carry the right images, labels and masks (normalized as torchvision)")
    func contents() throws {
        let loader = try DataLoader(decoded, options: LoaderOptions(batchSize: 5, seed: 9))
        let batch = Array(loader.epoch(2))[1]
        for (k, row) in batch.indices.enumerated() {
            let expected = Normalization.imagenet.apply(decoded.images.select(dim: 0, index: row).unsqueezed(0))
            expectClose(batch.images.select(dim: 0, index: k).unsqueezed(0), expected, "row \(row)")
            let labels = decoded.labels(at: row)
            for t in 0..<3 {
                let present = batch.masks[t].select(dim: 0, index: k).item() != 0
                #expect(present == (labels[t] != nil))
                if let v = labels[t] { #expect(batch.labels[t].select(dim: 0, index: k).item() == v) }
            }
        }
        // The synthetic set has some faces without race (missingRaceFraction 0.1).
        #expect(decoded.masks[2].to(dtype: .int64).sum().itemInt() < 40)
        #expect(decoded.masks[0].to(dtype: .int64).sum().itemInt() == 40)
    }

    @Test("prefetching gives exactly the batches of the plain loop, augmentation included")
    func prefetchEqualsPlain() throws {
        let aug = Augmentation(horizontalFlip: 0.5, cropPadding: 2, randomResizedCrop: RandomResizedCrop(scale: 0.5...1),
                               colorJitter: ColorJitter(brightness: 0.3, contrast: 0.3, saturation: 0.3))
        let fast = try DataLoader(decoded, options: LoaderOptions(batchSize: 6, seed: 5, augmentation: aug, prefetch: true))
        let slow = try DataLoader(decoded, options: LoaderOptions(batchSize: 6, seed: 5, augmentation: aug, prefetch: false))
        let a = Array(fast.epoch(1)), b = Array(slow.epoch(1))
        #expect(a.count == b.count && a.count == 7)
        for (x, y) in zip(a, b) {
            #expect(x.indices == y.indices)
            #expect(x.images.equal(y.images))
        }
        // A different epoch augments differently.
        let other = Array(fast.epoch(2))
        #expect(!other[0].images.equal(a[0].images))
        // Partially consumed epochs are fine (the prefetched batch is dropped).
        let it = fast.epoch(0).makeIterator()
        #expect(it.next() != nil)
    }

    @Test("augmentations: flip mirrors, pad-crop shifts, jitter stays in range, all seeded")
    func augmentations() throws {
        let x = decoded.images.narrow(dim: 0, start: 0, length: 8)
        var g1 = SeededGenerator(seed: 1)
        let flipped = Augmentation(horizontalFlip: 1).apply(x, generator: &g1)
        #expect(flipped.equal(x.flipped([3]).to(dtype: .float32) / 255.0))
        var g2 = SeededGenerator(seed: 1)
        let same = Augmentation(horizontalFlip: 0).apply(x, generator: &g2)
        #expect(same.equal(x.to(dtype: .float32) / 255.0))

        // Pad-and-crop: every output is a window of the zero-padded input.
        var g3 = SeededGenerator(seed: 2)
        let cropped = Augmentation(cropPadding: 3).apply(x, generator: &g3)
        #expect(cropped.shape == x.shape)
        let padded = Tensor.zeros([8, 3, 22, 22])
        padded.narrow(dim: 2, start: 3, length: 16).narrow(dim: 3, start: 3, length: 16).copy_(x.to(dtype: .float32) / 255.0)
        for n in 0..<8 {
            let img = cropped.select(dim: 0, index: n)
            var found = false
            for dy in 0...6 where !found {
                for dx in 0...6 where !found {
                    let window = padded.select(dim: 0, index: n).narrow(dim: 1, start: dy, length: 16).narrow(dim: 2, start: dx, length: 16)
                    found = window.equal(img)
                }
            }
            #expect(found, "image \(n) is not a window of the padded input")
        }

        let jitter = Augmentation(colorJitter: ColorJitter(brightness: 0.5, contrast: 0.5, saturation: 0.5))
        var g4 = SeededGenerator(seed: 3), g5 = SeededGenerator(seed: 3)
        let j1 = jitter.apply(x, generator: &g4), j2 = jitter.apply(x, generator: &g5)
        #expect(j1.equal(j2))
        #expect(j1.min().item() >= 0 && j1.max().item() <= 1)
        #expect(!j1.equal(x.to(dtype: .float32) / 255.0))

        var g6 = SeededGenerator(seed: 4)
        let rrc = Augmentation(randomResizedCrop: RandomResizedCrop()).apply(x, generator: &g6)
        #expect(rrc.shape == [8, 3, 16, 16])
    }

    @Test("synthetic faces: deterministic, UTKFace-named, with learnable structure")
    func synthetic() throws {
        let gen = SyntheticFaces(count: 40, size: 48, seed: 7, missingRaceFraction: 0.1)
        #expect(gen.render(3) == gen.render(3))
        #expect(gen.render(3) != gen.render(4))
        #expect(SyntheticFaces(count: 40, size: 48, seed: 8).render(3) != gen.render(3))
        // Files written twice are byte-identical.
        let folder = temporaryFolder()
        let again = try SyntheticFaces(count: 40, size: 48, seed: 7, missingRaceFraction: 0.1).write(to: folder)
        #expect(again.files.map(\.name) == sharedSynthetic.dataset.files.map(\.name))
        for f in again.files.prefix(5) {
            let a = try Data(contentsOf: URL(fileURLWithPath: f.path))
            let b = try Data(contentsOf: URL(fileURLWithPath: sharedSynthetic.folder + "/" + f.name))
            #expect(a == b)
        }
        // Every name parses as UTKFace; race is sometimes missing, like the real malformed names.
        #expect(again.report.skipped.isEmpty)
        #expect(again.report.taskSummaries[2].missing > 0)

        // Skin tone follows race: darker tones (race 1) have darker face centres than race 0.
        var centre: [Int: [Double]] = [:]
        let big = SyntheticFaces(count: 120, size: 32, seed: 1)
        for i in 0..<120 {
            let f = big.face(i)
            let img = big.render(i).tensor().to(dtype: .float64)
            let patch = img.narrow(dim: 1, start: 17, length: 3).narrow(dim: 2, start: 15, length: 2)
            centre[f.race, default: []].append(patch.mean().item())
        }
        let mean = centre.mapValues { $0.reduce(0, +) / Double($0.count) }
        #expect(mean[1]! < mean[0]! - 40, "\(mean)")
    }
}
