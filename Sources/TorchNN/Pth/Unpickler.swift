import Torch

/// A value on the unpickler's stack. Lists and dicts are boxes so that memo references and
/// in-place `SETITEMS`/`APPENDS` see the same object, as in Python.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// A global the allow-list admits (e.g. a storage type), not yet called.
    case global(module: String, name: String)
    case tensor(Tensor)
    /// A storage loaded through a persistent id.
    case storage(Tensor)
    case mark

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
        case .mark: "MARK"
        }
    }
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(PickleValue, PickleValue)] = [] }

/// Why a pickle was refused or could not be read.
struct PickleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A restricted unpickler with the rules of `torch.load(weights_only=True)`: it builds only
/// dicts, lists, tuples, scalars, strings and tensors, and calls only allow-listed globals
/// (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`,
/// storage types, `torch.device`). Any other global is refused by name before anything is
/// called, so a hostile file cannot run code. Every read is bounds-checked: malformed input
/// throws, never crashes.
struct RestrictedUnpickler {
    /// Loads the storage a persistent id names: (storage type, key, location, element count).
    let loadStorage: (_ dtype: DType, _ key: String, _ numel: Int) throws -> Tensor

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
        "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16,
        "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool,
    ]

    static let allowedCalls: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state", "torch.device", "builtins.set", "builtins.frozenset",
    ]

    func isAllowed(module: String, name: String) -> Bool {
        if Self.allowedCalls.contains("\(module).\(name)") { return true }
        if module == "torch", Self.storageTypes[name] != nil { return true }
        return false
    }

    func load(_ bytes: [UInt8]) throws -> PickleValue {
        var stack: [PickleValue] = []
        var memo: [Int: PickleValue] = [:]
        var pos = 0

        func need(_ n: Int) throws {
            guard n >= 0, pos <= bytes.count - n else { throw PickleError("pickle truncated at byte \(pos)") }
        }
        func u8() throws -> Int { try need(1); defer { pos += 1 }; return Int(bytes[pos]) }
        func le(_ n: Int) throws -> UInt64 {
            try need(n)
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += n
            return v
        }
        func take(_ n: Int) throws -> [UInt8] {
            try need(n)
            defer { pos += n }
            return Array(bytes[pos..<pos + n])
        }
        func line() throws -> String {
            guard let end = bytes[pos...].firstIndex(of: 0x0A) else { throw PickleError("unterminated line at byte \(pos)") }
            defer { pos = end + 1 }
            return String(decoding: bytes[pos..<end], as: UTF8.self)
        }
        func utf8(_ raw: [UInt8]) throws -> String {
            guard let s = String(validating: raw, as: UTF8.self) else { throw PickleError("invalid UTF-8 string") }
            return s
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw PickleError("stack underflow at byte \(pos)") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let i = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else {
                throw PickleError("MARK missing at byte \(pos)")
            }
            let items = Array(stack[(i + 1)...])
            stack.removeSubrange(i...)
            return items
        }
        func top() throws -> PickleValue {
            guard let v = stack.last else { throw PickleError("stack underflow at byte \(pos)") }
            return v
        }
        func global(_ module: String, _ name: String) throws -> PickleValue {
            guard isAllowed(module: module, name: name) else {
                throw PickleError("refused to load global '\(module).\(name)': a weights file may only contain "
                    + "tensors and plain containers (the torch.load(weights_only=True) rules)")
            }
            return .global(module: module, name: name)
        }
        func setItems(_ target: PickleValue, _ items: [PickleValue]) throws {
            guard case let .dict(d) = target else { throw PickleError("SETITEM on a \(target.typeName)") }
            guard items.count % 2 == 0 else { throw PickleError("odd number of SETITEMS values") }
            for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
        }

        while true {
            let opcode = try u8()
            switch opcode {
            case 0x80: _ = try u8()  // PROTO
            case 0x95: _ = try le(8)  // FRAME
            case 0x2E: return try pop()  // STOP
            case 0x28: stack.append(.mark)  // MARK
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x4E: stack.append(.none)  // NONE
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try le(4)))))  // BININT
            case 0x4B: stack.append(.int(try u8()))  // BININT1
            case 0x4D: stack.append(.int(Int(try le(2))))  // BININT2
            case 0x8A:  // LONG1
                let n = try u8()
                guard n <= 8 else { throw PickleError("integer of \(n) bytes is too large") }
                if n == 0 { stack.append(.int(0)); break }
                var v = try le(n)
                if n < 8, v & (1 << (8 * UInt64(n) - 1)) != 0 { v |= ~0 << (8 * UInt64(n)) }
                stack.append(.int(Int(Int64(bitPattern: v))))
            case 0x47:  // BINFLOAT (big-endian)
                let raw = try take(8)
                stack.append(.float(Double(bitPattern: raw.reduce(0) { $0 << 8 | UInt64($1) })))
            case 0x58: stack.append(.string(try utf8(try take(Int(try le(4))))))  // BINUNICODE
            case 0x8C: stack.append(.string(try utf8(try take(try u8()))))  // SHORT_BINUNICODE
            case 0x8D:  // BINUNICODE8
                let n = try le(8)
                guard n <= UInt64(bytes.count) else { throw PickleError("string length \(n) past the end") }
                stack.append(.string(try utf8(try take(Int(n)))))
            case 0x43: stack.append(.bytes(try take(try u8())))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(try take(Int(try le(4)))))  // BINBYTES
            case 0x71: memo[try u8()] = try top()  // BINPUT
            case 0x72: memo[Int(try le(4))] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68, 0x6A:  // BINGET, LONG_BINGET
                let key = opcode == 0x68 ? try u8() : Int(try le(4))
                guard let v = memo[key] else { throw PickleError("memo key \(key) not found") }
                stack.append(v)
            case 0x74: stack.append(.tuple(try popMark()))  // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))  // TUPLE1
            case 0x86:  // TUPLE2
                let b = try pop(), a = try pop()
                stack.append(.tuple([a, b]))
            case 0x87:  // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(.tuple([a, b, c]))
            case 0x6C:  // LIST
                let l = PickleList()
                l.items = try popMark()
                stack.append(.list(l))
            case 0x64:  // DICT
                let d = PickleDict()
                let items = try popMark()
                try setItems(.dict(d), items)
                stack.append(.dict(d))
            case 0x61:  // APPEND
                let v = try pop()
                guard case let .list(l) = try top() else { throw PickleError("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                guard case let .list(l) = try top() else { throw PickleError("APPENDS to a non-list") }
                l.items += items
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                try setItems(try top(), [k, v])
            case 0x75:  // SETITEMS
                let items = try popMark()
                try setItems(try top(), items)
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case let .string(m) = module, case let .string(n) = name else {
                    throw PickleError("STACK_GLOBAL needs two strings")
                }
                stack.append(try global(m, n))
            case 0x51:  // BINPERSID
                stack.append(try persistentLoad(try pop()))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try call(callable, args))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try call(cls, args))
            case 0x62:  // BUILD: state for the object below (e.g. an OrderedDict's _metadata); ignored
                _ = try pop()
                _ = try top()
            default:
                throw PickleError(String(format: "unsupported pickle opcode 0x%02x at byte %d", opcode, pos - 1))
            }
        }
    }

    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(items) = pid, items.count == 5, case let .string(kind) = items[0], kind == "storage",
              case let .global(module, typeName) = items[1], module == "torch",
              let dtype = Self.storageTypes[typeName], case let .string(key) = items[2],
              case let .int(numel) = items[4], numel >= 0 else {
            throw PickleError("unsupported persistent id (expected ('storage', torch.<Type>Storage, key, location, numel))")
        }
        return .storage(try loadStorage(dtype, key, numel))
    }

    private func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(module, name) = callable else {
            throw PickleError("cannot call a \(callable.typeName)")
        }
        guard case let .tuple(a) = args else { throw PickleError("\(module).\(name): arguments are not a tuple") }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let d = PickleDict()
            if let first = a.first, case let .list(pairs) = first {
                for p in pairs.items {
                    guard case let .tuple(kv) = p, kv.count == 2 else { throw PickleError("OrderedDict: bad item") }
                    d.items.append((kv[0], kv[1]))
                }
            }
            return .dict(d)
        case "torch._utils._rebuild_tensor_v2":
            return .tensor(try rebuildTensor(a))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = a.first, case let .tensor(t) = first else {
                throw PickleError("_rebuild_parameter: expected a tensor")
            }
            return .tensor(t)
        case "torch.device":
            guard let first = a.first, case let .string(s) = first else { throw PickleError("torch.device: bad argument") }
            return .string(s)
        case "builtins.set", "builtins.frozenset":
            let l = PickleList()
            if let first = a.first, case let .list(items) = first { l.items = items.items }
            return .list(l)
        default:
            throw PickleError("\(module).\(name) cannot be called")
        }
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case let .tuple(items) = v else { throw PickleError("_rebuild_tensor_v2: \(what) is not a tuple") }
        return try items.map {
            guard case let .int(i) = $0, i >= 0 else { throw PickleError("_rebuild_tensor_v2: bad \(what) entry") }
            return i
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`:
    /// a strided view of the storage, checked to lie inside it, then copied.
    private func rebuildTensor(_ a: [PickleValue]) throws -> Tensor {
        guard a.count >= 4, case let .storage(storage) = a[0], case let .int(offset) = a[1], offset >= 0 else {
            throw PickleError("_rebuild_tensor_v2: unexpected arguments")
        }
        let size = try ints(a[2], "size"), stride = try ints(a[3], "stride")
        guard size.count == stride.count else { throw PickleError("_rebuild_tensor_v2: size and stride differ in length") }
        let available = storage.count
        if size.contains(0) {
            return Tensor.zeros(size, dtype: storage.dtype)
        }
        var last = offset
        for (s, st) in zip(size, stride) {
            let (m, o1) = (s - 1).multipliedReportingOverflow(by: st)
            let (sum, o2) = last.addingReportingOverflow(m)
            guard !o1, !o2 else { throw PickleError("_rebuild_tensor_v2: size overflows") }
            last = sum
        }
        guard last < available else {
            throw PickleError("tensor of size \(size), stride \(stride), offset \(offset) reaches past its storage "
                + "of \(available) elements")
        }
        return storage.asStrided(size: size, stride: stride, storageOffset: offset).clone()
    }
}
