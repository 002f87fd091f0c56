import Foundation
import Torch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options for decoding a dataset into memory.
public struct DecodeOptions: Sendable {
    /// Stop at the first file that cannot be decoded (otherwise such files are skipped and
    /// listed in `DecodedDataset.skipped`).
    public var strict: Bool
    /// Progress bar on standard error.
    public var progress: ProgressMode
    /// Decoding threads; 0 means one per core.
    public var threads: Int
    /// Images decoded (then resized together) per step.
    public var chunkSize: Int

    public init(strict: Bool = false, progress: ProgressMode = .auto, threads: Int = 0, chunkSize: Int = 512) {
        self.strict = strict
        self.progress = progress
        self.threads = threads
        self.chunkSize = chunkSize
    }

    var threadCount: Int { threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// The decoded cache: a dataset decoded and resized once into one uint8 N×3×H×W tensor plus
/// label and mask tensors, stored as a safetensors file and reused while nothing changes.
///
/// The cache key covers the file list, each file's size and modification time, the labels,
/// the tasks and the transform; touching, replacing, adding or removing a file, or changing
/// the size or scaling, rebuilds it. Files are written crash-safely (``AtomicFile``), and
/// older caches of the same dataset and size are removed. A cache file that cannot be read
/// is rebuilt, never trusted.
public struct DecodedCache: Sendable {
    public static let formatVersion = "hydradata-decoded-cache-v1"

    /// The folder holding cache files.
    public var directory: String

    /// `$HYDRANET_CACHE`, else `$XDG_CACHE_HOME/hydranet`, else `~/.cache/hydranet`.
    public static var defaultDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["HYDRANET_CACHE"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("hydranet") }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/hydranet")
    }

    public init(directory: String = DecodedCache.defaultDirectory) {
        self.directory = directory
    }

    /// The key of `dataset` under `transform`: a 128-bit hex digest of everything that
    /// determines the decoded tensors.
    public static func key(for dataset: FileDataset, transform: ImageTransform) -> String {
        var text = "\(formatVersion)\n\(transform.cacheKey)\n"
        text += String(decoding: (try? JSONEncoder.sorted.encode(dataset.tasks)) ?? Data(), as: UTF8.self) + "\n"
        for file in dataset.files {
            var st = stat()
            let stamp: String
            if stat(file.path, &st) == 0 {
                #if canImport(Darwin)
                let mtime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
                #else
                let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
                #endif
                stamp = "\(st.st_size)\t\(mtime)"
            } else {
                stamp = "missing"
            }
            let labels = file.labels.map { $0.map { String($0) } ?? "-" }.joined(separator: ",")
            text += "\(file.name)\t\(file.path)\t\(stamp)\t\(labels)\n"
        }
        return StableHash.hex128(text)
    }

    /// The cache file for `dataset` under `transform` with `key`.
    public func path(for dataset: FileDataset, transform: ImageTransform, key: String) -> String {
        (directory as NSString).appendingPathComponent(prefix(dataset, transform) + key + ".safetensors")
    }

    private func prefix(_ dataset: FileDataset, _ transform: ImageTransform) -> String {
        let safe = String(dataset.name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let root = StableHash.hex(StableHash.string(dataset.root)).prefix(8)
        return "\(safe)-\(root)-\(transform.height)x\(transform.width)-"
    }

    /// The dataset decoded under `transform`: from the cache if its key matches, otherwise
    /// decoded now (in parallel, with a progress bar) and written to the cache.
    public func load(_ dataset: FileDataset, transform: ImageTransform, options: DecodeOptions = DecodeOptions()) throws
        -> DecodedDataset {
        try transform.validate()
        let key = DecodedCache.key(for: dataset, transform: transform)
        let file = path(for: dataset, transform: transform, key: key)
        var reason = "no cache file"
        if FileManager.default.fileExists(atPath: file) {
            var cached: DecodedDataset?
            do {
                cached = try DecodedCache.read(file, key: key, transform: transform)
            } catch {
                reason = "cache file unusable: \(error)"
            }
            if let cached {
                // A cache built without `strict` may have skipped files; a strict load must
                // fail on them exactly as decoding them now would.
                guard options.strict, !cached.skipped.isEmpty else { return cached }
                try DecodedCache.throwFirstFailure(dataset, skipped: cached.skipped, transform: transform)
                reason = "the cache skipped files that now decode"
            }
        } else if let stale = siblings(dataset, transform).first {
            reason = "files, labels or transform changed since \((stale as NSString).lastPathComponent)"
        }
        let decoded = try DecodedCache.decode(dataset, transform: transform, options: options)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.cache(path: directory, message: "cannot create the cache folder: \(error.localizedDescription)")
        }
        try DecodedCache.write(decoded, key: key, to: file)
        for old in siblings(dataset, transform) where old != file {
            try? FileManager.default.removeItem(atPath: old)
        }
        return try DecodedDataset(name: decoded.name, tasks: decoded.tasks, transform: transform, images: decoded.images,
                                  labels: decoded.labels, masks: decoded.masks, names: decoded.names,
                                  contentHashes: decoded.contentHashes, skipped: decoded.skipped, cacheFile: file,
                                  cacheStatus: .built(reason: reason))
    }

    /// Cache files of the same dataset and size (any key).
    private func siblings(_ dataset: FileDataset, _ transform: ImageTransform) -> [String] {
        let p = prefix(dataset, transform)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { $0.hasPrefix(p) && $0.hasSuffix(".safetensors") }
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    // MARK: - Decoding

    /// Decodes and resizes every file of `dataset` (no cache involved), on `options.threads`
    /// threads. Files that fail are skipped (or, with `strict`, the first failure is thrown).
    public static func decode(_ dataset: FileDataset, transform: ImageTransform,
                              options: DecodeOptions = DecodeOptions()) throws -> DecodedDataset {
        try transform.validate()
        let files = dataset.files
        let progress = ProgressBar("decoding \(dataset.name)", total: files.count, mode: options.progress)
        let chunkSize = max(1, options.chunkSize)
        var chunks: [Tensor] = []
        var kept: [Int] = []
        var hashes: [UInt64] = []
        var skipped: [SkippedFile] = []
        let workers = min(options.threadCount, max(1, files.count))

        var start = 0
        while start < files.count {
            let end = min(files.count, start + chunkSize)
            let first = start
            let slots = DecodeSlots(count: end - start)
            let next = LockedBox(start)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i: Int = next.withLock { value in
                        defer { value += 1 }
                        return value
                    }
                    if i >= end { break }
                    slots.set(i - first, decodeOne(files[i], transform: transform))
                    progress.advance()
                }
            }
            var images: [PixelBuffer] = []
            for j in 0..<(end - start) {
                switch slots.get(j) {
                case let .success(image, hash):
                    images.append(image)
                    kept.append(start + j)
                    hashes.append(hash)
                case let .failure(error):
                    if options.strict {
                        progress.finish()
                        throw error
                    }
                    skipped.append(SkippedFile(name: files[start + j].name, reason: skipReason(error), detail: "\(error)"))
                case .none:
                    break
                }
            }
            if !images.isEmpty { chunks.append(transform.apply(pixels: images)) }
            start = end
        }
        progress.finish()
        guard !kept.isEmpty else {
            let report = DatasetReport(name: dataset.name, root: dataset.root, tasks: dataset.tasks, files: [], skipped: skipped)
            throw DataError.noUsableImages(path: dataset.root, summary: report.description)
        }
        let images = chunks.count == 1 ? chunks[0] : Tensor.cat(chunks, dim: 0)
        var labels: [Tensor] = [], masks: [Tensor] = []
        for (t, task) in dataset.tasks.enumerated() {
            let values = kept.map { i -> Double? in t < files[i].labels.count ? files[i].labels[t] : nil }
            masks.append(Tensor(values.map { $0 != nil }))
            switch task.kind {
            case .classification: labels.append(Tensor(values.map { Int64($0 ?? 0) }))
            case let .multilabel(k):
                // One 0/1 row of k per sample, from the encoded label set.
                var rows = [Float](repeating: 0, count: values.count * k)
                for (row, value) in values.enumerated() {
                    for label in TaskKind.decodeLabelSet(value ?? 0) where label < k { rows[row * k + label] = 1 }
                }
                labels.append(Tensor(rows, shape: [values.count, k]))
            case .regression, .binary: labels.append(Tensor(values.map { Float($0 ?? 0) }))
            }
        }
        return try DecodedDataset(name: dataset.name, tasks: dataset.tasks, transform: transform, images: images,
                                  labels: labels, masks: masks, names: kept.map { files[$0].name },
                                  contentHashes: hashes, skipped: skipped, cacheFile: nil,
                                  cacheStatus: .built(reason: "decoded without a cache"))
    }

    /// Throws the error the first of `skipped` (in dataset order) gives when decoded now:
    /// what a strict decode would throw. Returns if none of them fails any more.
    static func throwFirstFailure(_ dataset: FileDataset, skipped: [SkippedFile], transform: ImageTransform) throws {
        let names = Set(skipped.map(\.name))
        for file in dataset.files where names.contains(file.name) {
            if case let .failure(error) = decodeOne(file, transform: transform) { throw error }
        }
    }

    enum DecodeResult {
        case success(PixelBuffer, UInt64)
        case failure(DataError)
    }

    static func decodeOne(_ file: LabeledFile, transform: ImageTransform) -> DecodeResult {
        do {
            let bytes = try ImageCodec.readFile(file.path)
            let hash = StableHash.bytes(bytes)
            return .success(try transform.decodePixels(bytes, path: file.path), hash)
        } catch let error as DataError {
            return .failure(error)
        } catch {
            return .failure(.unreadableFile(path: file.path, reason: "\(error)"))
        }
    }

    static func skipReason(_ error: DataError) -> SkipReason {
        switch error {
        case .fileNotFound, .unreadableFile, .emptyFile: .unreadableFile
        default: .corruptImage
        }
    }

    /// Result slots written by worker threads (each slot by exactly one worker).
    final class DecodeSlots: @unchecked Sendable {
        private let buffer: UnsafeMutableBufferPointer<DecodeResult?>
        init(count: Int) {
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: nil)
        }
        deinit {
            buffer.deinitialize()
            buffer.deallocate()
        }
        func set(_ i: Int, _ value: DecodeResult) { buffer[i] = value }
        func get(_ i: Int) -> DecodeResult? { buffer[i] }
    }

    // MARK: - File format

    static func write(_ d: DecodedDataset, key: String, to path: String) throws {
        var tensors: [(String, Tensor)] = [("images", d.images)]
        for (t, task) in d.tasks.enumerated() {
            tensors.append(("labels.\(task.name)", d.labels[t]))
            tensors.append(("masks.\(task.name)", d.masks[t]))
        }
        tensors.append(("content_hashes", Tensor(d.contentHashes.map { Int64(bitPattern: $0) })))
        let encoder = JSONEncoder.sorted
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let metadata: [String: String] = [
            "format": formatVersion,
            "key": key,
            "dataset": d.name,
            "transform": try json(d.transform),
            "tasks": try json(d.tasks),
            "names": try json(d.names),
            "skipped": try json(d.skipped),
        ]
        // Temporary files of writes killed midway (by any process) go first.
        AtomicFile.removeStaleTemporaries(in: (path as NSString).deletingLastPathComponent)
        do {
            try SafeTensors.save(ordered: tensors, metadata: metadata, to: path)
        } catch {
            throw DataError.cache(path: path, message: "cannot write: \(error)")
        }
    }

    /// Reads a cache file, checking its format, key and contents.
    static func read(_ path: String, key: String, transform: ImageTransform) throws -> DecodedDataset {
        let archive: SafeTensorsArchive
        do {
            archive = try SafeTensors.read(path)
        } catch {
            throw DataError.cache(path: path, message: "\(error)")
        }
        let meta = archive.metadata
        guard meta["format"] == formatVersion else {
            throw DataError.cache(path: path, message: "format '\(meta["format"] ?? "none")', expected '\(formatVersion)'")
        }
        guard meta["key"] == key else { throw DataError.cache(path: path, message: "key mismatch") }
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_ type: T.Type, _ field: String) throws -> T {
            guard let text = meta[field], let value = try? decoder.decode(T.self, from: Data(text.utf8)) else {
                throw DataError.cache(path: path, message: "metadata '\(field)' is missing or malformed")
            }
            return value
        }
        let tasks = try decode([TaskSpec].self, "tasks")
        let names = try decode([String].self, "names")
        let skipped = try decode([SkippedFile].self, "skipped")
        let stored = try decode(ImageTransform.self, "transform")
        guard stored == transform else { throw DataError.cache(path: path, message: "transform mismatch") }
        func tensor(_ name: String) throws -> Tensor {
            guard let t = archive.tensors[name] else { throw DataError.cache(path: path, message: "no tensor '\(name)'") }
            return t
        }
        let images = try tensor("images")
        guard images.rank == 4, images.size(2) == transform.height, images.size(3) == transform.width else {
            throw DataError.cache(path: path, message: "images have shape \(images.shape)")
        }
        let hashes = try tensor("content_hashes").scalars(as: Int64.self).map { UInt64(bitPattern: $0) }
        do {
            return try DecodedDataset(name: meta["dataset"] ?? "", tasks: tasks, transform: transform, images: images,
                                      labels: try tasks.map { try tensor("labels.\($0.name)") },
                                      masks: try tasks.map { try tensor("masks.\($0.name)") }, names: names,
                                      contentHashes: hashes, skipped: skipped, cacheFile: path, cacheStatus: .hit)
        } catch let error as DataError {
            throw DataError.cache(path: path, message: "inconsistent contents: \(error)")
        }
    }
}
