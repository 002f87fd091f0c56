import CTorch

extension Tensor {
    private func reduce(_ name: StaticString, _ dims: [Int]?, _ keepDim: Bool,
                        _ call: (UnsafePointer<Int64>?, Int32, Int32) -> ct_tensor?) -> Tensor {
        withInt64s(dims ?? []) { d, n in checked(name, call(d, n, keepDim ? 1 : 0)) }
    }

    /// Sum over `dims` (all when nil) (`torch.sum`).
    public func sum(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduce("sum", dims, keepDim) { ct_sum(handle, $0, $1, $2) }
    }
    /// Sum over one dimension.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum(dims: [dim], keepDim: keepDim) }

    /// Mean over `dims` (all when nil) (`torch.mean`).
    public func mean(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduce("mean", dims, keepDim) { ct_mean(handle, $0, $1, $2) }
    }
    /// Mean over one dimension.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean(dims: [dim], keepDim: keepDim) }

    /// Product of all elements, or along `dim` (`torch.prod`).
    public func prod(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        checked("prod", ct_prod(handle, Int64(dim ?? 0), dim == nil ? 0 : 1, keepDim ? 1 : 0))
    }

    /// The largest element (`torch.max()` with no dim).
    public func max() -> Tensor { reduce("max", nil, false) { ct_amax(handle, $0, $1, $2) } }
    /// The smallest element.
    public func min() -> Tensor { reduce("min", nil, false) { ct_amin(handle, $0, $1, $2) } }
    /// Maximum over `dims` without indices (`torch.amax`).
    public func amax(dims: [Int], keepDim: Bool = false) -> Tensor {
        reduce("amax", dims, keepDim) { ct_amax(handle, $0, $1, $2) }
    }
    /// Minimum over `dims` without indices (`torch.amin`).
    public func amin(dims: [Int], keepDim: Bool = false) -> Tensor {
        reduce("amin", dims, keepDim) { ct_amin(handle, $0, $1, $2) }
    }

    /// Maximum values and their indices along `dim` (`torch.max(dim=)`).
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: ct_tensor?
        let v = checked("max(dim:)", ct_max_dim(handle, Int64(dim), keepDim ? 1 : 0, &idx))
        return (v, Tensor(owning: idx!))
    }
    /// Minimum values and their indices along `dim` (`torch.min(dim=)`).
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: ct_tensor?
        let v = checked("min(dim:)", ct_min_dim(handle, Int64(dim), keepDim ? 1 : 0, &idx))
        return (v, Tensor(owning: idx!))
    }

    /// Index of the maximum, flattened or along `dim` (`torch.argmax`).
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        checked("argmax", ct_argmax(handle, Int64(dim ?? 0), dim == nil ? 0 : 1, keepDim ? 1 : 0))
    }
    /// Index of the minimum, flattened or along `dim` (`torch.argmin`).
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        checked("argmin", ct_argmin(handle, Int64(dim ?? 0), dim == nil ? 0 : 1, keepDim ? 1 : 0))
    }

    /// Variance with Bessel's correction by default (`torch.var`).
    public func variance(dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) -> Tensor {
        reduce("variance", dims, keepDim) { ct_var(handle, $0, $1, correction, $2) }
    }
    /// Standard deviation with Bessel's correction by default (`torch.std`).
    public func std(dims: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) -> Tensor {
        reduce("std", dims, keepDim) { ct_std(handle, $0, $1, correction, $2) }
    }
    /// The p-norm over `dims` (all when nil) (`torch.linalg.vector_norm`).
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduce("norm", dims, keepDim) { ct_norm(handle, p, $0, $1, $2) }
    }
    /// log Σ exp over `dims` (all when nil), computed stably (`torch.logsumexp`).
    public func logsumexp(dims: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        reduce("logsumexp", dims, keepDim) { ct_logsumexp(handle, $0, $1, $2) }
    }
    /// Cumulative sum along `dim` (`torch.cumsum`).
    public func cumsum(dim: Int) -> Tensor { checked("cumsum", ct_cumsum(handle, Int64(dim))) }
    /// Whether all elements are true/non-zero (a 0-d bool tensor).
    public func all() -> Tensor { checked("all", ct_all(handle)) }
    /// Whether any element is true/non-zero (a 0-d bool tensor).
    public func any() -> Tensor { checked("any", ct_any(handle)) }

    // MARK: Linear algebra

    /// Matrix product with broadcasting (`torch.matmul`).
    public func matmul(_ other: Tensor) -> Tensor { checked("matmul", ct_matmul(handle, other.handle)) }
    /// 2-D matrix product (`torch.mm`).
    public func mm(_ other: Tensor) -> Tensor { checked("mm", ct_mm(handle, other.handle)) }
    /// Batched matrix product of 3-D tensors (`torch.bmm`).
    public func bmm(_ other: Tensor) -> Tensor { checked("bmm", ct_bmm(handle, other.handle)) }
    /// Inner product of two vectors (`torch.dot`).
    public func dot(_ other: Tensor) -> Tensor { checked("dot", ct_dot(handle, other.handle)) }
    /// Outer product of two vectors (`torch.outer`).
    public func outer(_ other: Tensor) -> Tensor { checked("outer", ct_outer(handle, other.handle)) }
}
