import Torch

/// A self-contained smoke run of the engine: fits a two-layer MLP to a generated
/// regression problem with autograd and SGD with momentum, so a new machine can check in
/// seconds that libtorch, autograd and the device work and that the loss goes down.
///
/// It uses raw tensors on purpose (no modules): it exercises the `Torch` layer alone.
public struct TinyMLPDemo: Sendable {
    /// Number of training samples generated.
    public var samples = 512
    /// Input features.
    public var inputs = 8
    /// Hidden units.
    public var hidden = 32
    /// Optimisation steps (full batch).
    public var steps = 300
    /// SGD learning rate.
    public var learningRate = 0.05
    /// SGD momentum.
    public var momentum = 0.9
    /// Seed for data and initialisation.
    public var seed: UInt64 = 0
    /// Where to train.
    public var device: Device = .cpu

    public init() {}

    /// The outcome of a run.
    public struct Report: Sendable {
        /// Mean squared error before the first step.
        public var initialLoss: Double
        /// Mean squared error after the last step.
        public var finalLoss: Double
        /// The variance of the targets: the loss of always predicting their mean.
        public var targetVariance: Double
    }

    /// Trains and returns the losses; `progress` is called with (step, loss) every `every` steps.
    public func run(every: Int = 50, progress: (Int, Double) -> Void = { _, _ in }) throws -> Report {
        guard samples > 0, inputs > 0, hidden > 0, steps >= 0, learningRate > 0 else {
            throw TorchError.invalidArgument("demo: sizes and learning rate must be positive")
        }
        // Every draw comes from the demo's own generator (not libtorch's global one).
        let generator = Generator(seed: seed)
        // Data: y = tanh(x·A)·b + noise, a smooth non-linear target an MLP can fit.
        let x = Tensor.randn([samples, inputs], device: device, generator: generator)
        let a = Tensor.randn([inputs, 4], device: device, generator: generator)
        let b = Tensor.randn([4, 1], device: device, generator: generator)
        let y = (x.matmul(a) / Double(inputs).squareRoot()).tanh().matmul(b)
            + 0.05 * Tensor.randn([samples, 1], device: device, generator: generator)

        // Parameters with PyTorch's default Linear initialisation bounds (1/√fan_in).
        func uniform(_ shape: [Int], fanIn: Int) -> Tensor {
            let bound = 1 / Double(fanIn).squareRoot()
            return Tensor.empty(shape, device: device).uniform_(-bound, bound, generator: generator).requiringGrad()
        }
        let w1 = uniform([hidden, inputs], fanIn: inputs), b1 = uniform([hidden], fanIn: inputs)
        let w2 = uniform([1, hidden], fanIn: hidden), b2 = uniform([1], fanIn: hidden)
        let params = [w1, b1, w2, b2]
        let velocity = params.map { $0.zerosLike() }

        func loss() -> Tensor {
            let h = Functional.linear(x, weight: w1, bias: b1).relu()
            return Functional.mseLoss(Functional.linear(h, weight: w2, bias: b2), y)
        }

        let initial = withNoGrad { loss().item() }
        var current = initial
        for step in 1...Swift.max(steps, 1) where steps > 0 {
            let l = loss()
            try l.backward()
            current = l.item()
            withNoGrad {
                for (p, v) in zip(params, velocity) {
                    guard let g = p.grad else { continue }
                    v.mul_(momentum).add_(g)
                    p.add_(v, alpha: -learningRate)
                    p.zeroGrad()
                }
            }
            if step % every == 0 || step == steps { progress(step, current) }
        }
        let final = withNoGrad { loss().item() }
        return Report(initialLoss: initial, finalLoss: final, targetVariance: y.variance().item())
    }
}
