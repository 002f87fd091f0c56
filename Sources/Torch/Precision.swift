import CTorch

/// The arithmetic a forward pass runs in.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Everything in float32.
    case fp32
    /// Mixed precision with bfloat16 autocast (`torch.autocast(dtype=torch.bfloat16)`):
    /// convolutions, linear layers and matrix products in bfloat16 (on CPUs with AMX or
    /// AVX-512-BF16, about twice float32's speed), reductions, losses and normalisation
    /// statistics in float32; weights, gradients and optimizer state stay float32.
    case bf16
}

/// Runs `body` with autocast on `device` (`torch.autocast(device_type, dtype)`): operations
/// on PyTorch's autocast lists run in `dtype` (bfloat16 or float16), those on its fp32 list
/// in float32, the rest in their inputs' widest type. `enabled: false` turns autocast off
/// inside an enclosing region. Run the forward inside and backward outside, as in PyTorch.
/// Per thread; keep the body synchronous.
public func withAutocast<R>(device: Device = .cpu, dtype: DType = .bfloat16, enabled: Bool = true,
                            _ body: () throws -> R) rethrows -> R {
    let guardHandle = ct_autocast_enter(device.kind.rawValue, dtype.rawValue, enabled ? 1 : 0)
    defer { ct_autocast_exit(guardHandle) }
    return try body()
}

/// Runs `body` in `precision` on `device` (autocast for ``Precision/bf16``).
public func withPrecision<R>(_ precision: Precision, device: Device = .cpu, _ body: () throws -> R) rethrows -> R {
    switch precision {
    case .fp32: return try body()
    case .bf16: return try withAutocast(device: device, dtype: .bfloat16, body)
    }
}

/// Whether autocast is on for `device` on this thread.
public func isAutocastEnabled(device: Device = .cpu) -> Bool { ct_is_autocast_enabled(device.kind.rawValue) != 0 }

extension Tensor {
    /// The same values laid out channels-last (NHWC strides; `memory_format=torch.channels_last`)
    /// — a 4-D tensor only; oneDNN's convolutions run faster on it. Shape and indexing are
    /// unchanged.
    public func channelsLast() -> Tensor { checked("channelsLast", ct_contiguous_format(handle, 1)) }

    /// Whether this 4-D tensor is laid out channels-last.
    public var isChannelsLast: Bool { ct_is_channels_last(handle) != 0 }

    /// Replaces this tensor's data by `source`'s, keeping its identity (a parameter stays
    /// the same object for the optimizer and the module) — `tensor.data = source`.
    public func setData(_ source: Tensor) throws {
        try tryCheck("setData", ct_set_data(handle, source.handle))
    }
}

extension Precision {
    /// Whether `device` computes bfloat16 natively: a CUDA device, or a CPU whose flags (Linux
    /// `/proc/cpuinfo`) include AMX-BF16 or AVX512-BF16. Elsewhere oneDNN emulates bfloat16
    /// through float32 conversions and ``bf16`` is several times *slower* than ``fp32``
    /// (measured: 7× for a ResNet-18 training step on a 2-core AVX2-only AMD EPYC).
    /// Unknown (no `/proc/cpuinfo`): false.
    public static func hasNativeBF16(on device: Device = .cpu) -> Bool {
        if device.kind == .cuda { return true }
        return cpuFlags.contains("amx_bf16") || cpuFlags.contains("avx512_bf16")
    }

    /// The CPU's feature flags (the first processor's `flags` line of `/proc/cpuinfo`).
    public static let cpuFlags: Set<String> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()
}
