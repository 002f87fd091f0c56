import Torch

/// Every gradient aggregator by name, for configuration files and the CLI.
public enum GradientAggregators {
    /// The names ``make(_:seed:)`` accepts.
    public static let names = [
        "mean", "sum", "random", "mgda", "upgrad", "dualproj", "pcgrad", "gradvac", "cagrad", "imtl-g",
        "aligned-mtl", "nash-mtl", "graddrop", "config", "krum", "trimmed-mean", "fairgrad", "excess-mtl",
        "pcd", "gradnorm",
    ]

    /// A new aggregator with the paper's defaults; randomised ones are seeded with `seed`.
    /// `mgda-ub` and `aligned-mtl-ub` name the same aggregators as `mgda` and `aligned-mtl`: the
    /// "UB" variants are those methods run on the features gradient source. Throws for an unknown
    /// name (``ConstantAggregator`` needs its weights and ``CRMOGMAggregator`` a method to wrap:
    /// build those directly).
    public static func make(_ name: String, seed: UInt64 = 0) throws -> any GradientAggregator {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "mean": MeanAggregator()
        case "sum": SumAggregator()
        case "random", "rlw-grad": RandomAggregator(seed: seed)
        case "mgda", "mgda-ub": MGDAAggregator()
        case "upgrad": UPGradAggregator()
        case "dualproj": DualProjAggregator()
        case "pcgrad": PCGradAggregator(seed: seed)
        case "gradvac": GradVacAggregator(seed: seed)
        case "cagrad": CAGradAggregator()
        case "imtl-g", "imtlg", "imtl": IMTLGAggregator()
        case "aligned-mtl", "alignedmtl", "aligned-mtl-ub": AlignedMTLAggregator()
        case "nash-mtl", "nashmtl", "nash": NashMTLAggregator()
        case "graddrop": GradDropAggregator(seed: seed)
        case "config": ConFIGAggregator()
        case "krum": KrumAggregator()
        case "trimmed-mean", "trimmedmean": TrimmedMeanAggregator()
        case "fairgrad": FairGradAggregator()
        case "excess-mtl", "excessmtl": ExcessMTLAggregator()
        case "pcd": PCDAggregator()
        case "gradnorm": GradNormAggregator()
        default:
            throw HydraError.invalidConfiguration(
                "unknown gradient aggregator '\(name)': use one of \(names.joined(separator: ", "))")
        }
    }
}
