import CTorch

/// The element type of a tensor. Raw values are libtorch's `at::ScalarType` codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case int16 = 2
    case int32 = 3
    case int64 = 4
    case float16 = 5
    case float32 = 6
    case float64 = 7
    case bool = 11
    case bfloat16 = 15

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .int16, .float16, .bfloat16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    /// True for float16, bfloat16, float32 and float64.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }

    /// The name PyTorch prints, e.g. `torch.float32`.
    public var description: String {
        switch self {
        case .uint8: "torch.uint8"
        case .int8: "torch.int8"
        case .int16: "torch.int16"
        case .int32: "torch.int32"
        case .int64: "torch.int64"
        case .float16: "torch.float16"
        case .float32: "torch.float32"
        case .float64: "torch.float64"
        case .bool: "torch.bool"
        case .bfloat16: "torch.bfloat16"
        }
    }

    /// The dtype name used by the safetensors format (`F32`, `BF16`, …).
    public var safetensorsName: String {
        switch self {
        case .uint8: "U8"
        case .int8: "I8"
        case .int16: "I16"
        case .int32: "I32"
        case .int64: "I64"
        case .float16: "F16"
        case .float32: "F32"
        case .float64: "F64"
        case .bool: "BOOL"
        case .bfloat16: "BF16"
        }
    }

    /// The dtype for a safetensors dtype name, or nil if HydraNet does not support it.
    public init?(safetensorsName name: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }
}

/// A Swift type whose values can be stored in a tensor with the same memory layout.
public protocol TensorElement: Sendable {
    /// The tensor dtype with this type's layout.
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
#if !(os(macOS) && arch(x86_64))
extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif
