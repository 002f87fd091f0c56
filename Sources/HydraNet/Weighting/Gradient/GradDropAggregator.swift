import Torch

/// GradDrop, "gradient sign dropout" (Chen et al., "Just Pick a Sign: Optimizing Deep
/// Multitask Models with Gradient Sign Dropout", NeurIPS 2020, Algorithm 1 lines 10–15;
/// torchjd's `GradDrop`): per coordinate, the positive sign purity P = ½(1 + Σᵢgᵢ/Σᵢ|gᵢ|)
/// picks a sign — positive when f(P) > U with U ~ U(0, 1) — and only the task gradients'
/// entries of that sign are kept: d = Σᵢ (ℓᵢ + (1 − ℓᵢ)Mᵢ)∘gᵢ with Mᵢ the kept-sign mask.
///
/// It works on the Jacobian itself (not on G), so it is not a weighting: ``Aggregation/weights``
/// is nil. Choices as in torchjd: f = identity, no leak (ℓᵢ = 0; `leak`, when given, is
/// indexed by task id); a coordinate where every gradient is zero stays zero. U is drawn from a
/// seeded Swift generator (saved in ``stateDict()``), P values per step. The paper applies
/// GradDrop to the gradients w.r.t. the shared representation: use the `features` source for
/// that, `exact` applies it to the parameters' gradients, as torchjd does.
public final class GradDropAggregator: GradientAggregator {
    public let name = "graddrop"
    public var leak: [Double]?
    public var purityTransform: (Tensor) -> Tensor
    public var generator: AggregatorGenerator
    /// Overrides the uniform draws (tests): returns P values in [0, 1).
    public var uniforms: ((_ count: Int) -> [Double])?

    public init(seed: UInt64 = 0, leak: [Double]? = nil, purityTransform: @escaping (Tensor) -> Tensor = { $0 }) {
        generator = AggregatorGenerator(seed: seed)
        self.leak = leak
        self.purityTransform = purityTransform
    }

    public func aggregate(_ jacobian: Tensor, context: AggregationContext) -> Aggregation {
        let input = AggregatorInput(jacobian, context, method: name)
        guard input.count > 0, input.columns > 0 else { return Aggregation(update: input.zeroUpdate(), weights: nil) }
        let ell = preferenceWeights(leak, input.taskIds, method: name, default: 0)
        let u = uniforms?(input.columns) ?? (0..<input.columns).map { _ in generator.uniform() }
        precondition(u.count == input.columns, "GradDropAggregator: \(u.count) uniforms for \(input.columns) columns")
        let update = withNoGrad { () -> Tensor in
            let j = input.jacobian.detached()
            let purity = 0.5 * (1 + j.sum(dim: 0) / j.abs().sum(dim: 0))
            let fp = purityTransform(purity)
            let draws = Tensor(u).to(device: j.device).to(dtype: j.dtype)
            let positive = fp.gt(draws), negative = fp.lt(draws)
            var total = Tensor.zeros([input.columns], dtype: j.dtype, device: j.device)
            for i in 0..<input.count {
                let row = j.select(dim: 0, index: i)
                let mask = positive.logicalAnd(row.gt(0)).logicalOr(negative.logicalAnd(row.lt(0))).to(dtype: j.dtype)
                total = total + (ell[i] + (1 - ell[i]) * mask) * row
            }
            return total
        }
        return Aggregation(update: update, weights: nil)
    }

    public func stateDict() -> [String: Tensor] { ["generator": generator.tensor] }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let t = state["generator"] { generator = try AggregatorGenerator(checkpoint: t, key: "generator") }
    }
}
