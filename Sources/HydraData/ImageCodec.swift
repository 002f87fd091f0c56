import CImageCodec
import Foundation
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An 8-bit RGB image in row-major HWC order (what decoders produce).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height * width * 3` bytes: R, G, B for each pixel, rows top to bottom.
    public var pixels: [UInt8]
    /// The size of the image in its file, before any DCT scaling at decode time (equal to
    /// `width`×`height` otherwise). Resizing uses it so that geometry matches a full decode.
    public var sourceWidth: Int
    public var sourceHeight: Int

    public init(width: Int, height: Int, pixels: [UInt8], sourceWidth: Int? = nil, sourceHeight: Int? = nil) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.sourceWidth = sourceWidth ?? width
        self.sourceHeight = sourceHeight ?? height
    }

    /// The image as a uint8 3×H×W tensor (torchvision's layout).
    public func tensor() -> Tensor {
        let hwc = pixels.withUnsafeBytes { raw in
            // Sizes are validated by init; this cannot throw.
            try! Tensor(bytes: raw, shape: [height, width, 3], dtype: .uint8)
        }
        return hwc.permuted(2, 0, 1).contiguous()
    }
}

/// Decoded pixels with 3 (RGB) or 4 (RGBX, X = 255) bytes per pixel, row-major HWC: what
/// ``ImageTransform/decodePixels(_:path:)`` produces for ``ImageTransform/apply(pixels:)``,
/// the batch path the decoded cache uses (RGBX lets libtorch's uint8 resize skip repacking).
public struct PixelBuffer: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]
    /// The size in the file, before DCT scaling.
    public var sourceWidth: Int
    public var sourceHeight: Int
}

/// The file formats the decoder reads, told apart by their signature bytes.
public enum ImageFormat: String, Sendable, Codable {
    case jpeg, png

    /// The format of `bytes` from their first bytes, or nil if neither JPEG nor PNG.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        guard let base = bytes.baseAddress else { return nil }
        switch hd_sniff(base.assumingMemoryBound(to: UInt8.self), bytes.count) {
        case Int32(HD_FORMAT_JPEG): return .jpeg
        case Int32(HD_FORMAT_PNG): return .png
        default: return nil
        }
    }
}

/// How JPEG decoding uses libjpeg's DCT scaling (decoding at M/8 of the size costs less and
/// pre-shrinks the image before the antialiased resize).
public enum JPEGScaling: String, Sendable, Codable, CaseIterable {
    /// Always decode at full size: bit-identical to PIL's decode.
    case none
    /// The smallest of 1/8, 1/4, 1/2, 1 that keeps both sides at least the target size (the
    /// scales PIL's `draft` uses, and the ones libjpeg-turbo runs with SIMD).
    case powerOfTwo
    /// The smallest M/8 (M = 1…8) that keeps both sides at least the target size.
    case anyEighth

    var code: Int32 {
        switch self {
        case .none: Int32(HD_SCALE_NONE)
        case .powerOfTwo: Int32(HD_SCALE_POWER_OF_TWO)
        case .anyEighth: Int32(HD_SCALE_ANY_EIGHTH)
        }
    }
}

/// Decoding and encoding of JPEG (libjpeg-turbo) and PNG (libpng) images.
///
/// Decoding always yields 8-bit RGB: grayscale is replicated, CMYK/YCCK JPEGs are converted
/// as PIL does, palette PNGs are expanded, 16-bit PNGs keep the high byte, and **alpha is
/// dropped** (not composited onto a background), exactly like PIL's `convert('RGB')`.
/// The format comes from the bytes, not the file name: a PNG named `.jpg` decodes.
public enum ImageCodec {
    /// Images with more pixels than this are rejected before decoding (PIL's bomb limit is
    /// similar); change it per call with `maxPixels`.
    public static let defaultMaxPixels = 178_956_970

    /// Reads a whole file. Throws `DataError` for a missing, unreadable or empty file.
    public static func readFile(_ path: String) throws -> [UInt8] {
        switch RegularFile.read(path) {
        case let .success(bytes):
            if bytes.isEmpty { throw DataError.emptyFile(path: path) }
            return bytes
        case .failure(.notFound): throw DataError.fileNotFound(path: path)
        case let .failure(.notRegular(isDirectory)):
            throw DataError.unreadableFile(path: path, reason: isDirectory ? "it is a folder" : "not a regular file")
        case let .failure(.unreadable(reason)): throw DataError.unreadableFile(path: path, reason: reason)
        }
    }

    /// Decodes a JPEG or PNG held in memory. With `minimumSize`, JPEGs are DCT-scaled per
    /// `scaling` to the smallest allowed size whose sides are still at least that large.
    ///
    /// - Parameter path: names the source in error messages.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>", minimumSize: (width: Int, height: Int)? = nil,
                              scaling: JPEGScaling = .powerOfTwo,
                              maxPixels: Int = ImageCodec.defaultMaxPixels) throws -> RGBImage {
        try bytes.withUnsafeBytes {
            try decode($0, path: path, minimumSize: minimumSize, scaling: scaling, maxPixels: maxPixels)
        }
    }

    /// Decodes a JPEG or PNG from raw memory (see ``decode(_:path:minimumSize:scaling:maxPixels:)-([UInt8],_,_,_,_)``).
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String = "<memory>",
                              minimumSize: (width: Int, height: Int)? = nil, scaling: JPEGScaling = .powerOfTwo,
                              maxPixels: Int = ImageCodec.defaultMaxPixels) throws -> RGBImage {
        let p = try decodePixels(bytes, path: path, minimumSize: minimumSize, scaling: scaling, maxPixels: maxPixels,
                                 channels: 3)
        return RGBImage(width: p.width, height: p.height, pixels: p.pixels, sourceWidth: p.sourceWidth,
                        sourceHeight: p.sourceHeight)
    }

    /// Decodes to 3 (RGB) or 4 (RGBX, X = 255) bytes per pixel. RGBX lets libtorch's uint8
    /// antialiased resize run without repacking pixels (about a third faster).
    static func decodePixels(_ bytes: UnsafeRawBufferPointer, path: String, minimumSize: (width: Int, height: Int)?,
                             scaling: JPEGScaling, maxPixels: Int, channels: Int) throws -> PixelBuffer {
        guard bytes.count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw DataError.emptyFile(path: path)
        }
        guard let format = ImageFormat.sniff(bytes) else {
            throw DataError.notAnImage(path: path, reason: "neither JPEG nor PNG (the file starts with \(preview(bytes)))")
        }
        var image = hd_image()
        var message = [CChar](repeating: 0, count: 512)
        let status: Int32 = message.withUnsafeMutableBufferPointer { msg in
            switch format {
            case .jpeg:
                hd_jpeg_decode(base, bytes.count, Int32(clamping: minimumSize?.width ?? 0),
                               Int32(clamping: minimumSize?.height ?? 0), scaling.code, Int32(channels),
                               UInt64(max(0, maxPixels)), &image, msg.baseAddress, msg.count)
            case .png:
                hd_png_decode(base, bytes.count, Int32(channels), UInt64(max(0, maxPixels)), &image, msg.baseAddress,
                              msg.count)
            }
        }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard status == Int32(HD_OK), let pixels = image.pixels else {
            switch status {
            case Int32(HD_ERR_TOO_LARGE): throw DataError.imageTooLarge(path: path, reason: text)
            case Int32(HD_ERR_FORMAT): throw DataError.notAnImage(path: path, reason: text)
            default: throw DataError.corruptImage(path: path, reason: "\(format == .jpeg ? "JPEG" : "PNG"): \(text)")
            }
        }
        defer { hd_free(pixels) }
        let w = Int(image.width), h = Int(image.height)
        let copy = [UInt8](UnsafeBufferPointer(start: pixels, count: w * h * channels))
        return PixelBuffer(width: w, height: h, channels: channels, pixels: copy, sourceWidth: Int(image.source_width),
                           sourceHeight: Int(image.source_height))
    }

    /// Reads and decodes an image file (see ``decode(_:path:minimumSize:scaling:maxPixels:)-([UInt8],_,_,_,_)``).
    public static func decodeFile(_ path: String, minimumSize: (width: Int, height: Int)? = nil,
                                  scaling: JPEGScaling = .powerOfTwo,
                                  maxPixels: Int = ImageCodec.defaultMaxPixels) throws -> RGBImage {
        let bytes = try readFile(path)
        return try decode(bytes, path: path, minimumSize: minimumSize, scaling: scaling, maxPixels: maxPixels)
    }

    /// Encodes an image as JPEG with libjpeg-turbo (4:2:0 chroma, `quality` 1…100).
    public static func encodeJPEG(_ image: RGBImage, quality: Int = 90, progressive: Bool = false) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw DataError.invalidArgument("cannot encode an empty \(image.width)x\(image.height) image")
        }
        return try image.pixels.withUnsafeBufferPointer { px in
            try encoded("JPEG") { out, length, msg, msgLength in
                hd_jpeg_encode(px.baseAddress, Int32(image.width), Int32(image.height), Int32(clamping: quality),
                               progressive ? 1 : 0, out, length, msg, msgLength)
            }
        }
    }

    /// Encodes 4-channel CMYK samples (HWC, Adobe convention: inverted ink) as a CMYK JPEG, or
    /// a YCCK JPEG with `ycck` — the layouts print workflows produce; mostly for tests.
    public static func encodeCMYKJPEG(_ samples: [UInt8], width: Int, height: Int, quality: Int = 90,
                                      ycck: Bool = false) throws -> [UInt8] {
        guard width > 0, height > 0, samples.count == width * height * 4 else {
            throw DataError.invalidArgument("CMYK JPEG needs width*height*4 samples, got \(samples.count) for \(width)x\(height)")
        }
        return try samples.withUnsafeBufferPointer { px in
            try encoded("CMYK JPEG") { out, length, msg, msgLength in
                hd_jpeg_encode_cmyk(px.baseAddress, Int32(width), Int32(height), Int32(clamping: quality), ycck ? 1 : 0,
                                    out, length, msg, msgLength)
            }
        }
    }

    /// Encodes an image as an 8-bit RGB PNG with libpng.
    public static func encodePNG(_ image: RGBImage) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw DataError.invalidArgument("cannot encode an empty \(image.width)x\(image.height) image")
        }
        return try image.pixels.withUnsafeBufferPointer { px in
            try encoded("PNG") { out, length, msg, msgLength in
                hd_png_encode(px.baseAddress, Int32(image.width), Int32(image.height), out, length, msg, msgLength)
            }
        }
    }

    /// Runs one C encoder (which allocates its output and writes an error message on
    /// failure) and returns the encoded bytes, freeing the C buffer.
    private static func encoded(
        _ format: String,
        _ call: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>?, Int)
            -> Int32
    ) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { msg in call(&out, &length, msg.baseAddress, msg.count) }
        guard status == Int32(HD_OK), let out else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DataError.invalidArgument("\(format) encoding failed: \(text)")
        }
        defer { hd_free(out) }
        return [UInt8](UnsafeBufferPointer(start: out, count: length))
    }

    /// A short printable preview of the first bytes, for error messages.
    static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        let head = bytes.prefix(8)
        if head.allSatisfy({ (0x20..<0x7F).contains($0) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            let text = String(decoding: head, as: UTF8.self)
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
            return "'\(text)'"
        }
        return head.map { String(format: "%02X", $0) }.joined(separator: " ")
    }
}

/// 64-bit hashes that are stable across runs, platforms and versions (Swift's `Hasher` is
/// seeded per process, so it cannot key caches or splits).
public enum StableHash {
    /// The hash of raw bytes (xxHash64-style; used for file contents).
    public static func bytes(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        hd_hash64(bytes.baseAddress, bytes.count, seed)
    }

    /// The hash of a byte array.
    public static func bytes(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { Self.bytes($0, seed: seed) }
    }

    /// The hash of a string's UTF-8 bytes.
    public static func string(_ text: String, seed: UInt64 = 0) -> UInt64 {
        var copy = text
        return copy.withUTF8 { hd_hash64($0.baseAddress, $0.count, seed) }
    }

    /// A 128-bit hex digest of a string (two seeds), for cache file names.
    public static func hex128(_ text: String) -> String {
        hex(string(text, seed: 0x5EED_0001)) + hex(string(text, seed: 0x5EED_0002))
    }

    static func hex(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
