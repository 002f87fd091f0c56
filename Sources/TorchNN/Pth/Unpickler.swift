import Torch

/// A restricted unpickler with the rules of `torch.load(weights_only=True)`: it builds only
/// dicts, lists, tuples, scalars, strings and tensors, and calls only allow-listed globals
/// (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`,
/// storage types, `torch.device`). Any other global is refused by name before anything is
/// called, so a hostile file cannot run code.
///
/// It runs no libtorch op: storages and tensors come out as validated descriptions
/// (``PthStorage``, ``PthTensor``) for ``PthFile`` to build once the whole file has passed.
/// Every read is bounds-checked, and the work is bounded by ``PthFile/Limits``: opcodes,
/// memo entries, nesting depth (checked as each container grows; cyclic structures are
/// refused), tensors and dimensions. Malformed input throws, never crashes.
struct RestrictedUnpickler {
    let limits: PthFile.Limits

    /// Storages by key, as the persistent ids declared them.
    private(set) var storages: [String: PthStorage] = [:]
    /// Tensors rebuilt so far.
    private(set) var tensorCount = 0

    init(limits: PthFile.Limits) {
        self.limits = limits
    }

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

    /// Runs the pickle to its STOP opcode and returns the value it leaves.
    mutating func load(_ bytes: UnsafeRawBufferPointer) throws -> PickleValue {
        var machine = Machine(bytes: bytes)
        var opcodes = 0
        while true {
            opcodes += 1
            guard opcodes <= limits.maxOpcodes else {
                throw PthFormatError("the pickle runs more than \(limits.maxOpcodes) opcodes")
            }
            if let result = try step(&machine) { return result }
        }
    }

    /// The unpickler's state: input position, the value stack and the stacks MARK saved
    /// (Python's metastack, so a mark is never a value), and the memo.
    private struct Machine {
        let bytes: UnsafeRawBufferPointer
        var pos = 0
        var stack: [PickleValue] = []
        var metastack: [[PickleValue]] = []
        var memo: [Int: PickleValue] = [:]

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func need(_ n: Int) throws {
            guard n >= 0, n <= bytes.count - pos else { throw PthFormatError("pickle truncated at byte \(pos)") }
        }
        mutating func u8() throws -> Int {
            try need(1)
            defer { pos += 1 }
            return Int(bytes[pos])
        }
        mutating func le(_ n: Int) throws -> UInt64 {
            try need(n)
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += n
            return v
        }
        mutating func take(_ n: Int) throws -> [UInt8] {
            try need(n)
            defer { pos += n }
            return Array(bytes[pos..<pos + n])
        }
        mutating func line() throws -> String {
            guard let end = bytes[pos...].firstIndex(of: 0x0A) else {
                throw PthFormatError("unterminated line at byte \(pos)")
            }
            defer { pos = end + 1 }
            return String(decoding: bytes[pos..<end], as: UTF8.self)
        }
        mutating func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw PthFormatError("pickle stack underflow at byte \(pos)") }
            return v
        }
        func top() throws -> PickleValue {
            guard let v = stack.last else { throw PthFormatError("pickle stack underflow at byte \(pos)") }
            return v
        }
        mutating func popMark() throws -> [PickleValue] {
            guard let saved = metastack.popLast() else { throw PthFormatError("MARK missing at byte \(pos)") }
            defer { stack = saved }
            return stack
        }
    }

    /// Executes one opcode; returns the result at STOP.
    private mutating func step(_ m: inout Machine) throws -> PickleValue? {
        let opcode = try m.u8()
        switch opcode {
        case 0x80: _ = try m.u8()  // PROTO
        case 0x95: _ = try m.le(8)  // FRAME
        case 0x2E: return try m.pop()  // STOP
        case 0x28:  // MARK
            m.metastack.append(m.stack)
            m.stack = []
        case 0x29: m.stack.append(.tuple(PickleTuple([], depth: 1)))  // EMPTY_TUPLE
        case 0x7D: m.stack.append(.dict(PickleDict()))  // EMPTY_DICT
        case 0x5D: m.stack.append(.list(PickleList()))  // EMPTY_LIST
        case 0x4E: m.stack.append(.none)  // NONE
        case 0x88: m.stack.append(.bool(true))  // NEWTRUE
        case 0x89: m.stack.append(.bool(false))  // NEWFALSE
        case 0x4A: m.stack.append(.int(Int(Int32(truncatingIfNeeded: try m.le(4)))))  // BININT
        case 0x4B: m.stack.append(.int(try m.u8()))  // BININT1
        case 0x4D: m.stack.append(.int(Int(try m.le(2))))  // BININT2
        case 0x8A:  // LONG1
            let n = try m.u8()
            guard n <= 8 else { throw PthFormatError("integer of \(n) bytes is too large") }
            if n == 0 {
                m.stack.append(.int(0))
                break
            }
            var v = try m.le(n)
            if n < 8, v & (1 << (8 * UInt64(n) - 1)) != 0 { v |= ~0 << (8 * UInt64(n)) }
            m.stack.append(.int(Int(Int64(bitPattern: v))))
        case 0x47:  // BINFLOAT (big-endian)
            let raw = try m.take(8)
            m.stack.append(.float(Double(bitPattern: raw.reduce(0) { $0 << 8 | UInt64($1) })))
        case 0x58: m.stack.append(.string(try utf8(try m.take(Int(try m.le(4))))))  // BINUNICODE
        case 0x8C: m.stack.append(.string(try utf8(try m.take(try m.u8()))))  // SHORT_BINUNICODE
        case 0x8D:  // BINUNICODE8
            let n = try m.le(8)
            guard n <= UInt64(m.bytes.count) else { throw PthFormatError("string length \(n) past the end") }
            m.stack.append(.string(try utf8(try m.take(Int(n)))))
        case 0x43: m.stack.append(.bytes(try m.take(try m.u8())))  // SHORT_BINBYTES
        case 0x42: m.stack.append(.bytes(try m.take(Int(try m.le(4)))))  // BINBYTES
        case 0x71: try memoize(&m, key: try m.u8())  // BINPUT
        case 0x72: try memoize(&m, key: Int(try m.le(4)))  // LONG_BINPUT
        case 0x94: try memoize(&m, key: m.memo.count)  // MEMOIZE
        case 0x68, 0x6A:  // BINGET, LONG_BINGET
            let key = opcode == 0x68 ? try m.u8() : Int(try m.le(4))
            guard let v = m.memo[key] else { throw PthFormatError("memo key \(key) not found") }
            m.stack.append(v)
        case 0x74: m.stack.append(try tuple(try m.popMark()))  // TUPLE
        case 0x85: m.stack.append(try tuple([try m.pop()]))  // TUPLE1
        case 0x86:  // TUPLE2
            let b = try m.pop(), a = try m.pop()
            m.stack.append(try tuple([a, b]))
        case 0x87:  // TUPLE3
            let c = try m.pop(), b = try m.pop(), a = try m.pop()
            m.stack.append(try tuple([a, b, c]))
        case 0x6C:  // LIST
            let l = PickleList()
            try append(try m.popMark(), to: l)
            m.stack.append(.list(l))
        case 0x64:  // DICT
            let d = PickleDict()
            try setItems(try m.popMark(), in: .dict(d))
            m.stack.append(.dict(d))
        case 0x61:  // APPEND
            let v = try m.pop()
            guard case let .list(l) = try m.top() else { throw PthFormatError("APPEND to a non-list") }
            try append([v], to: l)
        case 0x65:  // APPENDS
            let items = try m.popMark()
            guard case let .list(l) = try m.top() else { throw PthFormatError("APPENDS to a non-list") }
            try append(items, to: l)
        case 0x73:  // SETITEM
            let v = try m.pop(), k = try m.pop()
            try setItems([k, v], in: try m.top())
        case 0x75:  // SETITEMS
            let items = try m.popMark()
            try setItems(items, in: try m.top())
        case 0x63:  // GLOBAL
            let module = try m.line(), name = try m.line()
            m.stack.append(try global(module, name))
        case 0x93:  // STACK_GLOBAL
            let name = try m.pop(), module = try m.pop()
            guard case let .string(mod) = module, case let .string(n) = name else {
                throw PthFormatError("STACK_GLOBAL needs two strings")
            }
            m.stack.append(try global(mod, n))
        case 0x51:  // BINPERSID
            m.stack.append(try persistentLoad(try m.pop()))
        case 0x52, 0x81:  // REDUCE, NEWOBJ
            let args = try m.pop(), callable = try m.pop()
            m.stack.append(try call(callable, args))
        case 0x62:  // BUILD: state for the object below (e.g. an OrderedDict's _metadata); ignored
            _ = try m.pop()
            _ = try m.top()
        default:
            throw PthFormatError("unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(m.pos - 1)")
        }
        return nil
    }

    private func utf8(_ raw: [UInt8]) throws -> String {
        guard let s = String(validating: raw, as: UTF8.self) else { throw PthFormatError("invalid UTF-8 string") }
        return s
    }

    private func memoize(_ m: inout Machine, key: Int) throws {
        let value = try m.top()
        guard m.memo.updateValue(value, forKey: key) != nil || m.memo.count <= limits.maxMemoEntries else {
            throw PthFormatError("the pickle defines more than \(limits.maxMemoEntries) memo entries")
        }
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        guard isAllowed(module: module, name: name) else {
            throw PthFormatError("refused to load global '\(module).\(name)': a weights file may only contain "
                + "tensors and plain containers (the torch.load(weights_only=True) rules)")
        }
        return .global(module: module, name: name)
    }

    // MARK: - Containers (depth-checked, sealed once nested)

    /// The depth a container holding `children` gets, after checking it against the limit
    /// and sealing the children that are containers. `parent` is the container being
    /// filled, which may not hold itself.
    private func adopt(_ children: [PickleValue], parent: PickleContainer?, depth: Int) throws -> Int {
        var result = depth
        for child in children {
            if let c = child.container {
                if let parent, c === parent {
                    throw PthFormatError("a \(child.typeName) that contains itself (cyclic structures are not supported)")
                }
                c.isNested = true
            }
            let d = child.depth + 1
            guard d <= limits.maxNestingDepth else {
                throw PthFormatError("lists, tuples and dicts nest deeper than \(limits.maxNestingDepth) levels")
            }
            result = max(result, d)
        }
        return result
    }

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        .tuple(PickleTuple(items, depth: try adopt(items, parent: nil, depth: 1)))
    }

    private func sealedCheck(_ c: PickleContainer, _ what: String) throws {
        guard !c.isNested else {
            throw PthFormatError("\(what) into a container already nested in another (cyclic or unusual structure)")
        }
    }

    private func append(_ items: [PickleValue], to l: PickleList) throws {
        try sealedCheck(l, "APPEND")
        l.depth = try adopt(items, parent: l, depth: l.depth)
        l.items += items
    }

    private func setItems(_ items: [PickleValue], in target: PickleValue) throws {
        guard case let .dict(d) = target else { throw PthFormatError("SETITEM on a \(target.typeName)") }
        guard items.count % 2 == 0 else { throw PthFormatError("odd number of SETITEMS values") }
        try sealedCheck(d, "SETITEM")
        d.depth = try adopt(items, parent: d, depth: d.depth)
        for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
    }

    // MARK: - Calls

    private mutating func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(t) = pid, t.items.count == 5, case let .string(kind) = t.items[0], kind == "storage",
              case let .global(module, typeName) = t.items[1], module == "torch",
              let dtype = Self.storageTypes[typeName], case let .string(key) = t.items[2],
              case let .int(numel) = t.items[4], numel >= 0 else {
            throw PthFormatError("unsupported persistent id (expected ('storage', torch.<Type>Storage, key, location, numel))")
        }
        if let known = storages[key] {
            guard known.dtype == dtype, known.count == numel else {
                throw PthFormatError("storage '\(key)' is declared twice with different types or sizes")
            }
            return .storage(known)
        }
        let storage = try PthStorage(key: key, dtype: dtype, count: numel)
        storages[key] = storage
        return .storage(storage)
    }

    private mutating func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(module, name) = callable else {
            throw PthFormatError("cannot call a \(callable.typeName)")
        }
        guard case let .tuple(t) = args else { throw PthFormatError("\(module).\(name): arguments are not a tuple") }
        let a = t.items
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let d = PickleDict()
            if let first = a.first, case let .list(pairs) = first {
                var items: [PickleValue] = []
                for p in pairs.items {
                    guard case let .tuple(kv) = p, kv.items.count == 2 else { throw PthFormatError("OrderedDict: bad item") }
                    items += kv.items
                }
                try setItems(items, in: .dict(d))
            }
            return .dict(d)
        case "torch._utils._rebuild_tensor_v2":
            return .tensor(try rebuildTensor(a))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = a.first, case let .tensor(t) = first else {
                throw PthFormatError("_rebuild_parameter: expected a tensor")
            }
            return .tensor(t)
        case "torch.device":
            guard let first = a.first, case let .string(s) = first else { throw PthFormatError("torch.device: bad argument") }
            return .string(s)
        case "builtins.set", "builtins.frozenset":
            let l = PickleList()
            if let first = a.first, case let .list(items) = first { try append(items.items, to: l) }
            return .list(l)
        default:
            throw PthFormatError("\(module).\(name) cannot be called")
        }
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case let .tuple(t) = v else { throw PthFormatError("_rebuild_tensor_v2: \(what) is not a tuple") }
        guard t.items.count <= limits.maxRank else {
            throw PthFormatError("_rebuild_tensor_v2: \(t.items.count) dimensions (at most \(limits.maxRank) allowed)")
        }
        return try t.items.map {
            guard case let .int(i) = $0 else { throw PthFormatError("_rebuild_tensor_v2: \(what) holds a non-integer") }
            return i
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    private mutating func rebuildTensor(_ a: [PickleValue]) throws -> PthTensor {
        guard a.count >= 4, case let .storage(storage) = a[0], case let .int(offset) = a[1] else {
            throw PthFormatError("_rebuild_tensor_v2: unexpected arguments")
        }
        tensorCount += 1
        guard tensorCount <= limits.maxTensors else {
            throw PthFormatError("the file holds more than \(limits.maxTensors) tensors")
        }
        return try PthTensor(storage: storage, offset: offset, size: try ints(a[2], "size"),
                             stride: try ints(a[3], "stride"), maxRank: limits.maxRank)
    }
}
