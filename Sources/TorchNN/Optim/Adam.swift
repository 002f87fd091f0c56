import Foundation
import Torch

/// Adam (Kingma & Ba 2015) and, with `decoupledWeightDecay`, AdamW (Loshchilov & Hutter
/// 2019), with AMSGrad (`torch.optim.Adam` / `torch.optim.AdamW`).
public final class Adam: GroupedOptimizer {
    public struct Options: GroupOptions {
        public var lr: Double
        public var beta1: Double
        public var beta2: Double
        public var eps: Double
        public var weightDecay: Double
        public var amsgrad: Bool
        public var maximize: Bool
        /// AdamW: decay the weights directly (`p *= 1 − lr·wd`) instead of adding wd·p to
        /// the gradient.
        public var decoupledWeightDecay: Bool
        /// Update the group with libtorch's fused kernel (``FusedAdam``, as
        /// `torch.optim.Adam(fused=True)`) where its tensors qualify (float32 on the CPU, each
        /// gradient and moment laid out as its parameter); the rest one op at a time. The
        /// two paths agree to float32 rounding. Off: always op by op.
        public var fused: Bool

        public init(lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                    weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false,
                    decoupledWeightDecay: Bool = false, fused: Bool = true) {
            self.lr = lr
            beta1 = betas.0
            beta2 = betas.1
            self.eps = eps
            self.weightDecay = weightDecay
            self.amsgrad = amsgrad
            self.maximize = maximize
            self.decoupledWeightDecay = decoupledWeightDecay
            self.fused = fused
        }

        /// AdamW's defaults (weight decay 0.01).
        public static func adamW(lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                                 weightDecay: Double = 1e-2, amsgrad: Bool = false) -> Options {
            Options(lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad,
                    decoupledWeightDecay: true)
        }
    }

    public var groups: [ParameterGroup<Options>]
    public let state: OptimizerState
    public static let tensorStateNames: Set<String> = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    public static let scalarStateNames: Set<String> = ["step"]
    public static let requiredStateNames: Set<String> = ["exp_avg", "exp_avg_sq", "step"]

    public init(groups: [ParameterGroup<Options>]) throws {
        for g in groups {
            let o = g.options
            guard o.lr >= 0, o.eps >= 0, o.weightDecay >= 0 else {
                throw TorchError.invalidArgument("Adam: lr, eps and weight decay must be ≥ 0")
            }
            guard (0..<1).contains(o.beta1), (0..<1).contains(o.beta2) else {
                throw TorchError.invalidArgument("Adam: betas must be in [0, 1), got (\(o.beta1), \(o.beta2))")
            }
        }
        self.groups = groups
        state = OptimizerState(groupSizes: groups.map(\.parameters.count))
    }

    public convenience init(_ parameters: [Tensor], _ options: Options = Options()) throws {
        try self.init(groups: [ParameterGroup(parameters, options)])
    }

    /// AdamW over `parameters` (weight decay 0.01 by default).
    public static func adamW(_ parameters: [Tensor], lr: Double = 1e-3, weightDecay: Double = 1e-2,
                             amsgrad: Bool = false) throws -> Adam {
        try Adam(parameters, .adamW(lr: lr, weightDecay: weightDecay, amsgrad: amsgrad))
    }

    public func step() {
        withNoGrad {
            for (g, group) in groups.enumerated() {
                let o = group.options
                var indices: [Int] = [], params: [Tensor] = [], grads: [Tensor] = [], steps: [Double] = []
                for (i, p) in group.parameters.enumerated() {
                    guard let grad = p.grad else { continue }
                    if state[g, i, "exp_avg"] == nil {
                        state[g, i, "exp_avg"] = p.zerosLike()
                        state[g, i, "exp_avg_sq"] = p.zerosLike()
                    }
                    if o.amsgrad, state[g, i, "max_exp_avg_sq"] == nil { state[g, i, "max_exp_avg_sq"] = p.zerosLike() }
                    let step = state.scalar(g, i, "step") + 1
                    state.setScalar(g, i, "step", step)
                    indices.append(i)
                    params.append(p)
                    grads.append(grad)
                    steps.append(step)
                }
                guard !params.isEmpty else { continue }
                var done = [Bool](repeating: false, count: params.count)
                if o.fused {
                    let h = FusedAdam.Hyperparameters(lr: o.lr, beta1: o.beta1, beta2: o.beta2, weightDecay: o.weightDecay,
                                                      eps: o.eps, amsgrad: o.amsgrad, maximize: o.maximize,
                                                      decoupledWeightDecay: o.decoupledWeightDecay)
                    do {
                        done = try FusedAdam.step(parameters: params, gradients: grads,
                                                  expAvgs: indices.map { state[g, $0, "exp_avg"]! },
                                                  expAvgSqs: indices.map { state[g, $0, "exp_avg_sq"]! },
                                                  maxExpAvgSqs: o.amsgrad ? indices.map { state[g, $0, "max_exp_avg_sq"]! } : [],
                                                  steps: steps, h)
                    } catch {
                        fatalError("Adam.step: \(error)")  // as any other in-place op libtorch rejects
                    }
                }
                for (k, i) in indices.enumerated() where !done[k] {
                    update(params[k], grad: grads[k], group: g, index: i, step: steps[k], o)
                }
            }
        }
    }

    /// One parameter's update, op by op (`torch.optim.Adam(foreach=False)`): the path for
    /// tensors the fused kernel does not take, and for `fused: false`.
    private func update(_ p: Tensor, grad: Tensor, group g: Int, index i: Int, step: Double, _ o: Options) {
        var grad = o.maximize ? -grad : grad
        let expAvg = state[g, i, "exp_avg"]!, expAvgSq = state[g, i, "exp_avg_sq"]!
        if o.weightDecay != 0 {
            if o.decoupledWeightDecay {
                p.mul_(1 - o.lr * o.weightDecay)
            } else {
                grad = added(grad, p, alpha: o.weightDecay)
            }
        }
        expAvg.lerp_(grad, weight: 1 - o.beta1)
        expAvgSq.mul_(o.beta2).addcmul_(grad, grad, value: 1 - o.beta2)
        let biasCorrection1 = 1 - Foundation.pow(o.beta1, step)
        let biasCorrection2 = 1 - Foundation.pow(o.beta2, step)
        let stepSize = o.lr / biasCorrection1
        let biasCorrection2Sqrt = biasCorrection2.squareRoot()
        let denom: Tensor
        if o.amsgrad {
            let maxSq = state[g, i, "max_exp_avg_sq"]!
            maxSq.maximum_(expAvgSq)
            denom = (maxSq.sqrt() / biasCorrection2Sqrt).add_(o.eps)
        } else {
            denom = (expAvgSq.sqrt() / biasCorrection2Sqrt).add_(o.eps)
        }
        p.addcdiv_(expAvg, denom, value: -stepSize)
    }
}

extension Adam.Options {
    public var cycledMomentum: Double {
        get { beta1 }
        set { beta1 = newValue }
    }
}
