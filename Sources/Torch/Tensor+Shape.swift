import CTorch

extension Tensor {
    /// The same elements with a new shape (`torch.reshape`); one dimension may be -1.
    public func reshaped(_ shape: [Int]) -> Tensor {
        withInt64s(shape) { s, n in checked("reshaped", ct_reshape(handle, s, n)) }
    }

    /// A view with a new shape sharing storage (`Tensor.view`); traps if strides forbid it.
    public func view(_ shape: [Int]) -> Tensor {
        withInt64s(shape) { s, n in checked("view", ct_view(handle, s, n)) }
    }

    /// Dimensions reordered (`torch.permute`).
    public func permuted(_ dims: [Int]) -> Tensor {
        withInt64s(dims) { d, n in checked("permuted", ct_permute(handle, d, n)) }
    }

    /// Dimensions reordered (`torch.permute`).
    public func permuted(_ dims: Int...) -> Tensor { permuted(dims) }

    /// Two dimensions swapped (`torch.transpose`).
    public func transposed(_ dim0: Int, _ dim1: Int) -> Tensor {
        checked("transposed", ct_transpose(handle, Int64(dim0), Int64(dim1)))
    }

    /// The transpose of a 2-D tensor (`Tensor.T` / `t()`).
    public var T: Tensor { transposed(0, 1) }

    /// All size-1 dimensions removed, or only `dim` if given (`torch.squeeze`).
    public func squeezed(_ dim: Int? = nil) -> Tensor {
        if let dim { return checked("squeezed", ct_squeeze_dim(handle, Int64(dim))) }
        return checked("squeezed", ct_squeeze(handle))
    }

    /// A size-1 dimension inserted at `dim` (`torch.unsqueeze`).
    public func unsqueezed(_ dim: Int) -> Tensor { checked("unsqueezed", ct_unsqueeze(handle, Int64(dim))) }

    /// A broadcast view with the given shape; -1 keeps a dimension (`Tensor.expand`).
    public func expanded(_ shape: [Int]) -> Tensor {
        withInt64s(shape) { s, n in checked("expanded", ct_expand(handle, s, n)) }
    }

    /// A broadcast view with `other`'s shape (`Tensor.expand_as`).
    public func expanded(as other: Tensor) -> Tensor { expanded(other.shape) }

    /// A broadcast view with the given shape (`torch.broadcast_to`).
    public func broadcast(to shape: [Int]) -> Tensor { expanded(shape) }

    /// Dimensions `startDim...endDim` merged into one (`torch.flatten`).
    public func flattened(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        checked("flattened", ct_flatten(handle, Int64(startDim), Int64(endDim)))
    }

    /// Elements `start..<end` (by `step`) along `dim` (`Tensor.narrow`/slicing), a view.
    public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) -> Tensor {
        checked("slice", ct_slice(handle, Int64(dim), Int64(start ?? 0), Int64(end ?? Int(Int64.max)), Int64(step)))
    }

    /// The slice at `index` along `dim`, with that dimension removed (`torch.select`).
    public func select(dim: Int, index: Int) -> Tensor {
        checked("select", ct_select(handle, Int64(dim), Int64(index)))
    }

    /// A view with explicit sizes, strides and storage offset (`torch.as_strided`). Traps if
    /// it would reach outside the storage; validate sizes from files before calling.
    public func asStrided(size: [Int], stride: [Int], storageOffset: Int = 0) -> Tensor {
        precondition(size.count == stride.count, "asStrided: \(size.count) sizes, \(stride.count) strides")
        return withInt64s(size) { s, n in
            withInt64s(stride) { st, _ in checked("asStrided", ct_as_strided(handle, s, st, n, Int64(storageOffset))) }
        }
    }

    /// `length` elements from `start` along `dim` (`torch.narrow`), a view.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        checked("narrow", ct_narrow(handle, Int64(dim), Int64(start), Int64(length)))
    }

    /// Tensors joined along an existing dimension (`torch.cat`).
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        withHandles(tensors) { h, n in checked("cat", ct_cat(h, n, Int64(dim))) }
    }

    /// Tensors joined along a new dimension (`torch.stack`).
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        withHandles(tensors) { h, n in checked("stack", ct_stack(h, n, Int64(dim))) }
    }

    /// Pieces of `size` elements along `dim` (the last may be smaller) (`torch.split`).
    public func split(size: Int, dim: Int = 0) -> [Tensor] {
        precondition(size > 0, "split: size must be positive")
        let length = self.size(dim)
        let capacity = Swift.max(1, (length + size - 1) / size)
        return collect("split", capacity) { out, cap, count in ct_split(handle, Int64(size), Int64(dim), out, cap, count) }
    }

    /// Pieces with the given sizes along `dim` (`torch.split` with a list).
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        collect("split", sizes.count) { out, cap, count in
            withInt64s(sizes) { s, n in ct_split_sizes(handle, s, n, Int64(dim), out, cap, count) }
        }
    }

    /// At most `chunks` nearly equal pieces along `dim` (`torch.chunk`).
    public func chunked(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        collect("chunked", Swift.max(chunks, 1)) { out, cap, count in
            ct_chunk(handle, Int64(chunks), Int64(dim), out, cap, count)
        }
    }

    /// Slices along `dim` (`torch.unbind`).
    public func unbind(dim: Int = 0) -> [Tensor] {
        (0..<size(dim)).map { select(dim: dim, index: $0) }
    }

    private func collect(_ op: StaticString, _ capacity: Int,
                         _ call: (UnsafeMutablePointer<ct_tensor?>, Int32, UnsafeMutablePointer<Int32>) -> Int32) -> [Tensor] {
        var out = [ct_tensor?](repeating: nil, count: capacity)
        var count: Int32 = 0
        let status = out.withUnsafeMutableBufferPointer { call($0.baseAddress!, Int32(capacity), &count) }
        check(op, status)
        return (0..<Int(count)).map { Tensor(owning: out[$0]!) }
    }

    /// Entries of `index` (int64) along `dim` (`torch.index_select`).
    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        checked("indexSelect", ct_index_select(handle, Int64(dim), index.handle))
    }

    /// Values gathered along `dim` at `index` (`torch.gather`).
    public func gather(dim: Int, index: Tensor) -> Tensor {
        checked("gather", ct_gather(handle, Int64(dim), index.handle))
    }

    /// A copy with `source` written along `dim` at `index` (`torch.scatter`).
    public func scatter(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        checked("scatter", ct_scatter(handle, Int64(dim), index.handle, source.handle))
    }

    /// A copy with `value` written along `dim` at `index` (`torch.scatter`).
    public func scatter(dim: Int, index: Tensor, value: Double) -> Tensor {
        checked("scatter", ct_scatter_value(handle, Int64(dim), index.handle, value))
    }

    /// A copy with `source` added along `dim` at `index` (`torch.scatter_add`).
    public func scatterAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        checked("scatterAdd", ct_scatter_add(handle, Int64(dim), index.handle, source.handle))
    }

    /// A copy with `value` where `mask` is true (`torch.masked_fill`).
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor {
        checked("maskedFill", ct_masked_fill(handle, mask.handle, value))
    }

    /// Elements of `a` where `condition` holds, else of `b`, broadcast (`torch.where`).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        checked("where", ct_where(condition.handle, a.handle, b.handle))
    }

    /// The tensor tiled `repeats` times along each dimension (`Tensor.repeat`).
    public func repeated(_ repeats: [Int]) -> Tensor {
        withInt64s(repeats) { r, n in checked("repeated", ct_repeat(handle, r, n)) }
    }

    /// The elements reversed along `dims` (`torch.flip`).
    public func flipped(_ dims: [Int]) -> Tensor {
        withInt64s(dims) { d, n in checked("flipped", ct_flip(handle, d, n)) }
    }

    /// Indices of non-zero elements, one row each (`torch.nonzero`).
    public func nonzero() -> Tensor { checked("nonzero", ct_nonzero(handle)) }

    /// The lower triangle (`torch.tril`).
    public func tril(_ diagonal: Int = 0) -> Tensor { checked("tril", ct_tril(handle, Int64(diagonal))) }

    /// The upper triangle (`torch.triu`).
    public func triu(_ diagonal: Int = 0) -> Tensor { checked("triu", ct_triu(handle, Int64(diagonal))) }

    /// A diagonal matrix from a vector, or a matrix's diagonal (`torch.diag`).
    public func diag(_ diagonal: Int = 0) -> Tensor { checked("diag", ct_diag(handle, Int64(diagonal))) }

    /// Sorted values and their indices along `dim` (`torch.sort`).
    public func sorted(dim: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: ct_tensor?
        let v = checked("sorted", ct_sort(handle, Int64(dim), descending ? 1 : 0, &idx))
        return (v, Tensor(owning: idx!))
    }

    /// The `k` largest (or smallest) values and their indices along `dim` (`torch.topk`).
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        var idx: ct_tensor?
        let v = checked("topk", ct_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, &idx))
        return (v, Tensor(owning: idx!))
    }
}
