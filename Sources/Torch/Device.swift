import CTorch

/// Where a tensor's memory lives: the CPU or one CUDA device.
///
/// CUDA is detected at run time (libtorch_cuda is loaded if it is installed); nothing
/// assumes a GPU exists.
public struct Device: Sendable, Hashable, CustomStringConvertible {
    /// The kind of device.
    public enum Kind: Int32, Sendable { case cpu = 0, cuda = 1 }

    public let kind: Kind
    /// The device ordinal (`-1` means "the current device" for CUDA, always -1 for CPU).
    public let index: Int

    public static let cpu = Device(kind: .cpu, index: -1)

    /// CUDA device `index`.
    public static func cuda(_ index: Int = 0) -> Device { Device(kind: .cuda, index: index) }

    init(kind: Kind, index: Int) {
        self.kind = kind
        self.index = index
    }

    /// Parses `cpu`, `cuda`, `cuda:N` or `auto` (CUDA 0 if available, else CPU) and checks
    /// that the device exists on this machine.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        switch lower {
        case "cpu": self = .cpu
        case "auto": self = Device.isCUDAAvailable ? .cuda(0) : .cpu
        case "cuda", "gpu": self = .cuda(0)
        default:
            guard lower.hasPrefix("cuda:"), let n = Int(lower.dropFirst(5)), n >= 0 else {
                throw TorchError.invalidArgument("unknown device '\(text)': use cpu, cuda, cuda:N or auto")
            }
            self = .cuda(n)
        }
        if kind == .cuda {
            guard Device.isCUDAAvailable else {
                throw TorchError.invalidArgument("device '\(text)': CUDA is not available on this machine")
            }
            guard index < Device.cudaDeviceCount else {
                throw TorchError.invalidArgument(
                    "device '\(text)': this machine has \(Device.cudaDeviceCount) CUDA device(s)")
            }
        }
    }

    /// Whether libtorch can use a CUDA device here.
    public static var isCUDAAvailable: Bool { cudaLoaded }

    /// The number of CUDA devices (0 without CUDA).
    public static var cudaDeviceCount: Int { cudaLoaded ? Int(ct_cuda_device_count()) : 0 }

    /// Waits for all work queued on this CUDA device (no-op on CPU).
    public func synchronize() {
        if kind == .cuda { _ = ct_cuda_synchronize(Int32(max(index, 0))) }
    }

    /// `cpu` or `cuda:N`, as PyTorch prints it.
    public var description: String {
        switch kind {
        case .cpu: "cpu"
        case .cuda: index < 0 ? "cuda" : "cuda:\(index)"
        }
    }
}

/// Loads libtorch_cuda once (if installed) and remembers whether CUDA is usable.
private let cudaLoaded: Bool = ct_cuda_init() != 0
