import Foundation
import HydraData
import Testing
import Torch

/// Decoding and resizing against PIL + torchvision (reference values from
/// `Tests/Fixtures/image_formats.py` and `utkface_resize.py`).
@Suite("decode and resize parity with PIL/torchvision")
struct ParityTests {
    static let formatCases = [
        "jpeg_rgb", "jpeg_444", "jpeg_gray", "jpeg_cmyk", "jpeg_progressive", "jpeg_small", "png_rgb", "png_gray",
        "png_palette", "png_palette_trns", "png_rgba", "png_gray_alpha", "png_rgb16", "png_gray16", "png_interlaced",
    ]

    /// The sizes the fixture resized `name` to: 32 always, 64 when the image is at least that
    /// large (the fixture's rule, checked here so that a missing reference fails).
    static func sizes(_ name: String, _ ref: [String: Tensor]) throws -> [Int] {
        let decoded = try #require(ref["decoded.\(name)"], "\(name): no decoded reference")
        let fits64 = min(decoded.size(1), decoded.size(2)) >= 64
        #expect((ref["r64.\(name)"] != nil) == fits64, "\(name): the 64-pixel reference is \(fits64 ? "missing" : "unexpected")")
        return fits64 ? [32, 64] : [32]
    }

    @Test("every format decodes exactly as PIL's convert('RGB')", arguments: formatCases)
    func decodeMatchesPIL(_ name: String) throws {
        let ref = try PythonReference.fixture("image_formats")
        let file = bytes(of: ref["file.\(name)"]!)
        let image = try ImageCodec.decode(file, path: name, scaling: .none)
        let expected = ref["decoded.\(name)"]!
        #expect(image.tensor().equal(expected), "\(name): \(differences(image.tensor(), expected))")
    }

    @Test("full decode + resize is exact with torchvision (32, 64, shorter side + centre crop)", arguments: formatCases)
    func exactResize(_ name: String) throws {
        let ref = try PythonReference.fixture("image_formats")
        let file = bytes(of: ref["file.\(name)"]!)
        for size in try Self.sizes(name, ref) {
            let expected = try #require(ref["r\(size).\(name)"])
            let t = ImageTransform(size: size, jpegScaling: .none)
            let got = t.apply(try t.decode(file, path: name))
            #expect(got.equal(expected), "\(name) at \(size): \(differences(got, expected))")
        }
        let crop = ImageTransform(size: 32, resizeMode: .shorterSideThenCenterCrop, jpegScaling: .none)
        let got = crop.apply(try crop.decode(file, path: name))
        let expected = try #require(ref["crop32.\(name)"])
        #expect(got.equal(expected), "\(name) crop: \(differences(got, expected))")
    }

    @Test("DCT-scaled decode + resize stays within mean 1 / max 3 on generated images", arguments: formatCases)
    func scaledResize(_ name: String) throws {
        let ref = try PythonReference.fixture("image_formats")
        let file = bytes(of: ref["file.\(name)"]!)
        for size in try Self.sizes(name, ref) {
            let expected = try #require(ref["r\(size).\(name)"])
            let t = ImageTransform(size: size)  // default: DCT scaling to the smallest power-of-two scale ≥ size
            let got = t.apply(try t.decode(file, path: name))
            let d = differences(got, expected)
            #expect(d.mean <= 1, "\(name) at \(size): mean \(d.mean), max \(d.max)")
            #expect(d.max <= 3 || name.hasPrefix("jpeg"), "\(name) at \(size): max \(d.max)")
        }
    }

    @Test("the decoded cache's RGBX fast path equals the RGB path for every format, size and mode")
    func cachePathEqualsRGBPath() throws {
        let ref = try PythonReference.fixture("image_formats")
        let folder = temporaryFolder()
        for (i, name) in Self.formatCases.enumerated() {
            let ext = name.hasPrefix("png") ? "png" : "jpg"
            try write(bytes(of: ref["file.\(name)"]!), to: "\(folder)/\(20 + i)_0_0_20170101000000\(100 + i).\(ext)")
        }
        let ds = try UTKFace.load(folder: folder)
        #expect(ds.count == Self.formatCases.count)
        for t in [ImageTransform(size: 32), ImageTransform(size: 64), ImageTransform(size: 20, jpegScaling: .anyEighth),
                  ImageTransform(height: 24, width: 40, resizeMode: .shorterSideThenCenterCrop, jpegScaling: .none)] {
            let cached = try DecodedCache.decode(ds, transform: t, options: DecodeOptions(progress: .never, chunkSize: 5))
            #expect(cached.skipped.isEmpty)
            let direct = t.apply(try ds.files.map { try t.decode(file: $0.path) })
            #expect(cached.images.equal(direct), "\(t): \(differences(cached.images, direct))")
        }
    }

    @Test("YCCK and CMYK JPEGs (encoded by libjpeg) decode as PIL decodes them")
    func ycck() throws {
        let w = 40, h = 24
        var samples = [UInt8]()
        for y in 0..<h {
            for x in 0..<w {
                samples += [UInt8(x * 6), UInt8(y * 10), UInt8((x + y) * 4), UInt8(255 - x * 3)]
            }
        }
        let folder = temporaryFolder()
        for (name, ycck) in [("ycck", true), ("cmyk", false)] {
            let path = "\(folder)/\(name).jpg"
            try write(try ImageCodec.encodeCMYKJPEG(samples, width: w, height: h, quality: 95, ycck: ycck), to: path)
            let ours = try ImageCodec.decodeFile(path, scaling: .none)
            let theirs = try PythonReference.runCode("""
                import sys
                from PIL import Image
                im = Image.open(sys.argv[1])
                print(im.mode, ",".join(str(v) for v in im.convert("RGB").tobytes()))
                """, arguments: [path]).trimmingCharacters(in: .whitespacesAndNewlines)
            let parts = theirs.split(separator: " ")
            #expect(parts.first == "CMYK", "\(name): PIL mode \(parts.first ?? "")")
            #expect(ours.pixels == parts[1].split(separator: ",").map { UInt8($0)! }, "\(name)")
            let x = ours.pixels
            #expect(Set(x).count > 20, "\(name) decoded to a flat image")
        }
    }

    @Test("DCT scaling picks the smallest allowed scale that keeps the target size")
    func dctScaleChoice() throws {
        let ref = try PythonReference.fixture("image_formats")
        let file = bytes(of: ref["file.jpeg_rgb"]!)  // 160x120
        func decoded(_ w: Int, _ h: Int, _ s: JPEGScaling) throws -> (Int, Int) {
            let im = try ImageCodec.decode(file, minimumSize: (w, h), scaling: s)
            #expect(im.sourceWidth == 160 && im.sourceHeight == 120)
            return (im.width, im.height)
        }
        #expect(try decoded(32, 32, .powerOfTwo) == (80, 60))   // 1/4 would give 40x30 (30 < 32)
        #expect(try decoded(20, 15, .powerOfTwo) == (20, 15))   // exactly 1/8
        #expect(try decoded(32, 32, .anyEighth) == (60, 45))    // 3/8
        #expect(try decoded(64, 64, .anyEighth) == (100, 75))   // 5/8
        #expect(try decoded(32, 32, .none) == (160, 120))
        #expect(try decoded(500, 500, .powerOfTwo) == (160, 120))  // never upscales
    }

    @Test("ToTensor + Normalize matches torchvision")
    func normalization() throws {
        let ref = try PythonReference.fixture("image_formats")
        let x = Normalization.imagenet.apply(ref["r32.jpeg_rgb"]!.unsqueezed(0)).squeezed(0)
        expectClose(x, ref["normalized"]!, rtol: 1e-6, atol: 1e-6, "normalized")
    }

    @Test("real UTKFace files: decode → resize(32, 64) matches torchvision on PIL's decode",
          .enabled(if: hasUTKFace, utkfaceMissing))
    func realUTKFace() throws {
        let ref = try PythonReference.fixture("utkface_resize")
        let names = String(decoding: bytes(of: ref["files"]!), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(names.count == 48)
        for size in [32, 64] {
            let expected = ref["r\(size)"]!
            for scaling in [JPEGScaling.none, .powerOfTwo] {
                let t = ImageTransform(size: size, jpegScaling: scaling)
                let images = try names.map { try t.decode(file: utkfaceFolder + "/" + $0) }
                let got = t.apply(images)
                let d = differences(got, expected)
                let perImage = (got.to(dtype: .float64) - expected.to(dtype: .float64)).abs().mean(dims: [1, 2, 3])
                let worstImage = perImage.max().item()
                #expect(d.mean <= 1, "\(scaling) at \(size): mean \(d.mean)")
                #expect(worstImage <= 3, "\(scaling) at \(size): worst per-image mean \(worstImage)")
                if scaling == .none {
                    // Full-size decode is bit-identical to PIL's, so only resize rounding remains.
                    #expect(d.max <= 3, "full decode at \(size): max \(d.max)")
                }
                print("UTKFace parity, \(scaling) DCT scaling, \(size)x\(size): mean |diff| \(d.mean), "
                    + "worst image mean \(worstImage), max \(d.max)")
            }
        }
    }
}
