import Torch
import TorchNN

/// The optimizer a trainer builds.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    case sgd, adam, adamw, rmsprop
}

/// Settings of a training run. Validated by ``validate()`` before anything runs.
public struct TrainingConfiguration: Sendable {
    public var epochs = 10
    public var optimizer: OptimizerKind = .adamw
    public var learningRate = 1e-3
    /// Multiplies the learning rate of the backbone (e.g. 0.1 for a pretrained one).
    public var backboneLearningRateScale = 1.0
    /// SGD and RMSprop momentum (Adam/AdamW use their β1 instead).
    public var momentum = 0.9
    public var weightDecay = 1e-4
    /// Leave biases and normalisation weights (1-D parameters) out of weight decay.
    public var noWeightDecayOnNormsAndBiases = true
    /// A per-step learning-rate schedule (nil: constant).
    public var schedule: LRSchedule?
    /// Clip the global gradient norm of the model's parameters (nil: off).
    public var gradientClipNorm: Double?
    /// The run's seed: ``ExperimentRun`` uses it for data order, augmentation, initialisation
    /// and randomised methods (the `Trainer` itself draws nothing from it).
    public var seed: UInt64 = 0
    /// What a non-finite loss or gradient does: stop training (the default) or skip the step.
    public var onNonFinite: NonFinitePolicy = .stop
    /// The forward's arithmetic: float32, or bfloat16 autocast (mixed precision; losses,
    /// weighting and the optimizer stay float32).
    public var precision: Precision = .fp32
    /// Lay out the images (and the model's convolution weights, see
    /// `Module.convertToChannelsLast()`) channels-last.
    public var channelsLast = false

    /// The most epochs a run may have (more would overflow the step counts of a schedule).
    public static let maxEpochs = 1_000_000

    public init() {}

    public func validate() throws {
        guard epochs > 0 else { throw HydraError.invalidConfiguration("epochs must be positive, got \(epochs)") }
        guard epochs <= Self.maxEpochs else {
            throw HydraError.invalidConfiguration("epochs must be at most \(Self.maxEpochs), got \(epochs)")
        }
        // Above 1000 no optimizer is meaningful, and libtorch's float32 step arithmetic
        // (Adam's −lr / bias correction) overflows and aborts near Float's range.
        guard learningRate > 0, learningRate <= 1000 else {
            throw HydraError.invalidConfiguration("learning rate must be in (0, 1000], got \(learningRate)")
        }
        guard backboneLearningRateScale >= 0 else {
            throw HydraError.invalidConfiguration("backbone learning-rate scale must be ≥ 0")
        }
        guard weightDecay >= 0, weightDecay <= 1000, momentum >= 0, momentum < 1 else {
            throw HydraError.invalidConfiguration("weight decay must be in [0, 1000] and momentum in [0, 1)")
        }
        if let c = gradientClipNorm, !(c > 0) {
            throw HydraError.invalidConfiguration("gradient clip norm must be positive")
        }
        if let message = schedule?.validationError() { throw HydraError.invalidConfiguration(message) }
    }
}
