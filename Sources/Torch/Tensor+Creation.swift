import CTorch

extension Tensor {
    /// A tensor holding `scalars` with the given shape (a 1-D tensor when `shape` is nil).
    ///
    /// Traps if the shape does not match the number of scalars; use
    /// ``init(bytes:shape:dtype:)`` for data that comes from users.
    public convenience init<T: TensorElement>(_ scalars: [T], shape: [Int]? = nil) {
        let shape = shape ?? [scalars.count]
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor(_:shape:): shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        let h = scalars.withUnsafeBytes { raw in
            withInt64s(shape) { s, n in
                ct_from_buffer(raw.baseAddress, raw.count, s, n, T.dtype.rawValue)
            }
        }
        guard let h else { torchTrap("Tensor(_:shape:)") }
        self.init(owning: h)
    }

    /// A 0-dimensional tensor holding one value.
    public convenience init<T: TensorElement>(scalar: T) {
        self.init([scalar], shape: [])
    }

    /// A 0-dimensional float32 tensor.
    public convenience init(_ value: Float) { self.init(scalar: value) }

    /// A 0-dimensional float64 tensor.
    public convenience init(_ value: Double) { self.init(scalar: value) }

    /// A CPU tensor whose elements are copied from raw little-endian bytes.
    ///
    /// - Throws: `TorchError.invalidArgument` if `bytes.count` is not
    ///   `shape.product × dtype.itemSize` or a dimension is negative.
    public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError.invalidArgument("negative dimension in shape \(shape)")
        }
        let (elements, overflow) = shape.reduce((1, false)) { acc, d in
            let (m, o) = acc.0.multipliedReportingOverflow(by: d)
            return (m, acc.1 || o)
        }
        let (need, o2) = elements.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, !o2, need == bytes.count else {
            throw TorchError.invalidArgument(
                "shape \(shape) of \(dtype) needs \(overflow || o2 ? "too many" : String(need)) bytes, got \(bytes.count)")
        }
        let h = withInt64s(shape) { s, n in ct_from_buffer(bytes.baseAddress, bytes.count, s, n, dtype.rawValue) }
        guard let h else { throw TorchError.libtorch(op: "Tensor(bytes:shape:dtype:)", message: lastTorchError) }
        self.init(owning: h)
    }

    /// An uninitialised tensor.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        withInt64s(shape) { s, n in
            checked("empty", ct_empty(s, n, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// A tensor of zeros (`torch.zeros`).
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        withInt64s(shape) { s, n in
            checked("zeros", ct_zeros(s, n, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// A tensor of ones (`torch.ones`).
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        withInt64s(shape) { s, n in
            checked("ones", ct_ones(s, n, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// A tensor filled with `value` (`torch.full`).
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        withInt64s(shape) { s, n in
            checked("full", ct_full(s, n, value, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// An integer tensor filled with `value`, exact for all Int64 values.
    public static func full(_ shape: [Int], integer value: Int, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        withInt64s(shape) { s, n in
            checked("full", ct_full_int(s, n, Int64(value), dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// Values from `start` up to (excluding) `end` in steps of `step` (`torch.arange`).
    ///
    /// As in PyTorch, integer arguments give int64 and fractional ones (`arange(0, 1, step: 0.1)`)
    /// give float32 unless `dtype` says otherwise.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32,
                              device: Device = .cpu) -> Tensor {
        checked("arange", ct_arange(start, end, step, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
    }

    /// Values from 0 up to (excluding) `end` (`torch.arange(end)`), float32 by default.
    public static func arange(_ end: Double, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        arange(0, end, step: 1, dtype: dtype, device: device)
    }

    /// Integers from `start` up to (excluding) `end` in steps of `step` (`torch.arange`), int64 by default.
    public static func arange(_ start: Int, _ end: Int, step: Int = 1, dtype: DType = .int64,
                              device: Device = .cpu) -> Tensor {
        arange(Double(start), Double(end), step: Double(step), dtype: dtype, device: device)
    }

    /// Integers from 0 up to (excluding) `end` (`torch.arange(end)`), int64 by default.
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        arange(0, Double(end), step: 1, dtype: dtype, device: device)
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive (`torch.linspace`).
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32,
                                device: Device = .cpu) -> Tensor {
        checked("linspace", ct_linspace(start, end, Int64(steps), dtype.rawValue, device.kind.rawValue,
                                        Int32(device.index)))
    }

    /// An identity matrix of `n` rows and `m` (default `n`) columns (`torch.eye`).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        checked("eye", ct_eye(Int64(n), Int64(m ?? n), dtype.rawValue, device.kind.rawValue, Int32(device.index)))
    }

    /// Uniform samples in [0, 1) (`torch.rand`), from `generator` or else the global one.
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                            generator: Generator? = nil) -> Tensor {
        withInt64s(shape) { s, n in
            if let generator {
                return checked("rand", ct_rand_gen(s, n, dtype.rawValue, generator.handle)).onDevice(device)
            }
            return checked("rand", ct_rand(s, n, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// Standard normal samples (`torch.randn`), from `generator` or else the global one; the
    /// same seed gives the same values as Python's `torch.randn`.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                             generator: Generator? = nil) -> Tensor {
        withInt64s(shape) { s, n in
            if let generator {
                return checked("randn", ct_randn_gen(s, n, dtype.rawValue, generator.handle)).onDevice(device)
            }
            return checked("randn", ct_randn(s, n, dtype.rawValue, device.kind.rawValue, Int32(device.index)))
        }
    }

    /// Integers uniformly drawn from `low..<high` (`torch.randint`), from `generator` or else
    /// the global one.
    public static func randint(_ low: Int = 0, _ high: Int, _ shape: [Int], dtype: DType = .int64,
                               device: Device = .cpu, generator: Generator? = nil) -> Tensor {
        withInt64s(shape) { s, n in
            if let generator {
                return checked("randint", ct_randint_gen(Int64(low), Int64(high), s, n, dtype.rawValue,
                                                         generator.handle)).onDevice(device)
            }
            return checked("randint", ct_randint(Int64(low), Int64(high), s, n, dtype.rawValue, device.kind.rawValue,
                                                 Int32(device.index)))
        }
    }

    /// A random permutation of `0..<n` (`torch.randperm`), from `generator` or else the
    /// global one.
    public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu,
                                generator: Generator? = nil) -> Tensor {
        if let generator {
            return checked("randperm", ct_randperm_gen(Int64(n), dtype.rawValue, generator.handle)).onDevice(device)
        }
        return checked("randperm", ct_randperm(Int64(n), dtype.rawValue, device.kind.rawValue, Int32(device.index)))
    }

    /// This tensor on `device` (itself if it is already there).
    private func onDevice(_ device: Device) -> Tensor { device == .cpu ? self : to(device: device) }

    /// Zeros with this tensor's shape, dtype and device.
    public func zerosLike() -> Tensor { checked("zerosLike", ct_zeros_like(handle)) }
    /// Ones with this tensor's shape, dtype and device.
    public func onesLike() -> Tensor { checked("onesLike", ct_ones_like(handle)) }
    /// `value` with this tensor's shape, dtype and device.
    public func fullLike(_ value: Double) -> Tensor { checked("fullLike", ct_full_like(handle, value)) }
    /// Uniform [0, 1) samples with this tensor's shape, dtype and device.
    public func randLike(generator: Generator? = nil) -> Tensor {
        guard let generator else { return checked("randLike", ct_rand_like(handle)) }
        return Tensor.rand(shape, dtype: dtype, device: device, generator: generator)
    }
    /// Standard normal samples with this tensor's shape, dtype and device.
    public func randnLike(generator: Generator? = nil) -> Tensor {
        guard let generator else { return checked("randnLike", ct_randn_like(handle)) }
        return Tensor.randn(shape, dtype: dtype, device: device, generator: generator)
    }
    /// Bernoulli samples with this tensor as probabilities, from `generator` or else the
    /// global one.
    public func bernoulli(generator: Generator? = nil) -> Tensor {
        guard let generator else { return checked("bernoulli", ct_bernoulli(handle)) }
        if device == .cpu { return checked("bernoulli", ct_bernoulli_gen(handle, generator.handle)) }
        let host = to(device: .cpu)
        return withExtendedLifetime(host) { checked("bernoulli", ct_bernoulli_gen(host.handle, generator.handle)) }
            .to(device: device)
    }

    // MARK: In-place fills (used by initialisers and optimizers)

    /// Fills with U(low, high) samples in place.
    @discardableResult public func uniform_(_ low: Double = 0, _ high: Double = 1, generator: Generator? = nil) -> Tensor {
        guard let generator else { check("uniform_", ct_uniform_(handle, low, high)); return self }
        return fillOnCPU { check("uniform_", ct_uniform_gen_($0.handle, low, high, generator.handle)) }
    }
    /// Fills with N(mean, std²) samples in place.
    @discardableResult public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        guard let generator else { check("normal_", ct_normal_(handle, mean, std)); return self }
        return fillOnCPU { check("normal_", ct_normal_gen_($0.handle, mean, std, generator.handle)) }
    }

    /// Runs an in-place CPU fill on this tensor, or (on another device) on a CPU tensor of the
    /// same shape and dtype that is then copied in: generators live on the CPU.
    private func fillOnCPU(_ fill: (Tensor) -> Void) -> Tensor {
        if device == .cpu { fill(self); return self }
        let host = Tensor.empty(shape, dtype: dtype, device: .cpu)
        fill(host)
        return copy_(host)
    }
    /// Fills with `value` in place.
    @discardableResult public func fill_(_ value: Double) -> Tensor {
        check("fill_", ct_fill_(handle, value)); return self
    }
    /// Fills with zeros in place.
    @discardableResult public func zero_() -> Tensor {
        check("zero_", ct_zero_(handle)); return self
    }
    /// Copies `source` (broadcast, converted) into this tensor in place.
    @discardableResult public func copy_(_ source: Tensor) -> Tensor {
        check("copy_", ct_copy_(handle, source.handle)); return self
    }
}
