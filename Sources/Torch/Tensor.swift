import CTorch

/// An n-dimensional array backed by one libtorch `at::Tensor`.
///
/// `Tensor` has reference semantics, like `torch.Tensor`: copies of a `Tensor` value refer
/// to the same tensor, and in-place operations are visible through all of them. The
/// underlying handle is released when the last reference goes away.
///
/// Operations do not throw: an op that libtorch rejects inside model code (mismatched
/// shapes, say) is a programming error and traps with the op's name and libtorch's
/// message. Code that feeds user input into tensors validates it first and throws.
public final class Tensor: @unchecked Sendable {
    /// The owned shim handle.
    let handle: ct_tensor

    /// Takes ownership of a handle returned by the shim.
    init(owning handle: ct_tensor) {
        self.handle = handle
    }

    deinit { ct_free(handle) }

    /// The number of dimensions.
    public var rank: Int { Int(ct_dim(handle)) }

    /// The size of each dimension.
    public var shape: [Int] {
        let n = rank
        guard n > 0 else { return [] }
        var out = [Int64](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { ct_sizes(handle, $0.baseAddress) }
        return out.map(Int.init)
    }

    /// The size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    /// Strides in elements, as `torch.Tensor.stride()`.
    public var strides: [Int] {
        let n = rank
        guard n > 0 else { return [] }
        var out = [Int64](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { ct_strides(handle, $0.baseAddress) }
        return out.map(Int.init)
    }

    /// The number of elements.
    public var count: Int { Int(ct_numel(handle)) }

    /// The offset of the first element in the underlying storage, in elements.
    public var storageOffset: Int { Int(ct_storage_offset(handle)) }

    /// The element type.
    public var dtype: DType {
        let raw = ct_dtype(handle)
        guard let d = DType(rawValue: raw) else { fatalError("unsupported libtorch dtype code \(raw)") }
        return d
    }

    /// The device holding the tensor's memory.
    public var device: Device {
        let kind = Device.Kind(rawValue: ct_device_type(handle)) ?? .cpu
        return kind == .cpu ? .cpu : .cuda(Int(ct_device_index(handle)))
    }

    /// Whether the elements are laid out contiguously in row-major order.
    public var isContiguous: Bool { ct_is_contiguous(handle) != 0 }

    /// A contiguous tensor with the same values (self if already contiguous).
    public func contiguous() -> Tensor { checked("contiguous", ct_contiguous(handle)) }

    /// A copy with its own storage (`torch.clone`; differentiable).
    public func clone() -> Tensor { checked("clone", ct_clone(handle)) }

    /// The tensor converted to `dtype` (self if it already has it).
    public func to(dtype: DType) -> Tensor { checked("to(dtype:)", ct_to_dtype(handle, dtype.rawValue)) }

    /// The tensor moved to `device` (self if already there).
    public func to(device: Device, nonBlocking: Bool = false) -> Tensor {
        checked("to(device:)", ct_to_device(handle, device.kind.rawValue, Int32(device.index), nonBlocking ? 1 : 0))
    }

    /// The tensor on `device` with `dtype`.
    public func to(_ device: Device, dtype: DType) -> Tensor { to(device: device).to(dtype: dtype) }

    /// A new reference to the same tensor (same storage, same autograd identity). Useful
    /// when an API needs a distinct handle; ordinary Swift assignment already shares.
    public func alias() -> Tensor { checked("alias", ct_shallow_copy(handle)) }

    // MARK: Reading values back

    /// The elements, in row-major order, converted to `T`'s dtype if needed.
    public func scalars<T: TensorElement>(as type: T.Type = T.self) -> [T] {
        let src = (dtype == T.dtype ? self : to(dtype: T.dtype))
        let n = count
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            let bytes = n * MemoryLayout<T>.stride
            check("scalars", ct_copy_to_buffer(src.handle, buffer.baseAddress, bytes))
            initialized = n
        }
    }

    /// The raw bytes of the elements in row-major order (little-endian, as stored).
    public func contiguousBytes() -> [UInt8] {
        let n = count * dtype.itemSize
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            check("contiguousBytes", ct_copy_to_buffer(handle, buffer.baseAddress, n))
            initialized = n
        }
    }

    /// Copies the raw element bytes into `buffer`, whose size must be `count * itemSize`.
    public func copyBytes(to buffer: UnsafeMutableRawBufferPointer) throws {
        try tryCheck("copyBytes", ct_copy_to_buffer(handle, buffer.baseAddress, buffer.count))
    }

    /// The value of a one-element tensor as a Double (`torch.Tensor.item()`).
    public func item() -> Double {
        var v = 0.0
        check("item", ct_item_double(handle, &v))
        return v
    }

    /// The value of a one-element tensor as an Int.
    public func itemInt() -> Int {
        var v: Int64 = 0
        check("itemInt", ct_item_int64(handle, &v))
        return Int(v)
    }

    /// The value of a one-element tensor as a Float.
    public func itemFloat() -> Float { Float(item()) }

    /// Whether both tensors have the same shape and elements (`torch.equal`).
    public func equal(_ other: Tensor) -> Bool {
        var r: Int32 = 0
        check("equal", ct_equal(handle, other.handle, &r))
        return r != 0
    }

    /// `torch.allclose`: |self − other| ≤ atol + rtol·|other| elementwise.
    public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Bool {
        var r: Int32 = 0
        check("allClose", ct_allclose(handle, other.handle, rtol, atol, equalNaN ? 1 : 0, &r))
        return r != 0
    }
}
