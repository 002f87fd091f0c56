import Torch

/// How an image is brought to the model's input size.
public enum ResizeMode: String, Sendable, Codable, CaseIterable {
    /// Resize to exactly height×width (torchvision `Resize((h, w))`); the aspect ratio may change.
    case stretch
    /// Resize so the image covers height×width keeping its aspect ratio, then crop the
    /// centre (torchvision `Resize(size)` + `CenterCrop(size)` for square sizes).
    case shorterSideThenCenterCrop
}

/// The deterministic part of preprocessing: decode (with JPEG DCT scaling) and resize to the
/// model's input with antialiased bilinear interpolation, as torchvision's
/// `Resize(size, antialias=True)` on uint8 tensors. Its value is part of the decoded cache's key.
public struct ImageTransform: Sendable, Hashable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var resizeMode: ResizeMode
    public var jpegScaling: JPEGScaling
    /// Images with more pixels than this are rejected as too large.
    public var maxPixels: Int

    /// A square `size`×`size` output.
    public init(size: Int, resizeMode: ResizeMode = .stretch, jpegScaling: JPEGScaling = .powerOfTwo,
                maxPixels: Int = ImageCodec.defaultMaxPixels) {
        self.init(height: size, width: size, resizeMode: resizeMode, jpegScaling: jpegScaling, maxPixels: maxPixels)
    }

    public init(height: Int, width: Int, resizeMode: ResizeMode = .stretch, jpegScaling: JPEGScaling = .powerOfTwo,
                maxPixels: Int = ImageCodec.defaultMaxPixels) {
        self.height = height
        self.width = width
        self.resizeMode = resizeMode
        self.jpegScaling = jpegScaling
        self.maxPixels = maxPixels
    }

    public var description: String {
        "\(height)x\(width) \(resizeMode.rawValue), antialiased bilinear, JPEG scaling \(jpegScaling.rawValue)"
    }

    /// A string that changes whenever the output of the transform could change.
    public var cacheKey: String {
        "resize=\(height)x\(width);mode=\(resizeMode.rawValue);jpeg=\(jpegScaling.rawValue);filter=bilinear-aa-uint8;v1"
    }

    /// Throws `DataError.invalidArgument` for sizes a model cannot use.
    public func validate() throws {
        guard (1...8192).contains(height), (1...8192).contains(width) else {
            throw DataError.invalidArgument("image size \(height)x\(width) is out of range (1…8192 per side)")
        }
        guard maxPixels > 0 else { throw DataError.invalidArgument("maxPixels must be positive, got \(maxPixels)") }
    }

    /// Decodes an image file with the DCT scaling this transform allows.
    public func decode(file path: String) throws -> RGBImage {
        try ImageCodec.decodeFile(path, minimumSize: (width, height), scaling: jpegScaling, maxPixels: maxPixels)
    }

    /// Decodes image bytes with the DCT scaling this transform allows.
    public func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> RGBImage {
        try ImageCodec.decode(bytes, path: path, minimumSize: (width, height), scaling: jpegScaling,
                              maxPixels: maxPixels)
    }

    /// The size an image of `sourceWidth`×`sourceHeight` is resized to before cropping.
    func resizedSize(sourceWidth w: Int, sourceHeight h: Int) -> (width: Int, height: Int) {
        switch resizeMode {
        case .stretch:
            return (width, height)
        case .shorterSideThenCenterCrop:
            if width == height {
                // torchvision's _compute_resized_output_size for an int size.
                let size = width
                let (short, long) = w <= h ? (w, h) : (h, w)
                let newLong = Int(Double(size) * Double(long) / Double(short))
                return w <= h ? (size, newLong) : (newLong, size)
            }
            let scale = max(Double(height) / Double(h), Double(width) / Double(w))
            return (max(width, Int((Double(w) * scale).rounded())), max(height, Int((Double(h) * scale).rounded())))
        }
    }

    /// One image as a uint8 3×H×W tensor.
    public func apply(_ image: RGBImage) -> Tensor {
        apply([image]).squeezed(0)
    }

    /// Decoded images as one uint8 N×3×H×W tensor. Images of equal size are resized together.
    public func apply(_ images: [RGBImage]) -> Tensor {
        apply(pixels: images.map {
            PixelBuffer(width: $0.width, height: $0.height, channels: 3, pixels: $0.pixels, sourceWidth: $0.sourceWidth,
                        sourceHeight: $0.sourceHeight)
        })
    }

    /// Decodes image bytes to RGBX for ``apply(pixels:)`` (the decoded cache's fast path).
    public func decodePixels(_ bytes: [UInt8], path: String) throws -> PixelBuffer {
        try bytes.withUnsafeBytes {
            try ImageCodec.decodePixels($0, path: path, minimumSize: (width, height), scaling: jpegScaling,
                                        maxPixels: maxPixels, channels: 4)
        }
    }

    /// RGB or RGBX buffers as one uint8 N×3×H×W tensor (the padding channel is dropped after
    /// resizing; resizing treats channels independently, so the values are the same).
    public func apply(pixels images: [PixelBuffer]) -> Tensor {
        if images.isEmpty { return Tensor.zeros([0, 3, height, width], dtype: .uint8) }
        struct GroupKey: Hashable { let w, h, c, rw, rh: Int }
        var groups: [GroupKey: [Int]] = [:]
        var order: [GroupKey] = []
        for (i, image) in images.enumerated() {
            let r = resizedSize(sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight)
            let key = GroupKey(w: image.width, h: image.height, c: image.channels, rw: r.width, rh: r.height)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        var results: [(indices: [Int], tensor: Tensor)] = []
        for key in order {
            let members = groups[key]!
            var buffer = [UInt8]()
            buffer.reserveCapacity(members.count * key.w * key.h * key.c)
            for i in members { buffer.append(contentsOf: images[i].pixels) }
            let nhwc = buffer.withUnsafeBytes { raw in
                try! Tensor(bytes: raw, shape: [members.count, key.h, key.w, key.c], dtype: .uint8)
            }
            var x = nhwc.permuted(0, 3, 1, 2)  // N×C×H×W view, channels-last in memory
            if key.w != key.rw || key.h != key.rh {
                x = Functional.interpolate(x, size: (key.rh, key.rw), mode: .bilinear, alignCorners: false,
                                           antialias: true)
            }
            if key.rw != width || key.rh != height {
                // torchvision's center_crop: offsets rounded half to even, as Python's round().
                let top = Int((Double(key.rh - height) / 2).rounded(.toNearestOrEven))
                let left = Int((Double(key.rw - width) / 2).rounded(.toNearestOrEven))
                x = x.narrow(dim: 2, start: top, length: height).narrow(dim: 3, start: left, length: width)
            }
            if key.c != 3 { x = x.narrow(dim: 1, start: 0, length: 3) }
            results.append((members, x.contiguous()))
        }
        if results.count == 1 { return results[0].tensor }
        let out = Tensor.zeros([images.count, 3, height, width], dtype: .uint8)
        for (indices, tensor) in results {
            out.indexPut([.tensor(Tensor(indices.map(Int64.init)))], tensor)
        }
        return out
    }
}

/// `ToTensor` + `Normalize`: uint8 images to float32 `(x / 255 − mean) / std`, per channel.
public struct Normalization: Sendable, Hashable, Codable {
    public var mean: [Double]
    public var std: [Double]

    /// ImageNet statistics (torchvision's pretrained models expect these).
    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Only scaling to [0, 1] (`ToTensor` alone).
    public static let unitRange = Normalization(mean: [0, 0, 0], std: [1, 1, 1])

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// Throws unless there are three means and three positive, finite deviations.
    public func validate() throws {
        guard mean.count == 3, std.count == 3 else {
            throw DataError.invalidArgument("normalization needs 3 means and 3 stds (RGB), got \(mean.count) and \(std.count)")
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DataError.invalidArgument("normalization std must be positive and finite, got \(std)")
        }
    }

    /// Normalizes an N×3×H×W (or 3×H×W) batch: uint8 is first scaled by 1/255; floats are
    /// taken to be in [0, 1] already. The result is float32.
    public func apply(_ x: Tensor) -> Tensor { apply(x, reusingInput: false) }

    /// With `reusingInput`, a float32 `x` is normalized in place (the loader's own buffers).
    func apply(_ x: Tensor, reusingInput: Bool) -> Tensor {
        // One conversion and two in-place passes: y = x · (1 / (255·std)) − mean / std, the
        // same values as (x / 255 − mean) / std up to float rounding (≤ 1 ulp-ish).
        let shape = x.rank == 4 ? [1, 3, 1, 1] : [3, 1, 1]
        let range = x.dtype == .uint8 ? 255.0 : 1.0
        let scale = Tensor(std.map { Float(1 / (range * $0)) }, shape: shape).to(device: x.device)
        let shift = Tensor(zip(mean, std).map { Float(-$0 / $1) }, shape: shape).to(device: x.device)
        let y = x.dtype == .float32 ? (reusingInput ? x : x.clone()) : x.to(dtype: .float32)
        y.mul_(scale)
        y.add_(shift)
        return y
    }
}
