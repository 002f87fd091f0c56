import Foundation
import Torch

/// Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018), with one
/// learnable sᵢ = log σᵢ² per task, initialised to 0 (as nash-mtl and torchjd).
///
/// - `.regressionForAll` (default, what LibMTL, mtan, nash-mtl and torchjd all do):
///   Σ ½e^{−sᵢ}Lᵢ + ½sᵢ for every task.
/// - `.paper`: the paper's forms, ½e^{−s}L + ½s for regression tasks and e^{−s}L + ½s for
///   classification tasks.
///
/// The sᵢ are returned by ``parameters`` and must not get weight decay (the trainer puts
/// them in their own parameter group without it).
public final class UncertaintyWeighting: LossWeighting {
    public enum Form: String, Sendable, Codable { case regressionForAll = "regression", paper }

    public var name: String { form == .paper ? "uncertainty-paper" : "uncertainty" }
    public let form: Form
    /// log σ² per task.
    public let logVariance: Tensor
    private let classification: [Bool]
    public private(set) var lastWeights: [Double?] = []

    public init(tasks: [HydraTask], form: Form = .regressionForAll) {
        self.form = form
        logVariance = Tensor.zeros([tasks.count]).requiringGrad()
        classification = tasks.map { $0.kind != .regression }
    }

    public var parameters: [Tensor] { [logVariance] }

    public func combine(_ losses: [Tensor?], epoch: Int, step: Int) -> Tensor {
        var total: Tensor?
        let s = logVariance.detached().scalars(as: Float.self)
        lastWeights = Array(repeating: nil, count: losses.count)
        for (i, l) in losses.enumerated() {
            guard let l else { continue }
            let si = logVariance[i]
            let scale = form == .paper && classification[i] ? 1.0 : 0.5
            let term = (-si).exp() * l * scale + si * 0.5
            lastWeights[i] = scale * Foundation.exp(-Double(s[i]))
            total = total.map { $0 + term } ?? term
        }
        return total ?? Tensor(Float(0))
    }

    public func stateDict() -> [String: Tensor] { ["log_variance": logVariance.detached().clone()] }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        guard let v = state["log_variance"] else { return }
        guard v.shape == logVariance.shape else {
            throw HydraError.checkpoint("uncertainty weighting: log_variance has shape \(v.shape), expected \(logVariance.shape)")
        }
        withNoGrad { logVariance.copy_(v) }
    }
}
