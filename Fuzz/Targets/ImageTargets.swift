import HydraData

extension FuzzTarget {
    /// The JPEG decoder (libjpeg-turbo behind CImageCodec): a full-size RGB decode, then the
    /// decoded cache's path (DCT-scaled RGBX decode and the antialiased resize) with two
    /// scaling rules. Inputs that are not JPEG are left to the `png` target.
    static let jpeg = FuzzTarget(name: "jpeg") { bytes in
        guard ImageFormat.sniff(bytes) == .jpeg else { return }
        decodeAll(Array(bytes), transforms: [
            ImageTransform(size: 3, jpegScaling: .powerOfTwo, maxPixels: maxPixels),
            ImageTransform(height: 5, width: 2, resizeMode: .shorterSideThenCenterCrop, jpegScaling: .anyEighth,
                           maxPixels: maxPixels),
        ])
    }

    /// The PNG decoder (libpng behind CImageCodec): a full-size RGB decode, then the decoded
    /// cache's RGBX decode and resize; each input as it is and with its chunk CRCs repaired
    /// (see ``ChecksumRepair``). Inputs that are not PNG are left to the `jpeg` target.
    static let png = FuzzTarget(name: "png") { bytes in
        guard ImageFormat.sniff(bytes) == .png else { return }
        let transforms = [ImageTransform(size: 3, maxPixels: maxPixels)]
        decodeAll(Array(bytes), transforms: transforms)
        if let repaired = ChecksumRepair.png(bytes) { decodeAll(repaired, transforms: transforms) }
    }
}

/// Keeps each input fast: larger images are refused before decoding, as a caller's limit would.
private let maxPixels = 1 << 20

private func decodeAll(_ bytes: [UInt8], transforms: [ImageTransform]) {
    if let image = try? ImageCodec.decode(bytes, path: "fuzz", scaling: .none, maxPixels: maxPixels) {
        invariant(image.pixels.count == image.width * image.height * 3, "RGB buffer size")
        invariant(image.width * image.height <= maxPixels, "\(image.width)x\(image.height) passed the pixel limit")
    }
    for transform in transforms {
        guard let pixels = try? transform.decodePixels(bytes, path: "fuzz") else { continue }
        invariant(pixels.pixels.count == pixels.width * pixels.height * pixels.channels, "pixel buffer size")
        let batch = transform.apply(pixels: [pixels])
        invariant(batch.shape == [1, 3, transform.height, transform.width], "resized shape \(batch.shape)")
    }
}
