import CTorch

/// Throwing variants of ops that parsers of untrusted files call.
///
/// The ordinary ops trap when libtorch rejects them (a programming error in model code).
/// Code that builds tensors from a file validates sizes first, and then calls these, so
/// that anything the validation missed (an allocation that fails, say) still becomes a
/// `TorchError.libtorch` the caller can report instead of a crash.
extension Tensor {
    /// `torch.as_strided`, throwing instead of trapping. The view must lie inside the storage.
    public func tryAsStrided(size: [Int], stride: [Int], storageOffset: Int = 0) throws -> Tensor {
        guard size.count == stride.count else {
            throw TorchError.invalidArgument("asStrided: \(size.count) sizes, \(stride.count) strides")
        }
        return try withInt64s(size) { s, n in
            try withInt64s(stride) { st, _ in
                try tryChecked("asStrided", ct_as_strided(handle, s, st, n, Int64(storageOffset)))
            }
        }
    }

    /// A copy with its own storage (`torch.clone`), throwing instead of trapping.
    public func tryClone() throws -> Tensor {
        try tryChecked("clone", ct_clone(handle))
    }

    /// A CPU tensor of zeros (`torch.zeros`), throwing instead of trapping.
    public static func tryZeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError.invalidArgument("negative dimension in shape \(shape)")
        }
        return try withInt64s(shape) { s, n in
            try tryChecked("zeros", ct_zeros(s, n, dtype.rawValue, Device.cpu.kind.rawValue, Int32(Device.cpu.index)))
        }
    }
}

/// Overflow-checked size arithmetic for validating tensor layouts read from files.
public enum TensorLayout {
    /// The number of elements of `shape`, or nil if a dimension is negative or the product
    /// of the non-zero dimensions overflows `Int` (libtorch refuses such shapes even when
    /// another dimension is 0).
    public static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        var hasZero = false
        for d in shape {
            guard d >= 0 else { return nil }
            if d == 0 {
                hasZero = true
                continue
            }
            let (m, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            product = m
        }
        return hasZero ? 0 : product
    }

    /// The bytes `shape` of `dtype` takes, or nil if the count overflows (see ``elementCount(_:)``;
    /// the non-zero dimensions times the element size must fit too).
    public static func byteCount(_ shape: [Int], dtype: DType) -> Int? {
        guard let n = elementCount(shape) else { return nil }
        let nonZero = shape.reduce(1) { $1 == 0 ? $0 : $0 &* $1 }  // fits: elementCount checked it
        guard !nonZero.multipliedReportingOverflow(by: dtype.itemSize).overflow else { return nil }
        return n * dtype.itemSize
    }

    /// The index one past the last storage element a strided view reaches:
    /// `offset + Σ (size_i − 1)·stride_i + 1`, or 0 for an empty view. Nil if a size,
    /// stride or the offset is negative, or the arithmetic overflows.
    public static func storageExtent(size: [Int], stride: [Int], offset: Int) -> Int? {
        guard size.count == stride.count, offset >= 0 else { return nil }
        guard size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else { return nil }
        if size.contains(0) { return 0 }
        var last = offset
        for (s, st) in zip(size, stride) {
            let (m, o1) = (s - 1).multipliedReportingOverflow(by: st)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { return nil }
            last = sum
        }
        let (end, o3) = last.addingReportingOverflow(1)
        return o3 ? nil : end
    }
}
