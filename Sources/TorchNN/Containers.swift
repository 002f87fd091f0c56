import Torch

/// Modules applied in order, each to the previous one's output (`nn.Sequential`). Children
/// are named `0`, `1`, … (or by the given names).
public final class Sequential: Module {
    /// The layers with their names.
    public private(set) var layers: [(name: String, module: Module)]

    public init(_ modules: [Module]) {
        layers = modules.enumerated().map { (String($0.offset), $0.element) }
    }

    public convenience init(_ modules: Module...) { self.init(modules) }

    /// Named layers, as `nn.Sequential(OrderedDict(...))`.
    public init(named: [(String, Module)]) {
        layers = named.map { ($0.0, $0.1) }
    }

    public override var namedChildren: [(String, Module)] { layers.map { ($0.name, $0.module) } }

    public var count: Int { layers.count }

    public subscript(index: Int) -> Module { layers[index].module }

    /// Appends a layer named by its index.
    public func append(_ module: Module) { layers.append((String(layers.count), module)) }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { x, layer in layer.module(x) }
    }
}

/// A list of submodules named `0`, `1`, … (`nn.ModuleList`); it has no forward of its own.
public final class ModuleList: Module {
    public private(set) var items: [Module]

    public init(_ modules: [Module] = []) { items = modules }

    public override var namedChildren: [(String, Module)] {
        items.enumerated().map { (String($0.offset), $0.element) }
    }

    public var count: Int { items.count }
    public subscript(index: Int) -> Module { items[index] }
    public func append(_ module: Module) { items.append(module) }
}

/// Submodules by name, in insertion order (`nn.ModuleDict`); it has no forward of its own.
public final class ModuleDict: Module {
    public private(set) var entries: [(key: String, module: Module)] = []

    public init(_ entries: [(String, Module)] = []) {
        super.init()
        for (k, m) in entries { self[k] = m }
    }

    public override var namedChildren: [(String, Module)] { entries.map { ($0.key, $0.module) } }

    public var keys: [String] { entries.map(\.key) }

    /// The module for `key`; assigning replaces it in place or appends it.
    public subscript(key: String) -> Module? {
        get { entries.first { $0.key == key }?.module }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].module = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}
