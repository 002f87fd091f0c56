import Torch

/// RMSprop (Hinton's lecture 6e), optionally centered and with momentum (`torch.optim.RMSprop`).
public final class RMSprop: GroupedOptimizer {
    public struct Options: GroupOptions {
        public var lr: Double
        public var alpha: Double
        public var eps: Double
        public var weightDecay: Double
        public var momentum: Double
        public var centered: Bool
        public var maximize: Bool

        public init(lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8, weightDecay: Double = 0,
                    momentum: Double = 0, centered: Bool = false, maximize: Bool = false) {
            self.lr = lr
            self.alpha = alpha
            self.eps = eps
            self.weightDecay = weightDecay
            self.momentum = momentum
            self.centered = centered
            self.maximize = maximize
        }
    }

    public var groups: [ParameterGroup<Options>]
    public let state: OptimizerState
    public static let tensorStateNames: Set<String> = ["square_avg", "momentum_buffer", "grad_avg"]
    public static let scalarStateNames: Set<String> = ["step"]
    public static let requiredStateNames: Set<String> = ["square_avg", "step"]

    public init(groups: [ParameterGroup<Options>]) throws {
        for g in groups {
            let o = g.options
            guard o.lr >= 0, o.eps >= 0, o.weightDecay >= 0, o.momentum >= 0, o.alpha >= 0 else {
                throw TorchError.invalidArgument("RMSprop: lr, alpha, eps, momentum and weight decay must be ≥ 0")
            }
        }
        self.groups = groups
        state = OptimizerState(groupSizes: groups.map(\.parameters.count))
    }

    public convenience init(_ parameters: [Tensor], _ options: Options = Options()) throws {
        try self.init(groups: [ParameterGroup(parameters, options)])
    }

    public func step() {
        withNoGrad {
            for (g, group) in groups.enumerated() {
                let o = group.options
                for (i, p) in group.parameters.enumerated() {
                    guard var grad = p.grad else { continue }
                    if o.maximize { grad = -grad }
                    if state[g, i, "square_avg"] == nil {
                        state[g, i, "square_avg"] = p.zerosLike()
                        if o.momentum > 0 { state[g, i, "momentum_buffer"] = p.zerosLike() }
                        if o.centered { state[g, i, "grad_avg"] = p.zerosLike() }
                    }
                    state.setScalar(g, i, "step", state.scalar(g, i, "step") + 1)
                    if o.weightDecay != 0 { grad = added(grad, p, alpha: o.weightDecay) }
                    let squareAvg = state[g, i, "square_avg"]!
                    squareAvg.mul_(o.alpha).addcmul_(grad, grad, value: 1 - o.alpha)
                    var avg: Tensor
                    if o.centered {
                        let gradAvg = state[g, i, "grad_avg"] ?? p.zerosLike()
                        state[g, i, "grad_avg"] = gradAvg
                        gradAvg.lerp_(grad, weight: 1 - o.alpha)
                        avg = squareAvg.clone().addcmul_(gradAvg, gradAvg, value: -1).sqrt()
                    } else {
                        avg = squareAvg.sqrt()
                    }
                    avg = avg.add_(o.eps)
                    if o.momentum > 0 {
                        let buf = state[g, i, "momentum_buffer"] ?? p.zerosLike()
                        state[g, i, "momentum_buffer"] = buf
                        buf.mul_(o.momentum).addcdiv_(grad, avg)
                        p.add_(buf, alpha: -o.lr)
                    } else {
                        p.addcdiv_(grad, avg, value: -o.lr)
                    }
                }
            }
        }
    }
}

extension RMSprop.Options {
    public var cycledMomentum: Double {
        get { momentum }
        set { momentum = newValue }
    }
}
