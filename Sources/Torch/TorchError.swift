import CTorch

/// Errors HydraNet's Torch layer throws for problems a caller can act on.
public enum TorchError: Error, CustomStringConvertible, Equatable {
    /// libtorch rejected an operation; `op` names it, `message` is libtorch's text.
    case libtorch(op: String, message: String)
    /// An argument fed by the user is invalid.
    case invalidArgument(String)
    /// A file could not be read or written, or its content is malformed.
    case file(path: String, message: String)

    public var description: String {
        switch self {
        case let .libtorch(op, message): "\(op): \(message)"
        case let .invalidArgument(message): message
        case let .file(path, message): "\(path): \(message)"
        }
    }
}

/// The last libtorch error message on this thread.
var lastTorchError: String { String(cString: ct_last_error()) }

/// Wraps a tensor handle returned by a shim call; a null handle is a programming error and
/// traps with the op's name and libtorch's message.
@inline(__always)
func checked(_ op: StaticString, _ handle: ct_tensor?) -> Tensor {
    guard let handle else { torchTrap(op) }
    return Tensor(owning: handle)
}

/// Traps if a shim call returned a non-zero status.
@inline(__always)
func check(_ op: StaticString, _ status: Int32) {
    if status != 0 { torchTrap(op) }
}

/// Wraps a handle, throwing `TorchError.libtorch` instead of trapping.
@inline(__always)
func tryChecked(_ op: String, _ handle: ct_tensor?) throws -> Tensor {
    guard let handle else { throw TorchError.libtorch(op: op, message: lastTorchError) }
    return Tensor(owning: handle)
}

/// Throws `TorchError.libtorch` if a shim call returned a non-zero status.
@inline(__always)
func tryCheck(_ op: String, _ status: Int32) throws {
    if status != 0 { throw TorchError.libtorch(op: op, message: lastTorchError) }
}

func torchTrap(_ op: StaticString) -> Never {
    fatalError("\(op): \(lastTorchError)")
}

/// Calls `body` with a C array of Int64 values.
@inline(__always)
func withInt64s<R>(_ values: [Int], _ body: (UnsafePointer<Int64>?, Int32) throws -> R) rethrows -> R {
    let converted = values.map(Int64.init)
    return try converted.withUnsafeBufferPointer { try body($0.baseAddress, Int32($0.count)) }
}

/// Calls `body` with a C array of borrowed handles (NULL for nil).
@inline(__always)
func withHandles<R>(_ tensors: [Tensor?], _ body: (UnsafePointer<ct_tensor?>?, Int32) -> R) -> R {
    let handles: [ct_tensor?] = tensors.map { $0?.handle }
    return withExtendedLifetime(tensors) {
        handles.withUnsafeBufferPointer { body($0.baseAddress, Int32($0.count)) }
    }
}
