import Torch

/// A set of parameters with their own options (`optimizer.param_groups[i]`), e.g. a lower
/// learning rate for a pretrained backbone or no weight decay for norms and biases.
public struct ParameterGroup<Options: Sendable> {
    public var parameters: [Tensor]
    public var options: Options

    public init(_ parameters: [Tensor], _ options: Options) {
        self.parameters = parameters
        self.options = options
    }
}

/// What every optimizer offers to training loops and schedulers (`torch.optim.Optimizer`).
///
/// Update rules follow PyTorch's single-tensor implementations op for op, so the same
/// gradients give the same parameters. Parameters without a gradient are skipped.
public protocol Optimizer: AnyObject {
    /// Applies one update from the parameters' `.grad`.
    func step()
    /// Clears the gradients of all parameters (set to nil, as PyTorch ≥ 2.0).
    func zeroGrad()
    /// The learning rate of each parameter group (schedulers set these).
    var learningRates: [Double] { get set }
    /// The momentum of each group (SGD/RMSprop momentum, Adam's β1), or nil if the
    /// optimizer has none; OneCycle cycles it.
    var momenta: [Double]? { get set }
    /// All parameters, group by group.
    var allParameters: [Tensor] { get }
    /// The optimizer's state (moment buffers, step counts, learning rates) as tensors,
    /// keyed `state.<group>.<index>.<name>` and `param_groups.<group>.lr`.
    func stateDict() -> StateDict
    /// Restores state saved by ``stateDict()`` for the same parameter layout.
    func loadStateDict(_ state: StateDict) throws
}

extension Optimizer {
    public func zeroGrad() {
        for p in allParameters { p.zeroGrad() }
    }
}

/// Options every parameter group has: a learning rate, and the value OneCycle cycles.
public protocol GroupOptions: Sendable {
    var lr: Double { get set }
    /// Momentum (SGD, RMSprop) or β1 (Adam).
    var cycledMomentum: Double { get set }
}

/// An optimizer made of parameter groups with per-parameter state (SGD, Adam, RMSprop):
/// the bookkeeping they share lives in this protocol's extension.
public protocol GroupedOptimizer: Optimizer {
    associatedtype Options: GroupOptions
    var groups: [ParameterGroup<Options>] { get set }
    /// Per-parameter state (moments, step counts).
    var state: OptimizerState { get }
    /// State entries shaped like their parameter, 0-d entries, and entries that must be
    /// present together (validated when loading).
    static var tensorStateNames: Set<String> { get }
    static var scalarStateNames: Set<String> { get }
    static var requiredStateNames: Set<String> { get }
}

extension GroupedOptimizer {
    public var learningRates: [Double] {
        get { groups.map(\.options.lr) }
        set { for i in groups.indices { groups[i].options.lr = newValue[i] } }
    }

    public var momenta: [Double]? {
        get { groups.map(\.options.cycledMomentum) }
        set { if let newValue { for i in groups.indices { groups[i].options.cycledMomentum = newValue[i] } } }
    }

    public var allParameters: [Tensor] { groups.flatMap(\.parameters) }

    public func stateDict() -> StateDict { state.stateDict(learningRates: learningRates) }

    public func loadStateDict(_ sd: StateDict) throws {
        let lrs = try state.load(sd, parameters: groups.map(\.parameters), tensorNames: Self.tensorStateNames,
                                 scalarNames: Self.scalarStateNames, together: Self.requiredStateNames)
        for (g, lr) in lrs { groups[g].options.lr = lr }
    }
}

/// Per-parameter optimizer state, by group, parameter index and name.
public final class OptimizerState {
    /// state[group][index][name]
    var values: [[[String: Tensor]]]

    init(groupSizes: [Int]) {
        values = groupSizes.map { [[String: Tensor]](repeating: [:], count: $0) }
    }

    subscript(group: Int, index: Int, name: String) -> Tensor? {
        get { values[group][index][name] }
        set { values[group][index][name] = newValue }
    }

    /// A float64 scalar state entry (step counts), as a Double.
    func scalar(_ group: Int, _ index: Int, _ name: String) -> Double {
        values[group][index][name]?.item() ?? 0
    }

    func setScalar(_ group: Int, _ index: Int, _ name: String, _ value: Double) {
        values[group][index][name] = Tensor(value)
    }

    func stateDict(learningRates: [Double]) -> StateDict {
        var sd = StateDict()
        for (g, group) in values.enumerated() {
            sd["param_groups.\(g).lr"] = Tensor(learningRates[g])
            for (i, entries) in group.enumerated() {
                for name in entries.keys.sorted() { sd["state.\(g).\(i).\(name)"] = entries[name]!.detached().clone() }
            }
        }
        return sd
    }

    /// Loads entries for existing (group, index) pairs after validating all of them (nothing
    /// changes on error); returns the learning rates found.
    ///
    /// - Parameters:
    ///   - tensorNames: state entries shaped like their parameter (e.g. `exp_avg`).
    ///   - scalarNames: 0-d state entries (e.g. `step`).
    ///   - together: names that must all be present for a parameter if any one is.
    func load(_ sd: StateDict, parameters: [[Tensor]], tensorNames: Set<String>, scalarNames: Set<String>,
              together: Set<String>) throws -> [Int: Double] {
        var lrs: [Int: Double] = [:]
        var fresh = parameters.map { [[String: Tensor]](repeating: [:], count: $0.count) }
        for (key, value) in sd {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3, parts[0] == "param_groups", parts[2] == "lr", let g = Int(parts[1]) {
                guard g >= 0, g < parameters.count else { throw badKey(key) }
                guard value.count == 1, value.dtype.isFloatingPoint, value.item().isFinite, value.item() >= 0 else {
                    throw TorchError.invalidArgument("optimizer state \(key) must be one finite learning rate ≥ 0")
                }
                lrs[g] = value.item()
            } else if parts.count == 4, parts[0] == "state", let g = Int(parts[1]), let i = Int(parts[2]) {
                guard g >= 0, g < parameters.count, i >= 0, i < parameters[g].count else { throw badKey(key) }
                let p = parameters[g][i], name = parts[3]
                if scalarNames.contains(name) {
                    guard value.rank == 0, value.dtype.isFloatingPoint || value.dtype == .int64, value.item().isFinite else {
                        throw TorchError.invalidArgument("optimizer state \(key) must be a finite scalar")
                    }
                } else if tensorNames.contains(name) {
                    guard value.shape == p.shape, value.dtype.isFloatingPoint else {
                        throw TorchError.invalidArgument("optimizer state \(key) has shape \(value.shape) and dtype \(value.dtype); "
                            + "the parameter has shape \(p.shape)")
                    }
                } else {
                    throw TorchError.invalidArgument("optimizer state \(key): '\(name)' is not state of this optimizer")
                }
                fresh[g][i][name] = value.to(device: p.device).to(dtype: scalarNames.contains(name) ? .float64 : p.dtype).clone()
            } else {
                throw badKey(key)
            }
        }
        for (g, group) in fresh.enumerated() {
            for (i, entries) in group.enumerated() {
                let present = together.filter { entries[$0] != nil }
                if !present.isEmpty && present.count != together.count {
                    throw TorchError.invalidArgument("optimizer state for parameter \(g).\(i) is incomplete: it has "
                        + "\(present.sorted()) but needs all of \(together.sorted())")
                }
            }
        }
        values = fresh
        return lrs
    }

    private func badKey(_ key: String) -> TorchError {
        TorchError.invalidArgument("optimizer state key '\(key)' does not fit this optimizer's parameter groups")
    }
}

/// `grad + alpha·param` the way PyTorch's `grad.add(param, alpha=…)` computes it.
func added(_ grad: Tensor, _ other: Tensor, alpha: Double) -> Tensor {
    grad.clone().add_(other, alpha: alpha)
}
