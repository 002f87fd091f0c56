import Foundation
import HydraData
import Torch

/// The one inference path of HydraNet (`hydranet predict`, `evaluate`'s per-image outputs and
/// the server): a model rebuilt from its checkpoint, and the checkpoint's own preprocessing
/// (decode, resize, normalize), so a file gives the same numbers wherever it is scored.
public final class Predictor: @unchecked Sendable {
    /// The model in eval mode on ``device``: with ``isFused``, an inference-only copy with
    /// its BatchNorms folded into its convolutions (``HydraNetModel/fusedCopy(spec:device:)``).
    public let model: HydraNetModel
    /// The checkpoint's description.
    public let spec: ModelSpec
    /// The preprocessing (from the checkpoint).
    public let input: ModelSpec.InputSpec
    public let device: Device
    /// Whether ``model`` has its BatchNorms folded into its convolutions.
    public let isFused: Bool
    /// The forward's arithmetic (``Precision/bf16``: bfloat16 autocast).
    public var precision: Precision = .fp32
    /// Flip test-time augmentation (``HydraNetModel/testTimeFlip``): the checkpoint's
    /// setting unless changed here.
    public var testTimeFlip: Bool {
        get { model.testTimeFlip }
        set { model.testTimeFlip = newValue }
    }
    /// Whether the model's convolution weights and every input are laid out channels-last
    /// (NHWC). On by default where ``prefersChannelsLast(fused:device:)`` says so: a fused
    /// model (the predictor's own copy) on the CPU.
    public private(set) var channelsLast = false

    /// Lays out the model's convolution weights and every input channels-last.
    public func useChannelsLast() throws { try setChannelsLast(true) }

    /// Lays out the model's convolution weights and every input channels-last (`true`) or
    /// contiguously, NCHW (`false`). The answers are the same up to rounding.
    public func setChannelsLast(_ enabled: Bool) throws {
        if enabled { try model.convertToChannelsLast() } else { try model.convertToContiguous() }
        channelsLast = enabled
    }

    /// Whether a predictor lays out its model channels-last by default: only a model it owns
    /// (a fused one: it never changes the caller's model), and only on the CPU, where
    /// oneDNN's NHWC convolutions are the faster path for inference (ResNet-18 HydraNet,
    /// 2 threads: 1.45× the images/s of NCHW at batch 256, 64 px, and a lower batch-1 latency;
    /// README, *Speed against PyTorch eager*). On CUDA the layout stays NCHW.
    public static func prefersChannelsLast(fused: Bool, device: Device) -> Bool {
        fused && device == .cpu
    }

    /// Loads `checkpoint` (``Checkpoint/loadModel(_:device:)``). A checkpoint without a
    /// recorded input is refused: its images could not be preprocessed as in training.
    /// With `fused` (the default), the loaded model, which the predictor owns, has its
    /// BatchNorms folded in place and, on the CPU, is laid out channels-last
    /// (``prefersChannelsLast(fused:device:)``).
    public convenience init(checkpoint path: String, device: Device = .cpu, fused: Bool = true) throws {
        let (model, spec) = try Checkpoint.loadModel(path, device: device)
        try Predictor.validate(spec, path: path)
        if fused {
            BatchNormFolding.foldInPlace(model)
            model.freeze()
        }
        try self.init(model: model, spec: spec, device: device, isFused: fused)
    }

    /// A predictor for a model already in memory, described by `spec`. With `fused` (the
    /// default), the predictor scores with a fused copy (``HydraNetModel/fusedCopy(spec:device:)``)
    /// and `model` is left as it is; a model `spec` cannot rebuild (a custom backbone) is used
    /// unfused (``isFused`` says which). Without `fused`, `model` is used and put in eval mode,
    /// its layout left as it is.
    public convenience init(model: HydraNetModel, spec: ModelSpec, device: Device = .cpu, path: String = "the model",
                            fused: Bool = true) throws {
        try Predictor.validate(spec, path: path)
        if fused, let copy = try? model.fusedCopy(spec: spec, device: device) {
            try self.init(model: copy, spec: spec, device: device, isFused: true)
        } else {
            model.eval()
            try self.init(model: model, spec: spec, device: device, isFused: false)
        }
    }

    /// Checks that `spec` records the input preprocessing.
    private static func validate(_ spec: ModelSpec, path: String) throws {
        guard spec.input != nil else {
            throw HydraError.checkpoint("\(path) does not record its input preprocessing (size, normalization): "
                + "it cannot score image files")
        }
    }

    private init(model: HydraNetModel, spec: ModelSpec, device: Device, isFused: Bool) throws {
        self.model = model
        self.spec = spec
        self.input = spec.input!
        self.device = device
        self.isFused = isFused
        model.eval()
        if Self.prefersChannelsLast(fused: isFused, device: device) { try setChannelsLast(true) }
    }

    /// Decodes and resizes image bytes (JPEG or PNG) to the model's input: uint8 3×H×W.
    /// `name` labels errors. `maxPixels` lowers the checkpoint's decoded-pixel limit (a
    /// server's guard against huge images; checked from the header, before decoding).
    public func preprocess(_ bytes: [UInt8], name: String, maxPixels: Int? = nil) throws -> Tensor {
        guard !bytes.isEmpty else { throw DataError.emptyFile(path: name) }
        var transform = input.transform
        if let maxPixels { transform.maxPixels = min(transform.maxPixels, max(1, maxPixels)) }
        return transform.apply(pixels: [try transform.decodePixels(bytes, path: name)]).squeezed(0)
    }

    /// Reads, decodes and resizes an image file: uint8 3×H×W.
    public func preprocess(file path: String) throws -> Tensor {
        try preprocess(try ImageCodec.readFile(path), name: path)
    }

    /// Predictions for preprocessed uint8 N×3×H×W images (or 3×H×W for one), in user units.
    public func predict(images: Tensor) -> [[String: HydraNetModel.Prediction]] {
        // Inference mode: the tensors made here never leave (the predictions are Swift values).
        withInferenceMode {
            let batch = images.rank == 3 ? images.unsqueezed(0) : images
            let normalized = input.normalization.apply(batch.to(device: device))
            let x = channelsLast ? normalized.channelsLast() : normalized
            return withPrecision(precision, device: device) { model.predict(x) }
        }
    }

    /// One input's outcome: its predictions, or why it could not be scored.
    public struct Outcome: Sendable {
        /// The name the input was given (a path, or `-` for standard input).
        public var name: String
        public var predictions: [String: HydraNetModel.Prediction]?
        public var error: String?

        public init(name: String, predictions: [String: HydraNetModel.Prediction]?, error: String? = nil) {
            self.name = name
            self.predictions = predictions
            self.error = error
        }
    }

    /// Scores named image byte buffers in batches of `batchSize`, decoding each batch on
    /// `threads` threads (0: one per core). An input that cannot be decoded gets its error;
    /// the others are scored. Results are in input order.
    public func predict(inputs: [(name: String, load: @Sendable () throws -> [UInt8])], batchSize: Int = 32,
                        threads: Int = 0) -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(inputs.count)
        let workers = threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
        var start = 0
        while start < inputs.count {
            let chunk = Array(inputs[start..<min(inputs.count, start + max(1, batchSize))])
            let slots = DecodeSlots(count: chunk.count)
            DispatchQueue.concurrentPerform(iterations: min(workers, chunk.count)) { _ in
                while let i = slots.claim() {
                    slots.set(i, Result { try self.preprocess(try chunk[i].load(), name: chunk[i].name) })
                }
            }
            let results = slots.results
            let decodedImages = results.compactMap { try? $0.get() }
            let predictions = decodedImages.isEmpty ? [] : predict(images: Tensor.stack(decodedImages, dim: 0))
            var p = 0
            for (i, result) in results.enumerated() {
                switch result {
                case .success:
                    outcomes.append(Outcome(name: chunk[i].name, predictions: predictions[p], error: nil))
                    p += 1
                case let .failure(error):
                    outcomes.append(Outcome(name: chunk[i].name, predictions: nil, error: "\(error)"))
                }
            }
            start += chunk.count
        }
        return outcomes
    }

    /// Scores image files (see ``predict(inputs:batchSize:threads:)``).
    public func predict(files: [String], batchSize: Int = 32, threads: Int = 0) -> [Outcome] {
        predict(inputs: files.map { path in (name: path, load: { try ImageCodec.readFile(path) }) },
                batchSize: batchSize, threads: threads)
    }
}

/// Decoding results filled by worker threads: each claims the next index under a lock.
private final class DecodeSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var values: [Result<Tensor, Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    /// The next unclaimed index, or nil when all are taken.
    func claim() -> Int? {
        lock.withLock {
            guard next < values.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func set(_ i: Int, _ value: Result<Tensor, Error>) { lock.withLock { values[i] = value } }

    var results: [Result<Tensor, Error>] { lock.withLock { values.map { $0! } } }
}
