import Foundation
import Torch

/// A seeded generator of UTKFace-format face images with learnable structure: the face's
/// size grows with age through childhood, wrinkles and grey hair come with age, the face
/// outline (and hair length, beard) follows gender, skin tone follows race (see `render` for the cues); position, colours
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
        (240, 200, 180), (100, 66, 48), (235, 195, 135), (165, 110, 70), (205, 148, 118),
    ]
    static let raceWeights: [Double] = [0.42, 0.19, 0.15, 0.17, 0.07]
    /// Natural hair colours by race (black, dark brown, brown, light brown, blond), so that
    /// hair stands out from the skin as in photos.
    static let hairColours: [[(Float, Float, Float)]] = [
        [(20, 18, 16), (40, 28, 20), (70, 45, 25), (110, 80, 45), (170, 130, 70)],
        [(20, 18, 16), (40, 28, 20)],
        [(20, 18, 16), (40, 28, 20)],
        [(20, 18, 16), (40, 28, 20), (70, 45, 25)],
        [(20, 18, 16), (40, 28, 20), (70, 45, 25), (110, 80, 45)],
    ]

    /// The version of the rendering: part of the default folder's name and of the marker
    /// file, so images drawn by an older renderer are never reused. Bump it with any change
    /// to what `render` draws. (1: the first renderer; 2: gender cues that survive 32 px; 3: muted, less frequent
    /// lipstick, lips of varying colour, size and height for everyone, more head-position jitter.)
    public static let renderVersion = 3

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
    ///
    /// Gender shows the way it does in photos, through several cues that each vary and
    /// overlap: a continuous "masculinity" (drawn per face, so the two genders overlap and
    /// children differ less) sets the jaw (narrow tapering chin ↔ wide square jaw), the face
    /// width and the eyebrows (thin and arched ↔ thick and straight); hair style is drawn by
    /// gender (mostly long and full for women, mostly short, sometimes receding for men, with
    /// exceptions both ways); adult men often have a beard or stubble; lips vary in colour,
    /// size and height for everyone, and some adult women wear a muted lipstick. Every cue is
    /// sized to survive downscaling to 32 px and the training augmentation (flip, crop); none
    /// is a fixed pixel or marker, and the head's position varies. Age: the face grows through
    /// childhood, forehead lines and crow's feet come with age, hair and brows grey, men's
    /// hair recedes. Race: skin tone (with jitter).
    public func render(_ index: Int) -> RGBImage {
        let f = face(index)
        var g = SeededGenerator(seed: seed, stream: [0x1AA6E, UInt64(SyntheticFaces.renderVersion), UInt64(index)])
        let s = size
        let t = Float(min(f.age, 80)) / 80
        let child = Float(min(f.age, 18)) / 18
        let female = f.gender == 1
        let adult = f.age >= 18

        // Masculinity 0…1: women around 0.2, men around 0.8, children closer to the middle.
        let dimorphism = 0.45 + 0.55 * child
        let masculinity = max(0, min(1, 0.5 + (female ? -0.3 : 0.3) * dimorphism + Float(g.uniform() + g.uniform() - 1) * 0.4))
        let m = masculinity

        // Geometry in normalized coordinates (−1…1, y down).
        let cx = Float(g.uniform(-0.09...0.09)), cy = Float(g.uniform(-0.02...0.10))
        let faceSize = 0.40 + 0.16 * child + Float(g.uniform(-0.02...0.02))
        let rx = faceSize * (0.84 + 0.16 * m)
        let ry = faceSize * 1.22
        let squareness = 2.0 + 1.4 * m            // superellipse exponent: squarer jaw for men
        let chinTaper = 0.34 - 0.28 * m           // how much the lower face narrows towards the chin
        let tone = SyntheticFaces.skinTones[f.race]
        let toneJitter = Float(g.uniform(-10...10))
        let skin = (tone.0 + toneJitter, tone.1 + toneJitter, tone.2 + toneJitter)
        let grey = max(0, min(1, (Float(f.age) - 30) / 40))
        let hairColours = SyntheticFaces.hairColours[f.race]
        let hairBase = hairColours[g.below(hairColours.count)]
        let hair = mix3(hairBase, (205, 205, 205), grey)
        let brow = mix3((hairBase.0 * 0.7, hairBase.1 * 0.7, hairBase.2 * 0.7), (170, 170, 170), grey * 0.6)

        // Hair style: long and full (to the shoulders), chin-length, short, or receding.
        enum Hair { case long, bob, short, receding }
        let u = g.uniform()
        let style: Hair
        if female {
            style = u < 0.85 ? .long : u < 0.95 ? .bob : .short
        } else {
            let recedes = adult && g.uniform() < 0.6 * Double(max(0, min(1, (Float(f.age) - 35) / 40)))
            style = u < 0.03 ? .long : u < 0.08 ? .bob : recedes ? .receding : .short
        }
        let hairWidth: Float
        let hairBottom: Float
        switch style {
        case .long: hairWidth = Float(g.uniform(1.5...1.8)); hairBottom = cy + ry * Float(g.uniform(1.2...1.9))
        case .bob: hairWidth = Float(g.uniform(1.25...1.40)); hairBottom = cy + ry * Float(g.uniform(0.55...0.9))
        case .short, .receding: hairWidth = Float(g.uniform(1.06...1.14)); hairBottom = cy - ry * Float(g.uniform(0.05...0.3))
        }
        let hairTop = cy - ry * Float(style == .short || style == .receding ? g.uniform(1.06...1.14) : g.uniform(1.18...1.32))
        let fringe = style != .receding && style != .short && g.uniform() < 0.3
        let hairline: Float = style == .receding ? -0.95 : fringe ? Float(g.uniform(-0.45 ... -0.35)) : -0.78 + 0.08 * m

        let beardDraw = g.uniform()
        let beard: Float = !female && adult ? (beardDraw < 0.50 ? 0.80 : beardDraw < 0.80 ? 0.40 : 0) : 0
        // Lips: everyone's vary in redness and darkness; some adult women wear a muted
        // lipstick that only shifts the colour, so the mouth alone says little about gender.
        let naturalLip = mix3((skin.0 * 0.78 + 20, skin.1 * 0.62, skin.2 * 0.62),
                              (skin.0 * 0.70 + 35, skin.1 * 0.50, skin.2 * 0.55), Float(g.uniform()))
        let lipstickDraw = g.uniform()
        let lipstick = female && f.age >= 16 && lipstickDraw < 0.35
        let lipstickColour: (Float, Float, Float) = [(170, 70, 80), (185, 95, 105), (140, 60, 65)][g.below(3)]
        let lip = lipstick ? mix3(naturalLip, lipstickColour, Float(g.uniform(0.25...0.55))) : naturalLip
        let lipHeight = Float(g.uniform(0.045...0.08))
        let lipWidth = 0.25 + 0.04 * m + Float(g.uniform(-0.04...0.04))
        let mouthY = Float(g.uniform(0.44...0.60))
        let browThickness = 0.035 + 0.055 * m
        let browArch = 0.07 - 0.05 * m
        let clothes = (Float(g.uniform(30...220)), Float(g.uniform(30...220)), Float(g.uniform(30...220)))
        // A studio-like background: light to mid grey with a tint, shading from one corner to the other.
        func backdrop() -> (Float, Float, Float) {
            let level = Float(g.uniform(100...225))
            return (level + Float(g.uniform(-40...40)), level + Float(g.uniform(-40...40)), level + Float(g.uniform(-40...40)))
        }
        let bgA = backdrop(), bgB = backdrop()
        let wrinkleLines = f.age > 28 ? min(6, (f.age - 28) / 9 + 1) : 0
        let wrinkleDepth: Float = 0.10 + 0.25 * t
        let noiseAmplitude: Float = 7

        var pixels = [UInt8](repeating: 0, count: s * s * 3)
        let inv = 2 / Float(s)
        for py in 0..<s {
            let y = (Float(py) + 0.5) * inv - 1
            for px in 0..<s {
                let x = (Float(px) + 0.5) * inv - 1
                let bgT = (x + y + 2) / 4
                var c = mix3(bgA, bgB, bgT)
                // Shoulders and clothes.
                let shoulderY = cy + ry * 1.35
                if y > shoulderY && superellipse((x - cx) / (rx * 2.3), (y - shoulderY - 0.9) / 0.9, 2.4) < 1 { c = clothes }
                // Hair behind the head: a cap over the crown and, for longer styles, hair falling
                // straight down beside the face.
                let capCentre = cy - ry * 0.1
                let hx = (x - cx) / (rx * hairWidth)
                let hy = (y - capCentre) / (capCentre - hairTop)
                let inCap = superellipse(hx, hy, 2) < 1
                var inHair = y < capCentre ? inCap : (abs(hx) < 1 && y < hairBottom && (inCap || style == .long || style == .bob))
                if style == .receding && y < cy - ry * 0.55 { inHair = inHair && abs(hx) > 0.8 }
                if style == .short || style == .receding { inHair = inHair && y < hairBottom }
                if inHair {
                    // Hair is darker towards its outline (volume), so even grey hair stands out.
                    let edge = min(1, max(abs(hx), y < capCentre ? hx * hx + hy * hy : 0))
                    let shade = 1 - 0.4 * edge * edge * edge
                    c = (hair.0 * shade, hair.1 * shade, hair.2 * shade)
                }
                // Neck.
                if y > cy + ry * 0.5 && y < shoulderY + 0.12 && abs(x - cx) < rx * (0.48 + 0.12 * m) {
                    c = (skin.0 * 0.82, skin.1 * 0.82, skin.2 * 0.82)
                }
                let dy = (y - cy) / ry
                let taper = dy > 0 ? 1 - chinTaper * dy * dy : 1
                let dx = (x - cx) / (rx * taper)
                let faceR = superellipse(dx, dy, dy > 0 ? squareness : 2)
                if faceR < 1 {
                    c = skin
                    // Hairline (or fringe).
                    if dy < hairline && inCap { c = hair }
                    // Shading towards the edge.
                    let shade = 1 - 0.18 * faceR * faceR
                    c = (c.0 * shade, c.1 * shade, c.2 * shade)
                    let ex0 = (x - cx) / rx  // eye and brow positions do not follow the chin taper
                    for side: Float in [-1, 1] {
                        // Eyebrows.
                        let bx = (ex0 - side * 0.38) / 0.22
                        if abs(bx) < 1 {
                            let by = dy + 0.31 + browArch * (1 - bx * bx)
                            if abs(by) < browThickness / 2 && dy > hairline { c = brow }
                        }
                        // Eyes.
                        let ex = (ex0 - side * 0.38) / 0.15, ey = (dy + 0.12) / 0.07
                        if ex * ex + ey * ey < 1 { c = (35, 30, 30) }
                        // Crow's feet with age.
                        let fx = ex0 - side * 0.62
                        if wrinkleLines > 2 && abs(fx) < 0.08 && abs(dy + 0.12 - fx * side * 0.8) < 0.015 * Float(wrinkleLines) {
                            c = mix3(c, (c.0 * 0.6, c.1 * 0.6, c.2 * 0.6), wrinkleDepth * 2)
                        }
                    }
                    // Forehead wrinkles.
                    if wrinkleLines > 0 && dy > hairline + 0.03 && dy < -0.44 && abs(ex0) < 0.5 {
                        let phase = (dy + 0.76) / 0.32 * Float(wrinkleLines)
                        if phase - phase.rounded(.down) < 0.22 {
                            c = mix3(c, (c.0 * 0.55, c.1 * 0.55, c.2 * 0.55), wrinkleDepth)
                        }
                    }
                    // Beard or stubble: the lower face and the upper lip.
                    if beard > 0 && ((dy > 0.16 && faceR > 0.30) || (dy > mouthY - 0.18 && dy < mouthY - 0.06 && abs(ex0) < 0.36) || dy > 0.62) {
                        c = mix3(c, hair, beard)
                    }
                    // Mouth.
                    let mx = ex0 / lipWidth, my = (dy - mouthY) / lipHeight
                    if mx * mx + my * my < 1 { c = lip }
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
        let markerText = String(decoding: try JSONEncoder.sorted.encode(Marker(renderVersion: SyntheticFaces.renderVersion, options: self)),
                                as: UTF8.self)
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

    /// What the marker file records: the renderer's version and the options.
    private struct Marker: Codable {
        var renderVersion: Int
        var options: SyntheticFaces
    }

    /// The default location of the embedded dataset:
    /// `<cache directory>/synthetic-faces-v<render version>-<options>`.
    public func defaultFolder(cacheDirectory: String = DecodedCache.defaultDirectory) -> String {
        (cacheDirectory as NSString).appendingPathComponent(
            "synthetic-faces-v\(SyntheticFaces.renderVersion)-n\(count)-s\(size)-seed\(seed)-q\(quality)-m\(Int(missingRaceFraction * 1000))")
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
