import Torch

/// Builds a ``WeightingMethod`` from its name, as the CLI and config files spell it.
public enum WeightingFactory {
    /// Loss-level methods by name.
    public static let lossMethods = ["equal", "static", "uncertainty", "uncertainty-paper", "dwa", "rlw", "famo", "geometric"]

    /// Every method name: loss-level first, then the gradient aggregators.
    public static var allNames: [String] { lossMethods + GradientAggregators.names }

    /// - Parameters:
    ///   - source: the gradient source for gradient methods (default `exact`); must be nil
    ///     or `losses` for loss-level methods.
    ///   - staticWeights: the weights of `static`.
    /// Throws unless `name` is a known method (any spelling `make` accepts).
    public static func validateName(_ name: String) throws {
        let key = normalized(name)
        if lossMethods.contains(key) { return }
        do { _ = try GradientAggregators.make(key) } catch {
            throw HydraError.invalidConfiguration("unknown weighting '\(name)'; choose one of: \(allNames.joined(separator: ", "))")
        }
    }

    /// Lower case, `_` as `-`.
    static func normalized(_ name: String) -> String { name.lowercased().replacingOccurrences(of: "_", with: "-") }

    public static func make(_ name: String, tasks: [HydraTask], source: GradientSource?, seed: UInt64 = 0,
                            staticWeights: [Double]? = nil) throws -> WeightingMethod {
        let key = normalized(name)
        if lossMethods.contains(key) {
            if let source, source != .losses {
                throw HydraError.invalidConfiguration(
                    "\(name) is a loss-level method: gradient source '\(source.rawValue)' applies only to gradient methods")
            }
            switch key {
            case "equal": return .loss(EqualWeighting())
            case "static":
                guard let staticWeights else {
                    throw HydraError.invalidConfiguration("static weighting needs weights (one per task)")
                }
                guard staticWeights.count == tasks.count else {
                    throw HydraError.invalidConfiguration("static weighting: \(staticWeights.count) weights for \(tasks.count) tasks")
                }
                return .loss(try StaticWeighting(weights: staticWeights))
            case "uncertainty": return .loss(UncertaintyWeighting(tasks: tasks))
            case "uncertainty-paper": return .loss(UncertaintyWeighting(tasks: tasks, form: .paper))
            case "dwa": return .loss(try DynamicWeightAverage(taskCount: tasks.count))
            case "rlw": return .loss(RandomLossWeighting(seed: seed))
            case "famo": return .loss(try FAMO(taskCount: tasks.count))
            default: return .loss(GeometricMeanWeighting())
            }
        }
        let aggregator: any GradientAggregator
        do {
            aggregator = try GradientAggregators.make(key, seed: seed)
        } catch {
            throw HydraError.invalidConfiguration("unknown weighting '\(name)'; choose one of: \(allNames.joined(separator: ", "))")
        }
        // The "-UB" variants (MGDA-UB, Aligned-MTL-UB) are the method on the representation's
        // gradients: they default to features mode.
        let method = WeightingMethod.gradient(aggregator, source: source ?? (key.hasSuffix("-ub") ? .features : .exact))
        try method.validate()
        return method
    }
}
