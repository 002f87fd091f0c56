import Foundation
import Torch

/// Colour jitter strengths, as torchvision's `ColorJitter(brightness, contrast, saturation)`:
/// each factor is drawn per image uniformly from [max(0, 1 − s), 1 + s].
public struct ColorJitter: Sendable, Hashable, Codable {
    public var brightness: Double
    public var contrast: Double
    public var saturation: Double

    public init(brightness: Double = 0, contrast: Double = 0, saturation: Double = 0) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
    }
}

/// torchvision's `RandomResizedCrop` parameters (area fraction and aspect-ratio ranges).
public struct RandomResizedCrop: Sendable, Hashable, Codable {
    public var scale: ClosedRange<Double>
    public var ratio: ClosedRange<Double>

    public init(scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)) {
        self.scale = scale
        self.ratio = ratio
    }
}

/// Seeded training augmentations applied on whole batches of tensors (never on files):
/// random-resized-crop, pad-and-random-crop, horizontal flip (on uint8), then colour jitter
/// (on float in [0, 1]). Every random choice comes from the `SeededGenerator` passed in, so a
/// seed, epoch and batch index fix the result.
public struct Augmentation: Sendable, Hashable, Codable {
    /// Probability of mirroring each image left–right (0 disables).
    public var horizontalFlip: Double
    /// Pad each side with this many zero pixels, then crop back to the original size at a
    /// random offset (torchvision `RandomCrop(size, padding:)`); 0 disables.
    public var cropPadding: Int
    /// Crop a random area/aspect box and resize it back (antialiased); nil disables.
    public var randomResizedCrop: RandomResizedCrop?
    /// Brightness/contrast/saturation jitter; nil disables.
    public var colorJitter: ColorJitter?

    public init(horizontalFlip: Double = 0, cropPadding: Int = 0, randomResizedCrop: RandomResizedCrop? = nil,
                colorJitter: ColorJitter? = nil) {
        self.horizontalFlip = horizontalFlip
        self.cropPadding = cropPadding
        self.randomResizedCrop = randomResizedCrop
        self.colorJitter = colorJitter
    }

    /// No augmentation.
    public static let none = Augmentation()
    /// A sensible default for small faces: flip, 4-pixel pad-and-crop, mild colour jitter.
    public static let standard = Augmentation(horizontalFlip: 0.5, cropPadding: 4,
                                              colorJitter: ColorJitter(brightness: 0.2, contrast: 0.2, saturation: 0.2))

    public var isIdentity: Bool {
        horizontalFlip <= 0 && cropPadding <= 0 && randomResizedCrop == nil
            && (colorJitter == nil || colorJitter == ColorJitter())
    }

    /// Throws for probabilities or strengths out of range.
    public func validate() throws {
        guard (0...1).contains(horizontalFlip) else {
            throw DataError.invalidArgument("horizontal flip probability must be in 0…1, got \(horizontalFlip)")
        }
        guard cropPadding >= 0 else { throw DataError.invalidArgument("crop padding must be ≥ 0, got \(cropPadding)") }
        if let r = randomResizedCrop {
            guard r.scale.lowerBound > 0, r.scale.upperBound <= 1, r.ratio.lowerBound > 0 else {
                throw DataError.invalidArgument("random resized crop needs scale in (0, 1] and positive ratios")
            }
        }
        if let j = colorJitter {
            guard [j.brightness, j.contrast, j.saturation].allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw DataError.invalidArgument("colour jitter strengths must be ≥ 0")
            }
        }
    }

    /// Augments a uint8 N×3×H×W batch; returns float32 in [0, 1] (ready for `Normalization`).
    public func apply(_ batch: Tensor, generator: inout SeededGenerator) -> Tensor {
        precondition(batch.rank == 4 && batch.dtype == .uint8, "Augmentation.apply expects uint8 N×C×H×W")
        let n = batch.size(0), h = batch.size(2), w = batch.size(3)
        var x = batch
        if n == 0 { return x.to(dtype: .float32) }

        if let rrc = randomResizedCrop {
            var crops: [Tensor] = []
            crops.reserveCapacity(n)
            for i in 0..<n {
                let (top, left, ch, cw) = Augmentation.resizedCropBox(height: h, width: w, rrc, &generator)
                let crop = x.select(dim: 0, index: i).narrow(dim: 1, start: top, length: ch)
                    .narrow(dim: 2, start: left, length: cw).unsqueezed(0)
                crops.append(ch == h && cw == w ? crop
                    : Functional.interpolate(crop, size: (h, w), mode: .bilinear, antialias: true))
            }
            x = Tensor.cat(crops, dim: 0)
        }

        if cropPadding > 0 {
            let p = cropPadding
            let padded = Tensor.zeros([n, x.size(1), h + 2 * p, w + 2 * p], dtype: .uint8)
            padded.narrow(dim: 2, start: p, length: h).narrow(dim: 3, start: p, length: w).copy_(x)
            var dy = [Int64](), dx = [Int64]()
            for _ in 0..<n {
                dy.append(Int64(generator.below(2 * p + 1)))
                dx.append(Int64(generator.below(2 * p + 1)))
            }
            let c = x.size(1)
            let rows = (Tensor.arange(0, h).view([1, 1, h, 1]) + Tensor(dy).view([n, 1, 1, 1]))
                .expanded([n, c, h, w + 2 * p])
            let cols = (Tensor.arange(0, w).view([1, 1, 1, w]) + Tensor(dx).view([n, 1, 1, 1]))
                .expanded([n, c, h, w])
            x = padded.gather(dim: 2, index: rows.contiguous()).gather(dim: 3, index: cols.contiguous())
        }

        if horizontalFlip > 0 {
            var flips = [Bool]()
            for _ in 0..<n { flips.append(generator.uniform() < horizontalFlip) }
            if flips.contains(true) {
                let mask = Tensor(flips).view([n, 1, 1, 1])
                x = Tensor.where(mask, x.flipped([3]), x)
            }
        }

        var y = x.to(dtype: .float32) / 255.0
        if let jitter = colorJitter {
            y = Augmentation.jitter(y, jitter, &generator)
        }
        return y
    }

    /// torchvision's `RandomResizedCrop.get_params`.
    static func resizedCropBox(height: Int, width: Int, _ p: RandomResizedCrop,
                               _ g: inout SeededGenerator) -> (Int, Int, Int, Int) {
        let area = Double(height * width)
        let logRatio = log(p.ratio.lowerBound)...log(p.ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * g.uniform(p.scale)
            let aspect = exp(g.uniform(logRatio))
            let w = Int((targetArea * aspect).squareRoot().rounded())
            let h = Int((targetArea / aspect).squareRoot().rounded())
            if w > 0, w <= width, h > 0, h <= height {
                return (g.below(height - h + 1), g.below(width - w + 1), h, w)
            }
        }
        // Fallback: a central crop with the ratio clamped into range.
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < p.ratio.lowerBound {
            h = Int((Double(w) / p.ratio.lowerBound).rounded())
        } else if inRatio > p.ratio.upperBound {
            w = Int((Double(h) * p.ratio.upperBound).rounded())
        }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }

    /// Brightness, contrast and saturation with per-image factors, in a random order per batch
    /// (torchvision draws the order per call), each result clamped to [0, 1].
    static func jitter(_ x: Tensor, _ j: ColorJitter, _ g: inout SeededGenerator) -> Tensor {
        let n = x.size(0)
        func factors(_ strength: Double) -> Tensor? {
            guard strength > 0 else { return nil }
            var values = [Float]()
            for _ in 0..<n { values.append(Float(g.uniform(max(0, 1 - strength)...(1 + strength)))) }
            return Tensor(values).view([n, 1, 1, 1])
        }
        func gray(_ y: Tensor) -> Tensor {
            // torchvision's rgb_to_grayscale weights.
            let r = y.narrow(dim: 1, start: 0, length: 1), gg = y.narrow(dim: 1, start: 1, length: 1)
            let b = y.narrow(dim: 1, start: 2, length: 1)
            return r * 0.2989 + gg * 0.587 + b * 0.114
        }
        var order = [0, 1, 2]
        order = g.permutation(3).map { order[$0] }
        var y = x
        for op in order {
            switch op {
            case 0:
                if let f = factors(j.brightness) { y = (y * f).clamped(min: 0, max: 1) }
            case 1:
                if let f = factors(j.contrast) {
                    let mean = gray(y).mean(dims: [1, 2, 3], keepDim: true)
                    y = (y * f + mean * (1.0 - f)).clamped(min: 0, max: 1)
                }
            default:
                if let f = factors(j.saturation) {
                    y = (y * f + gray(y) * (1.0 - f)).clamped(min: 0, max: 1)
                }
            }
        }
        return y
    }
}
