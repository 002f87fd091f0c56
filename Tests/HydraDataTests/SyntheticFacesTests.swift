import Foundation
import HydraData
import Testing

/// The generated faces must teach the tasks through what a face looks like, never through a
/// fixed spot that encodes the label.
@Suite("synthetic faces: no label leaks")
struct SyntheticFacesTests {
    /// Faces rendered at the default 64 px, box-averaged to 32 px (what training sees).
    static let count = 480
    static let training = 360

    /// The colour (0…1) of every pixel of the 32-px image (the mean of a 2×2 block at 64 px):
    /// `[pixel][channel]`.
    static func patchColours(_ image: RGBImage) -> [[Double]] {
        let side = image.width / 2
        var out: [[Double]] = []
        for py in 0..<side {
            for px in 0..<side {
                var sum = [0.0, 0.0, 0.0]
                for y in (py * 2)..<(py * 2 + 2) {
                    for x in (px * 2)..<(px * 2 + 2) {
                        for c in 0..<3 { sum[c] += Double(image.pixels[(y * image.width + x) * 3 + c]) }
                    }
                }
                out.append(sum.map { $0 / (4 * 255) })
            }
        }
        return out
    }

    /// Test accuracy of a least-squares linear classifier (ridge 1e-6) on `features`, trained
    /// on the first `training` rows.
    static func linearAccuracy(_ features: [[Double]], _ labels: [Int], training: Int) -> Double {
        let d = features[0].count + 1
        var a = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d)
        for (row, label) in zip(features.prefix(training), labels.prefix(training)) {
            let x = [1] + row
            let y = label == 1 ? 1.0 : -1.0
            for i in 0..<d {
                for j in 0..<d { a[i][j] += x[i] * x[j] }
                a[i][d] += x[i] * y
            }
        }
        for i in 0..<d { a[i][i] += 1e-6 }
        // Gauss–Jordan with partial pivoting.
        for col in 0..<d {
            let pivot = (col..<d).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot)
            for r in 0..<d where r != col {
                let f = a[r][col] / a[col][col]
                for k in col...d { a[r][k] -= f * a[col][k] }
            }
        }
        let w = (0..<d).map { a[$0][d] / a[$0][$0] }
        let test = zip(features.dropFirst(training), labels.dropFirst(training))
        let correct = test.filter { row, label in
            let score = zip(w, [1] + row).map { $0 * $1 }.reduce(0, +)
            return (score > 0) == (label == 1)
        }.count
        return Double(correct) / Double(features.count - training)
    }

    /// The best test accuracy of gender from one fixed 32-px pixel's colour, over all pixels.
    static func bestPatchAccuracy(_ patches: [[[Double]]], _ genders: [Int]) -> (accuracy: Double, patch: Int) {
        (0..<patches[0].count).map { p in
            (linearAccuracy(patches.map { $0[p] }, genders, training: training), p)
        }.max { $0.0 < $1.0 }!
    }

    @Test("no fixed pixel (at 32 px) gives gender away; an injected marker would be caught")
    func noFixedPatchLeak() throws {
        let generator = SyntheticFaces(count: Self.count, seed: 21)
        let faces = (0..<Self.count).map { generator.face($0) }
        let images = (0..<Self.count).map { generator.render($0) }
        let genders = faces.map(\.gender)
        let share = Double(genders.filter { $0 == 1 }.count) / Double(genders.count)
        try #require((0.4...0.6).contains(share), "gender share \(share)")

        let patches = images.map(Self.patchColours)
        let best = Self.bestPatchAccuracy(patches, genders)
        // Measured with seed 21 (render version 3): the best pixel is row 25, column 16 (the
        // chin, where beards are) at 0.75 on the 120 held-out faces. Gender is spread over
        // hair, jaw, brows and beard; lips vary in colour, size and height for everyone, and
        // lipstick is muted and worn by some women only, so the mouth is no longer a one-pixel
        // answer (it was 0.89 in version 2). A pixel that encoded the label would give 1.0
        // (checked below).
        print("synthetic faces: best single-pixel gender accuracy \(best.accuracy) (pixel \(best.patch))")
        #expect(best.accuracy < 0.82, "pixel \(best.patch) predicts gender with accuracy \(best.accuracy)")

        // The check has teeth: the same faces with one 32-px pixel (a 2×2 block at 64 px)
        // set by the label are caught.
        let marked = zip(images, genders).map { image, gender -> RGBImage in
            var copy = image
            for (y, x) in [(40, 20), (40, 21), (41, 20), (41, 21)] {
                for c in 0..<3 { copy.pixels[(y * image.width + x) * 3 + c] = gender == 1 ? 200 : 40 }
            }
            return copy
        }
        let leaked = Self.bestPatchAccuracy(marked.map(Self.patchColours), genders)
        #expect(leaked.accuracy >= 0.99, "an injected one-pixel marker went unnoticed (\(leaked.accuracy))")
    }
}
