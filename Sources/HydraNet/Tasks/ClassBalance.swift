import Foundation

/// Class weights for a multiclass task's cross-entropy, from the class counts of the
/// training data: rare classes weigh more, so the loss (and macro-F1) does not leave them
/// to the frequent ones. Class `c` of `k` with `n_c` of `n` labelled samples weighs
/// `(n / (k · n_c))^p`: p = 1 for ``inverse`` (scikit-learn's `class_weight="balanced"`),
/// p = ½ for ``sqrt`` (a milder tilt that costs less accuracy).
public enum ClassBalance: String, Sendable, CaseIterable, Codable {
    /// No class weights.
    case none
    /// Inverse square root of the class frequency.
    case sqrt
    /// Inverse class frequency.
    case inverse

    /// The weight of each class for these class counts (nil for ``none``). A class without
    /// samples gets weight 1 (it never appears in the loss).
    public func weights(counts: [Int]) -> [Double]? {
        let power: Double
        switch self {
        case .none: return nil
        case .sqrt: power = 0.5
        case .inverse: power = 1
        }
        let total = Double(counts.reduce(0, +)), k = Double(counts.count)
        guard total > 0 else { return nil }
        return counts.map { $0 > 0 ? Foundation.pow(total / (k * Double($0)), power) : 1 }
    }
}
