import Torch

/// Where per-task gradients for a gradient-level method come from.
public enum GradientSource: String, Sendable, Codable, CaseIterable {
    /// Per-task gradients of every shared (backbone) parameter: T backward passes through
    /// the backbone. Exact, and the most expensive.
    case exact
    /// Per-task gradients w.r.t. the shared representation (the backbone's output, kept per
    /// sample), combined, then one backward of the combined feature gradient through the
    /// backbone (MGDA-UB style). Costs one backbone backward; the weights are computed on
    /// the representation's Gram matrix instead of the parameters'.
    case features
    /// Losses only: for loss-level methods, one backward of the combined loss.
    case losses
}

/// How the trainer combines the tasks: a loss-level method, or a gradient-level method
/// with its gradient source.
public enum WeightingMethod {
    case loss(any LossWeighting)
    case gradient(any GradientAggregator, source: GradientSource)

    /// The method's identifier.
    public var name: String {
        switch self {
        case let .loss(w): w.name
        case let .gradient(a, _): a.name
        }
    }

    /// Rejects impossible combinations with a message.
    public func validate() throws {
        if case let .gradient(a, source) = self, source == .losses {
            throw HydraError.invalidConfiguration(
                "\(a.name) combines per-task gradients: use gradient source 'exact' or 'features', not 'losses'")
        }
    }
}
