import Torch

/// An ordered map from PyTorch state-dict keys to tensors (`OrderedDict[str, Tensor]`).
public struct StateDict: Sequence {
    /// Keys in order.
    public private(set) var keys: [String] = []
    private var storage: [String: Tensor] = [:]

    public init() {}

    /// A state dict from ordered pairs; later duplicates replace earlier values.
    public init(_ pairs: [(String, Tensor)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// A state dict from a dictionary, keys sorted.
    public init(_ dictionary: [String: Tensor]) {
        self.init(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> Tensor? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public func makeIterator() -> AnyIterator<(key: String, value: Tensor)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], storage[keys[i]]!)
        }
    }

    /// Entries whose key starts with `prefix.`, with the prefix removed.
    public func subtree(_ prefix: String) -> StateDict {
        let p = prefix + "."
        return StateDict(keys.filter { $0.hasPrefix(p) }.map { (String($0.dropFirst(p.count)), storage[$0]!) })
    }

    /// Reads a safetensors file.
    public static func load(safetensors path: String) throws -> StateDict {
        let archive = try SafeTensors.read(path)
        return StateDict(archive.names.map { ($0, archive.tensors[$0]!) })
    }

    /// Writes the tensors (in order) to a safetensors file, atomically.
    public func save(safetensors path: String, metadata: [String: String] = [:]) throws {
        try SafeTensors.save(ordered: keys.map { ($0, storage[$0]!) }, metadata: metadata, to: path)
    }
}

/// What `loadStateDict` found besides the keys it loaded.
public struct LoadStateDictReport: Sendable, Equatable {
    /// Keys the module has but the state dict lacks.
    public var missingKeys: [String]
    /// Keys the state dict has but the module lacks.
    public var unexpectedKeys: [String]

    public init(missingKeys: [String], unexpectedKeys: [String]) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
    }
}

/// Errors loading weights into a module.
public enum StateDictError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    case dtypeMismatch(key: String, expected: DType, found: DType)
    case keysMismatch(missing: [String], unexpected: [String])

    public var description: String {
        switch self {
        case let .shapeMismatch(key, expected, found):
            "size mismatch for \(key): the model has shape \(expected), the checkpoint \(found)"
        case let .dtypeMismatch(key, expected, found):
            "dtype mismatch for \(key): the model has \(expected), the checkpoint \(found)"
        case let .keysMismatch(missing, unexpected):
            "state dict does not match the model: "
                + (missing.isEmpty ? "" : "missing keys \(Self.list(missing))")
                + (missing.isEmpty || unexpected.isEmpty ? "" : "; ")
                + (unexpected.isEmpty ? "" : "unexpected keys \(Self.list(unexpected))")
        }
    }

    private static func list(_ keys: [String]) -> String {
        let shown = keys.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        return keys.count > 8 ? "\(shown) and \(keys.count - 8) more" : shown
    }
}

extension Module {
    /// Parameters and persistent buffers by full name (`state_dict()`), sharing storage with
    /// the module (detached).
    public func stateDict() -> StateDict {
        StateDict(namedSlotsRecursive().compactMap { name, slot in
            guard slot.isPersistent, let t = slot.tensor else { return nil }
            return (name, t.detached())
        })
    }

    /// Copies values from `stateDict` into the module's tensors in place
    /// (`load_state_dict`). Every tensor present in both is checked first: a shape or dtype
    /// mismatch throws naming the key, and nothing is changed. With `strict`, missing or
    /// unexpected keys throw too; otherwise they are reported.
    @discardableResult
    public func loadStateDict(_ stateDict: StateDict, strict: Bool = true) throws -> LoadStateDictReport {
        let slots = namedSlotsRecursive().filter { $0.1.isPersistent && $0.1.tensor != nil }
        let own = Set(slots.map(\.0))
        let missing = slots.map(\.0).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !own.contains($0) }
        if strict, !missing.isEmpty || !unexpected.isEmpty {
            throw StateDictError.keysMismatch(missing: missing, unexpected: unexpected)
        }
        var pairs: [(Tensor, Tensor)] = []
        for (name, slot) in slots {
            guard let source = stateDict[name], let target = slot.tensor else { continue }
            guard source.shape == target.shape else {
                throw StateDictError.shapeMismatch(key: name, expected: target.shape, found: source.shape)
            }
            guard source.dtype == target.dtype else {
                throw StateDictError.dtypeMismatch(key: name, expected: target.dtype, found: source.dtype)
            }
            pairs.append((target, source))
        }
        withNoGrad {
            for (target, source) in pairs { target.copy_(source) }
        }
        return LoadStateDictReport(missingKeys: missing, unexpectedKeys: unexpected)
    }
}
