import Foundation
import Torch

/// A seeded generator of UTKFace-format face images with learnable structure: the face's
/// size grows with age through childhood, wrinkles and grey hair come with age, the face
/// outline (and hair length, beard) follows gender, skin tone follows race; position, colours
/// and pixel noise vary. It writes `age_gender_race_datetime.jpg.chip.jpg` JPEGs, so
/// everything that reads UTKFace reads it. It is HydraNet's embedded default dataset (the
/// demo, and tests that must not depend on `../shared`).
///
/// The same seed and options give byte-identical files on every run.
public struct SyntheticFaces: Sendable, Hashable, Codable {
    public var count: Int
    /// Side of the square images in pixels.
    public var size: Int
    public var seed: UInt64
    /// JPEG quality (1…100).
    public var quality: Int
    /// Fraction of files written without a race field (like UTKFace's malformed names), so
    /// missing labels are exercised; 0 by default.
    public var missingRaceFraction: Double

    public init(count: Int, size: Int = 64, seed: UInt64 = 0, quality: Int = 90, missingRaceFraction: Double = 0) {
        self.count = count
        self.size = size
        self.seed = seed
        self.quality = quality
        self.missingRaceFraction = missingRaceFraction
    }

    /// Labels and rendering parameters of one face.
    public struct Face: Sendable, Equatable {
        public var age: Int
        public var gender: Int
        public var race: Int
        public var fileName: String
    }

    static let skinTones: [(Float, Float, Float)] = [
        (236, 196, 170), (112, 74, 52), (228, 188, 142), (170, 118, 84), (198, 150, 112),
    ]
    static let raceWeights: [Double] = [0.42, 0.19, 0.15, 0.17, 0.07]

    public func validate() throws {
        guard count > 0 else { throw DataError.invalidArgument("synthetic face count must be positive, got \(count)") }
        guard (16...1024).contains(size) else {
            throw DataError.invalidArgument("synthetic face size must be 16…1024 pixels, got \(size)")
        }
        guard (1...100).contains(quality) else { throw DataError.invalidArgument("JPEG quality must be 1…100") }
        guard (0...1).contains(missingRaceFraction) else {
            throw DataError.invalidArgument("missingRaceFraction must be in 0…1")
        }
    }

    /// The labels and file name of face `index`.
    public func face(_ index: Int) -> Face {
        var g = SeededGenerator(seed: seed, stream: [0xFACE, UInt64(index)])
        let age = g.uniform() < 0.15 ? 1 + g.below(15) : 16 + g.below(75)
        let gender = g.below(2)
        var u = g.uniform(), race = 0
        for (r, w) in SyntheticFaces.raceWeights.enumerated() {
            if u < w { race = r; break }
            u -= w
            race = r
        }
        let dropRace = g.uniform() < missingRaceFraction
        let stamp = 20_170_101_000_000_000 + UInt64(index) * 7919 + (seed % 1000) * 10_000_000
        var name = UTKFace.fileName(age: age, gender: gender, race: race, stamp: stamp)
        if dropRace {
            name = name.replacingOccurrences(of: "\(age)_\(gender)_\(race)_", with: "\(age)_\(gender)_")
        }
        return Face(age: age, gender: gender, race: race, fileName: name)
    }

    /// Renders face `index` (RGB, `size`×`size`).
    public func render(_ index: Int) -> RGBImage {
        let f = face(index)
        var g = SeededGenerator(seed: seed, stream: [0x1AA6E, UInt64(index)])
        let s = size
        let t = Float(min(f.age, 80)) / 80
        let child = Float(min(f.age, 18)) / 18
        let female = f.gender == 1

        // Geometry in normalized coordinates (−1…1, y down).
        let cx = Float(g.uniform(-0.06...0.06)), cy = Float(g.uniform(0.02...0.10))
        let faceSize = 0.40 + 0.16 * child + Float(g.uniform(-0.02...0.02))
        let rx = faceSize * (female ? 0.88 : 0.98)
        let ry = faceSize * (female ? 1.16 : 1.26)
        let squareness: Float = female ? 2.0 : 2.8  // superellipse exponent: squarer jaw for men
        let tone = SyntheticFaces.skinTones[f.race]
        let toneJitter = Float(g.uniform(-10...10))
        let skin = (tone.0 + toneJitter, tone.1 + toneJitter, tone.2 + toneJitter)
        let grey = max(0, min(1, (Float(f.age) - 35) / 35))
        let hairBase: (Float, Float, Float) = [(40, 28, 20), (70, 45, 25), (20, 18, 16), (110, 80, 45)][g.below(4)]
        let hair = mix3(hairBase, (205, 205, 205), grey)
        let longHair = female
        let beard = !female && f.age >= 18 && g.uniform() < 0.45
        let bgA = (Float(g.uniform(40...220)), Float(g.uniform(40...220)), Float(g.uniform(40...220)))
        let bgB = (Float(g.uniform(40...220)), Float(g.uniform(40...220)), Float(g.uniform(40...220)))
        let wrinkleLines = f.age > 28 ? min(6, (f.age - 28) / 9 + 1) : 0
        let wrinkleDepth: Float = 0.10 + 0.25 * t
        let lip: (Float, Float, Float) = female ? (170, 60, 70) : (130, 70, 65)
        let noiseAmplitude: Float = 7

        var pixels = [UInt8](repeating: 0, count: s * s * 3)
        let inv = 2 / Float(s)
        for py in 0..<s {
            let y = (Float(py) + 0.5) * inv - 1
            for px in 0..<s {
                let x = (Float(px) + 0.5) * inv - 1
                let bgT = (x + y + 2) / 4
                var c = mix3(bgA, bgB, bgT)
                let dx = (x - cx) / rx, dy = (y - cy) / ry
                let faceR = superellipse(dx, dy, squareness)
                // Hair: behind the head and on top of it.
                let hairDy = (y - (cy - ry * 0.15)) / (ry * 1.12)
                let hairR = superellipse((x - cx) / (rx * 1.18), hairDy, 2)
                let hairBottom = cy + (longHair ? ry * 0.95 : -ry * 0.2)
                if hairR < 1 && y < hairBottom { c = hair }
                if faceR < 1 {
                    c = skin
                    // Forehead hairline.
                    if dy < -0.72 + 0.06 * Float(f.gender) && hairR < 1 { c = hair }
                    // Shading towards the edge.
                    let shade = 1 - 0.18 * faceR * faceR
                    c = (c.0 * shade, c.1 * shade, c.2 * shade)
                    // Eyes.
                    for side: Float in [-1, 1] {
                        let ex = (dx - side * 0.38) / 0.15, ey = (dy + 0.12) / 0.07
                        if ex * ex + ey * ey < 1 { c = (35, 30, 30) }
                        // Crow's feet with age.
                        let fx = dx - side * 0.62
                        if wrinkleLines > 2 && abs(fx) < 0.08 && abs(dy + 0.12 - fx * side * 0.8) < 0.015 * Float(wrinkleLines) {
                            c = mix3(c, (c.0 * 0.6, c.1 * 0.6, c.2 * 0.6), wrinkleDepth * 2)
                        }
                    }
                    // Mouth.
                    let mx = dx / (female ? 0.30 : 0.34), my = (dy - 0.48) / (female ? 0.06 : 0.04)
                    if mx * mx + my * my < 1 { c = lip }
                    // Forehead wrinkles.
                    if wrinkleLines > 0 && dy > -0.62 && dy < -0.28 && abs(dx) < 0.5 {
                        let phase = (dy + 0.62) / 0.34 * Float(wrinkleLines)
                        if phase - phase.rounded(.down) < 0.22 {
                            c = mix3(c, (c.0 * 0.55, c.1 * 0.55, c.2 * 0.55), wrinkleDepth)
                        }
                    }
                    // Beard.
                    if beard && dy > 0.25 && faceR > 0.35 {
                        c = mix3(c, hair, 0.7)
                    }
                }
                let n0 = Float(g.uniform() + g.uniform() - 1) * noiseAmplitude
                let n1 = Float(g.uniform() + g.uniform() - 1) * noiseAmplitude
                let n2 = Float(g.uniform() + g.uniform() - 1) * noiseAmplitude
                let o = (py * s + px) * 3
                pixels[o] = clampByte(c.0 + n0)
                pixels[o + 1] = clampByte(c.1 + n1)
                pixels[o + 2] = clampByte(c.2 + n2)
            }
        }
        return RGBImage(width: s, height: s, pixels: pixels)
    }

    /// Writes all faces into `folder` (created if needed) as JPEGs and returns the dataset.
    /// If the folder already holds this exact set (same options, recorded in a hidden marker
    /// file), nothing is rewritten.
    @discardableResult
    public func write(to folder: String) throws -> FileDataset {
        try validate()
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DataError.unreadableFile(path: folder, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        let marker = (folder as NSString).appendingPathComponent(".hydranet-synthetic.json")
        let markerText = String(decoding: try JSONEncoder.sorted.encode(self), as: UTF8.self)
        let names = (0..<count).map { face($0).fileName }
        let existing = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        if existing != markerText || !names.allSatisfy({ fm.fileExists(atPath: (folder as NSString).appendingPathComponent($0)) }) {
            try? fm.removeItem(atPath: marker)
            AtomicFile.removeStaleTemporaries(in: folder)
            let errors = LockedBox<[String]>([])
            let generator = self
            DispatchQueue.concurrentPerform(iterations: count) { i in
                do {
                    let bytes = try ImageCodec.encodeJPEG(generator.render(i), quality: generator.quality)
                    let path = (folder as NSString).appendingPathComponent(names[i])
                    try AtomicFile.write(bytes, to: path)
                } catch {
                    errors.withLock { $0.append("\(names[i]): \(error)") }
                }
            }
            if let first = errors.value.first {
                throw DataError.unreadableFile(path: folder, reason: "writing synthetic faces failed: \(first)")
            }
            try writeText(markerText, to: marker)
        }
        return try UTKFace.load(folder: folder, name: "synthetic-faces")
    }

    /// The default location of the embedded dataset: `<cache directory>/synthetic-faces-<options>`.
    public func defaultFolder(cacheDirectory: String = DecodedCache.defaultDirectory) -> String {
        (cacheDirectory as NSString).appendingPathComponent(
            "synthetic-faces-n\(count)-s\(size)-seed\(seed)-q\(quality)-m\(Int(missingRaceFraction * 1000))")
    }
}

@inline(__always) private func mix3(_ a: (Float, Float, Float), _ b: (Float, Float, Float), _ t: Float) -> (Float, Float, Float) {
    (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
}

@inline(__always) private func superellipse(_ x: Float, _ y: Float, _ p: Float) -> Float {
    if p == 2 { return x * x + y * y }
    return Float(pow(Double(abs(x)), Double(p)) + pow(Double(abs(y)), Double(p)))
}

@inline(__always) private func clampByte(_ v: Float) -> UInt8 {
    UInt8(max(0, min(255, v.rounded())))
}

/// A value guarded by a lock (for results gathered from worker threads).
final class LockedBox<Value>: @unchecked Sendable {
    private var _value: Value
    private let lock = NSLock()
    init(_ value: Value) { _value = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return _value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&_value)
    }
}
