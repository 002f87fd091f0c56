import Torch

/// A value the restricted unpickler builds. Containers are classes so that memo references
/// and in-place `SETITEMS`/`APPENDS` see the same object, as in Python; each knows its
/// nesting depth, which the unpickler bounds as the structure grows (so neither building
/// nor releasing a hostile structure can overflow the stack).
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    /// A global the allow-list admits (e.g. a storage type), not yet called.
    case global(module: String, name: String)
    /// A tensor described by `_rebuild_tensor_v2`, validated but not yet built.
    case tensor(PthTensor)
    /// A storage named by a persistent id, not yet read.
    case storage(PthStorage)

    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case let .global(m, n): "\(m).\(n)"
        case .tensor: "Tensor"
        case .storage: "Storage"
        }
    }

    /// Levels of containers: 0 for a scalar, 1 for a container of scalars.
    var depth: Int {
        switch self {
        case let .tuple(t): t.depth
        case let .list(l): l.depth
        case let .dict(d): d.depth
        default: 0
        }
    }

    /// The mutable container this value is, if any.
    var container: PickleContainer? {
        switch self {
        case let .list(l): l
        case let .dict(d): d
        default: nil
        }
    }
}

/// What lists and dicts share: their depth, and whether another container holds them.
/// A container is sealed once nested: changing it afterwards could make a cycle or deepen
/// its parents behind the unpickler's back (Python's pickler never does so for acyclic data).
class PickleContainer {
    var depth = 1
    var isNested = false
}

final class PickleList: PickleContainer {
    var items: [PickleValue] = []
}

final class PickleDict: PickleContainer {
    var items: [(PickleValue, PickleValue)] = []
}

/// An immutable tuple with its depth computed once.
final class PickleTuple {
    let items: [PickleValue]
    let depth: Int

    init(_ items: [PickleValue], depth: Int) {
        self.items = items
        self.depth = depth
    }
}

/// Why a `.pth` file was refused or could not be read (reported with the file's name).
struct PthFormatError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
