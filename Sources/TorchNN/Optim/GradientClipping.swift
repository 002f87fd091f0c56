import Torch

/// Gradient clipping, as `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`.
public enum GradientClipping {
    /// Scales all gradients so their joint `normType`-norm is at most `maxNorm`; returns the
    /// norm before clipping. Parameters without a gradient are ignored.
    @discardableResult
    public static func clipNorm(_ parameters: [Tensor], maxNorm: Double, normType: Double = 2) -> Double {
        let grads = parameters.compactMap(\.grad)
        guard !grads.isEmpty else { return 0 }
        return withNoGrad {
            let norms = grads.map { $0.norm(p: normType) }
            let total = Tensor.stack(norms).norm(p: normType)
            let coefficient = ((total + 1e-6).reciprocal() * maxNorm).clamped(max: 1)
            for g in grads { g.mul_(coefficient) }
            return total.item()
        }
    }

    /// Clamps every gradient element to `[-value, value]`.
    public static func clipValue(_ parameters: [Tensor], _ value: Double) {
        withNoGrad {
            for g in parameters.compactMap(\.grad) { g.clamp_(min: -value, max: value) }
        }
    }
}
