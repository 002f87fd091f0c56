// hydranet-bench-data: HydraData's decode + resize + normalize throughput against
// torchvision's PIL pipeline, measured in the same run on the same images.
//
//   swift build -c release --product hydranet-bench-data
//   .build/release/hydranet-bench-data [--data FOLDER] [--limit N] [--sizes 32,64] [--batch 64]
//
// FOLDER defaults to ../shared/datasets/utkface (a 200x200 synthetic set is generated when it
// is absent). The PyTorch side runs bench/pil_pipeline.py with the test venv's Python
// (scripts/setup --test). Prints a human table and one JSON line per size.
import Foundation
import HydraData
import Torch

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

struct Options {
    var data: String? = nil
    var limit: Int? = nil
    var sizes = [32, 64]
    var batch = 64
    var python = packageRoot.appendingPathComponent(".venv/bin/python").path
    var skipPython = false
    var repeats = 3
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    func value(_ flag: String) -> String {
        guard !args.isEmpty else { fail("\(flag) needs a value") }
        return args.removeFirst()
    }
    while !args.isEmpty {
        let flag = args.removeFirst()
        switch flag {
        case "--data": o.data = value(flag)
        case "--limit": o.limit = Int(value(flag)) ?? { fail("--limit needs an integer") }()
        case "--sizes": o.sizes = value(flag).split(separator: ",").map { Int($0) ?? { fail("--sizes: bad size") }() }
        case "--batch": o.batch = Int(value(flag)) ?? { fail("--batch needs an integer") }()
        case "--python": o.python = value(flag)
        case "--no-python": o.skipPython = true
        case "--repeat": o.repeats = max(1, Int(value(flag)) ?? { fail("--repeat needs an integer") }())
        case "-h", "--help":
            print("usage: hydranet-bench-data [--data FOLDER] [--limit N] [--sizes 32,64] [--batch 64] "
                + "[--repeat 3] [--python PATH] [--no-python]")
            exit(0)
        default: fail("unknown option \(flag) (see --help)")
        }
    }
    return o
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hydranet-bench-data: \(message)\n".utf8))
    exit(2)
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// CPU seconds used by this process (all threads). Images per CPU-second is throughput per
/// core, and unlike wall time it is not diluted when other processes share the cores.
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

struct Timing {
    var wall: Double
    var cpu: Double
}

func time<R>(_ body: () throws -> R) rethrows -> (R, Double) {
    let start = now()
    let r = try body()
    return (r, now() - start)
}

/// The best of `options.repeats` runs, separately for wall and CPU time (the machine may be
/// shared; the best run is the least disturbed one). Both sides are measured this way.
func best<R>(_ body: () throws -> R) rethrows -> (R, Timing) {
    var result: R? = nil
    var timing = Timing(wall: .infinity, cpu: .infinity)
    for _ in 0..<options.repeats {
        let (w0, c0) = (now(), cpuNow())
        let r = try body()
        let (w, c) = (now() - w0, cpuNow() - c0)
        if w < timing.wall { result = r }
        timing = Timing(wall: min(timing.wall, w), cpu: min(timing.cpu, c))
    }
    return (result!, timing)
}

/// Runs bench/pil_pipeline.py and decodes its JSON answer.
func python(_ o: Options, _ arguments: [String]) throws -> [String: Double] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: o.python)
    p.arguments = [packageRoot.appendingPathComponent("bench/pil_pipeline.py").path] + arguments
    var env = ProcessInfo.processInfo.environment
    env["OMP_NUM_THREADS"] = nil
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0,
          let json = try JSONSerialization.jsonObject(with: data) as? [String: Double] else {
        throw DataError.invalidArgument("python \(arguments.joined(separator: " ")) failed (\(p.terminationStatus))")
    }
    return json
}

func fmt(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }

let options = parseOptions()
let cores = ProcessInfo.processInfo.activeProcessorCount
let work = FileManager.default.temporaryDirectory.appendingPathComponent("hydranet-bench-data-\(getpid())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

var folder = options.data ?? packageRoot.appendingPathComponent("../shared/datasets/utkface").standardizedFileURL.path
var source = "UTKFace"
if options.data == nil && !FileManager.default.fileExists(atPath: folder) {
    folder = work + "/synthetic"
    source = "synthetic (../shared/datasets/utkface absent)"
    FileHandle.standardError.write(Data("generating 4000 synthetic 200x200 faces ...\n".utf8))
    try SyntheticFaces(count: 4000, size: 200, seed: 0).write(to: folder)
}
var dataset = try UTKFace.load(folder: folder)
if let limit = options.limit, limit < dataset.files.count {
    dataset.files = Array(dataset.files.prefix(limit))
}
let n = dataset.files.count
let listFile = work + "/files.txt"
try AtomicFile.write(Data(dataset.files.map(\.path).joined(separator: "\n").utf8), to: listFile)

// Both sides read from the page cache: read every file once first.
let (bytesRead, readTime) = try time { try dataset.files.reduce(0) { $0 + (try ImageCodec.readFile($1.path)).count } }
let averageBytes: Int = bytesRead / max(1, n)
let pilRuns: Int = min(2, options.repeats)
let readSeconds: String = fmt(readTime, 2)
print("HydraNet data benchmark: \(n) \(source) images (\(averageBytes) bytes each on average), \(cores) cores, libtorch \(Torch.version), \(Torch.numThreads) intra-op threads")
print("(files pre-read into the page cache in \(readSeconds) s; PIL runs in one process on one core; best of \(options.repeats) runs for HydraData, of \(pilRuns) for PIL)")

var results: [[String: Any]] = []
for size in options.sizes {
    let transform = ImageTransform(size: size)
    let quiet = DecodeOptions(progress: .never)
    func normalizeAll(_ d: DecodedDataset) {
        var start = 0
        while start < d.count {
            let len = min(256, d.count - start)
            _ = Normalization.imagenet.apply(d.images.narrow(dim: 0, start: start, length: len))
            start += len
        }
    }
    // Warm-up (first-call costs, thread pools), then cold: decode + resize on all cores, then
    // normalize; no cache involved.
    var head = dataset
    head.files = Array(dataset.files.prefix(256))
    normalizeAll(try DecodedCache.decode(head, transform: transform, options: quiet))
    let (cold, coldT) = try best { () throws -> DecodedDataset in
        let d = try DecodedCache.decode(dataset, transform: transform, options: quiet)
        normalizeAll(d)
        return d
    }
    // One core: one decoding thread and one libtorch thread, like one PIL process.
    let torchThreads = Torch.numThreads
    Torch.numThreads = 1
    let (_, singleT) = try best { () throws -> Void in
        normalizeAll(try DecodedCache.decode(dataset, transform: transform, options: DecodeOptions(progress: .never, threads: 1)))
    }
    Torch.numThreads = torchThreads
    let (_, exactT) = try best { () throws -> Void in
        normalizeAll(try DecodedCache.decode(dataset, transform: ImageTransform(size: size, jpegScaling: .none), options: quiet))
    }
    // Cache: build (decode + write), then a warm load.
    let cache = DecodedCache(directory: work + "/cache/\(size)")
    let (_, buildTime) = try time { try cache.load(dataset, transform: transform, options: quiet) }
    let (warm, warmT) = try best { try cache.load(dataset, transform: transform, options: quiet) }
    precondition(warm.cacheStatus.isHit && warm.images.equal(cold.images))

    // Warm epochs: batches from the in-memory dataset (synchronous cost, prefetch off).
    func batchCost(_ aug: Augmentation?) throws -> Double {
        let loader = try DataLoader(warm, options: LoaderOptions(batchSize: options.batch, seed: 1, augmentation: aug,
                                                                 prefetch: false))
        _ = Array(loader.epoch(0).prefix(3))
        let (count, t) = best { loader.epoch(1).reduce(0) { $0 + $1.count } }
        precondition(count == warm.count)
        return t.wall / Double(loader.batchCount)
    }
    let plainBatch = try batchCost(nil)
    let augBatch = try batchCost(.standard)

    // Where one thread's time goes (first 512 images, the cache builder's chunk size).
    let sample = Array(dataset.files.prefix(512))
    let (blobs, readT) = try best { try sample.map { try ImageCodec.readFile($0.path) } }
    let (_, hashT) = best { blobs.map { StableHash.bytes($0) } }
    let (decodedSample, decodeT) = try best { try blobs.map { try transform.decodePixels($0, path: "") } }
    let (resized, resizeT) = best { transform.apply(pixels: decodedSample) }
    let (_, normalizeT) = best { Normalization.imagenet.apply(resized) }
    let perSample = Double(sample.count)
    func us(_ t: Timing) -> String { fmt(t.cpu / perSample * 1e6, 1) }
    func rate(_ t: Double) -> Double { Double(n) / t }
    let coldWall: String = fmt(rate(coldT.wall)), coldCPU: String = fmt(rate(coldT.cpu))
    let singleWall: String = fmt(rate(singleT.wall)), exactWall: String = fmt(rate(exactT.wall))
    let decodedSize: String = "\(decodedSample[0].width)x\(decodedSample[0].height)"
    let build: String = fmt(buildTime, 2), warmLoad: String = fmt(warmT.wall, 3)
    let plainMs: String = fmt(plainBatch * 1e3, 2), augMs: String = fmt(augBatch * 1e3, 2)
    var out = "\nsize \(size)x\(size)\n"
    out += "  HydraData cold (decode + resize + normalize, no cache): \(coldWall) img/s on \(cores) cores, \(coldCPU) img per CPU-second\n"
    out += "    1 core (1 decoding thread, 1 libtorch thread): \(singleWall) img/s; full-size decode (no DCT scaling), \(cores) cores: \(exactWall) img/s\n"
    out += "    CPU µs per image (1 thread, libtorch on \(cores)): read \(us(readT)), hash \(us(hashT)), decode \(us(decodeT)) (to \(decodedSize)), resize \(us(resizeT)), normalize \(us(normalizeT))\n"
    out += "  cache: build \(build) s (decode + write), warm load \(warmLoad) s\n"
    out += "  warm batch of \(options.batch): \(plainMs) ms; with flip + pad-crop + jitter \(augMs) ms\n"
    var record: [String: Any] = [
        "size": size, "images": n, "cores": cores, "cold_images_per_s": rate(coldT.wall),
        "cold_images_per_cpu_s": rate(coldT.cpu), "cold_images_per_s_1_thread": rate(singleT.wall),
        "cold_exact_images_per_s": rate(exactT.wall), "cache_build_s": buildTime, "warm_load_s": warmT.wall,
        "warm_batch_ms": plainBatch * 1e3, "warm_batch_augmented_ms": augBatch * 1e3, "batch": options.batch,
    ]
    if !options.skipPython {
        var pilWall = 0.0, pilCPU = 0.0
        for _ in 0..<min(2, options.repeats) {
            let pil = try python(options, ["pil", listFile, String(size)])
            pilWall = max(pilWall, pil["images"]! / pil["seconds"]!)
            pilCPU = max(pilCPU, pil["images"]! / pil["cpu_seconds"]!)
        }
        // Paired single-core rounds: HydraData on one core, then PIL on one core, on the same
        // images, back to back; the median of the per-round ratios is robust to other load.
        var pairRatios: [Double] = []
        var pairSet = dataset
        pairSet.files = Array(dataset.files.prefix(4000))
        let pairList = work + "/pair-files.txt"
        try AtomicFile.write(Data(pairSet.files.map(\.path).joined(separator: "\n").utf8), to: pairList)
        for _ in 0..<5 {
            Torch.numThreads = 1
            let (_, ours) = try time { () throws -> Void in
                normalizeAll(try DecodedCache.decode(pairSet, transform: transform, options: DecodeOptions(progress: .never, threads: 1)))
            }
            Torch.numThreads = torchThreads
            let pil = try python(options, ["pil", pairList, String(size)])
            pairRatios.append((Double(pairSet.count) / ours) / (pil["images"]! / pil["seconds"]!))
        }
        pairRatios.sort()
        let pairedRatio: Double = pairRatios[pairRatios.count / 2]
        let step = try python(options, ["step", String(size), String(options.batch), String(cores)])["seconds_per_step"]!
        let perCore: Double = rate(coldT.cpu) / pilCPU
        let pilWallText: String = fmt(pilWall), pilCPUText: String = fmt(pilCPU), perCoreText: String = fmt(perCore, 1)
        let oneThread: String = fmt(rate(singleT.wall) / pilWall, 1), allCores: String = fmt(rate(coldT.wall) / pilWall, 1)
        let stepMs: String = fmt(step * 1e3, 1)
        let plainShare: String = fmt(100 * plainBatch / step, 2), augShare: String = fmt(100 * augBatch / step, 2)
        out += "  torchvision PIL pipeline (1 process): \(pilWallText) img/s, \(pilCPUText) img per CPU-second\n"
        let pairedText: String = fmt(pairedRatio, 1)
        let pairRange: String = "\(fmt(pairRatios.first!, 1))–\(fmt(pairRatios.last!, 1))"
        out += "  => per core, paired rounds (1 core each, back to back, \(pairSet.count) images, median of 5): \(pairedText)x PIL (range \(pairRange); goal ≥ 5x)\n"
        out += "     best runs: img per CPU-second \(perCoreText)x; wall 1 core vs 1 PIL process \(oneThread)x, \(cores) cores vs 1 PIL process \(allCores)x\n"
        out += "  => PyTorch ResNet-18 training step (batch \(options.batch), \(cores) threads): \(stepMs) ms; warm data cost \(plainShare)% of a step, \(augShare)% with augmentation (goal ≤ 5%)"
        record["pil_images_per_s"] = pilWall
        record["pil_images_per_cpu_s"] = pilCPU
        record["per_core_ratio_cpu_seconds"] = perCore
        record["per_core_ratio_paired_median"] = pairedRatio
        record["per_core_ratio_paired_all"] = pairRatios
        record["step_ms"] = step * 1e3
        record["warm_data_fraction_of_step"] = plainBatch / step
        record["warm_augmented_data_fraction_of_step"] = augBatch / step
    }
    print(out)
    results.append(record)
}
for r in results {
    let data = try JSONSerialization.data(withJSONObject: r, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
