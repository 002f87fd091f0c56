import Torch

/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay
/// (`torch.optim.SGD`).
public final class SGD: GroupedOptimizer {
    public struct Options: GroupOptions {
        public var lr: Double
        public var momentum: Double
        public var dampening: Double
        public var weightDecay: Double
        public var nesterov: Bool
        public var maximize: Bool

        public init(lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                    nesterov: Bool = false, maximize: Bool = false) {
            self.lr = lr
            self.momentum = momentum
            self.dampening = dampening
            self.weightDecay = weightDecay
            self.nesterov = nesterov
            self.maximize = maximize
        }
    }

    public var groups: [ParameterGroup<Options>]
    public let state: OptimizerState
    public static let tensorStateNames: Set<String> = ["momentum_buffer"]
    public static let scalarStateNames: Set<String> = []
    public static let requiredStateNames: Set<String> = []

    /// - Throws: `TorchError.invalidArgument` for negative rates or Nesterov without momentum.
    public init(groups: [ParameterGroup<Options>]) throws {
        for g in groups {
            let o = g.options
            guard o.lr >= 0, o.momentum >= 0, o.weightDecay >= 0 else {
                throw TorchError.invalidArgument("SGD: lr, momentum and weight decay must be ≥ 0")
            }
            guard !o.nesterov || (o.momentum > 0 && o.dampening == 0) else {
                throw TorchError.invalidArgument("SGD: Nesterov momentum requires a momentum and zero dampening")
            }
        }
        self.groups = groups
        state = OptimizerState(groupSizes: groups.map(\.parameters.count))
    }

    public convenience init(_ parameters: [Tensor], _ options: Options) throws {
        try self.init(groups: [ParameterGroup(parameters, options)])
    }

    public convenience init(_ parameters: [Tensor], lr: Double, momentum: Double = 0, weightDecay: Double = 0,
                            nesterov: Bool = false) throws {
        try self.init(parameters, Options(lr: lr, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov))
    }

    public func step() {
        withNoGrad {
            for (g, group) in groups.enumerated() {
                let o = group.options
                for (i, p) in group.parameters.enumerated() {
                    guard var grad = p.grad else { continue }
                    if o.maximize { grad = -grad }
                    if o.weightDecay != 0 { grad = added(grad, p, alpha: o.weightDecay) }
                    if o.momentum != 0 {
                        let buf: Tensor
                        if let existing = state[g, i, "momentum_buffer"] {
                            buf = existing
                            buf.mul_(o.momentum).add_(grad, alpha: 1 - o.dampening)
                        } else {
                            buf = grad.clone().detached()
                            state[g, i, "momentum_buffer"] = buf
                        }
                        grad = o.nesterov ? added(grad, buf, alpha: o.momentum) : buf
                    }
                    p.add_(grad, alpha: -o.lr)
                }
            }
        }
    }
}

extension SGD.Options {
    public var cycledMomentum: Double {
        get { momentum }
        set { momentum = newValue }
    }
}
