import Torch

/// A tensor property of a module that is part of its state: a trainable parameter or a
/// buffer. Modules find their slots by reflection; property wrappers ``Parameter`` and
/// ``Buffer`` are the two kinds.
public protocol TensorSlot: AnyObject {
    /// The current tensor (nil for an absent optional, e.g. a Linear without bias).
    var tensor: Tensor? { get set }
    /// The state-dict key, or nil to derive it from the property name.
    var key: String? { get }
    /// Whether the slot is a parameter (trainable) rather than a buffer.
    var isParameter: Bool { get }
    /// Whether a buffer is saved in the state dict (parameters always are).
    var isPersistent: Bool { get }
}

/// `Tensor` or `Tensor?`: the value types a ``Parameter`` or ``Buffer`` can wrap.
public protocol TensorSlotValue {
    static func fromSlot(_ tensor: Tensor?) -> Self
    var slotTensor: Tensor? { get }
}

extension Tensor: TensorSlotValue {
    public static func fromSlot(_ tensor: Tensor?) -> Tensor {
        guard let tensor else { fatalError("a non-optional tensor slot is empty") }
        return tensor
    }
    public var slotTensor: Tensor? { self }
}

extension Optional: TensorSlotValue where Wrapped == Tensor {
    public static func fromSlot(_ tensor: Tensor?) -> Tensor? { tensor }
    public var slotTensor: Tensor? { self }
}

/// A trainable tensor of a module (`nn.Parameter`). Its state-dict key is the property name
/// in snake_case unless `key` is given. Assigning a tensor makes it require grad.
@propertyWrapper
public final class Parameter<Value: TensorSlotValue>: TensorSlot {
    public var tensor: Tensor?
    public let key: String?
    public var isParameter: Bool { true }
    public var isPersistent: Bool { true }

    public init(wrappedValue: Value, key: String? = nil) {
        self.key = key
        self.tensor = wrappedValue.slotTensor
        self.tensor?.requiresGrad = true
    }

    public var wrappedValue: Value {
        get { Value.fromSlot(tensor) }
        set {
            tensor = newValue.slotTensor
            tensor?.requiresGrad = true
        }
    }
}

/// A non-trainable tensor of a module's state (`register_buffer`), e.g. BatchNorm's running
/// statistics. Non-persistent buffers are left out of the state dict.
@propertyWrapper
public final class Buffer<Value: TensorSlotValue>: TensorSlot {
    public var tensor: Tensor?
    public let key: String?
    public let isPersistent: Bool
    public var isParameter: Bool { false }

    public init(wrappedValue: Value, key: String? = nil, persistent: Bool = true) {
        self.key = key
        self.isPersistent = persistent
        self.tensor = wrappedValue.slotTensor
    }

    public var wrappedValue: Value {
        get { Value.fromSlot(tensor) }
        set { tensor = newValue.slotTensor }
    }
}

/// The base class of every layer and model (`nn.Module`).
///
/// Parameters and buffers are properties wrapped in ``Parameter`` / ``Buffer``; submodules
/// are properties of a `Module` type (optional or in arrays). All are found by reflection,
/// in declaration order, with PyTorch's state-dict names: a property `runningMean` is
/// `running_mean`, a submodule's entries are prefixed with its name, array elements with
/// their index. Containers (``Sequential``, ``ModuleList``, ``ModuleDict``) name their
/// children `0`, `1`, … or by key, as PyTorch does.
///
/// Subclasses override ``forward(_:)`` for single-input modules, or add their own call
/// methods for other signatures.
open class Module {
    /// Whether the module is in training mode (`module.training`).
    public private(set) var isTraining = true

    public init() {}

    /// The module's computation on one input.
    open func forward(_ input: Tensor) -> Tensor {
        fatalError("\(typeName) has no single-input forward(_:)")
    }

    /// Calls ``forward(_:)``.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// The name printed in descriptions (the Swift type name).
    open var typeName: String { String(describing: type(of: self)) }

    /// Extra text shown in the description, e.g. `in_features=2, out_features=3` (`extra_repr`).
    open var extraDescription: String { "" }

    // MARK: Structure

    /// Direct submodules with their names, in declaration order.
    open var namedChildren: [(String, Module)] {
        var result: [(String, Module)] = []
        forEachProperty { name, value in
            switch value {
            case let module as Module: result.append((name, module))
            case let modules as [Module]:
                for (i, m) in modules.enumerated() { result.append(("\(name).\(i)", m)) }
            default: break
            }
        }
        return result
    }

    /// The module's own parameter and buffer slots with their keys, in declaration order.
    public var namedSlots: [(String, TensorSlot)] {
        var result: [(String, TensorSlot)] = []
        forEachProperty { name, value in
            if let slot = value as? TensorSlot { result.append((slot.key ?? name, slot)) }
        }
        return result
    }

    /// Visits stored properties (superclass first) with snake_case names, unwrapping
    /// optionals and property wrappers' leading underscore.
    private func forEachProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for child in m.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("_") { label.removeFirst() }
                if let unwrapped = unwrapOptional(child.value) {
                    body(snakeCase(label), unwrapped)
                }
            }
        }
    }

    /// All modules below and including this one, pre-order, with dotted names ("" for self).
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (name, child) in namedChildren {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// All modules below and including this one, pre-order.
    public func modules() -> [Module] { namedModules().map(\.1) }

    /// Parameters with their full dotted names (`layer1.0.conv1.weight`).
    public func namedParameters() -> [(String, Tensor)] {
        namedSlotsRecursive().compactMap { name, slot in
            guard slot.isParameter, let t = slot.tensor else { return nil }
            return (name, t)
        }
    }

    /// All parameters, in state-dict order.
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }

    /// Parameters that currently require grad (what an optimizer should get).
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    /// Buffers with their full dotted names (including non-persistent ones).
    public func namedBuffers() -> [(String, Tensor)] {
        namedSlotsRecursive().compactMap { name, slot in
            guard !slot.isParameter, let t = slot.tensor else { return nil }
            return (name, t)
        }
    }

    /// Every slot with its full name: per module its own slots (parameters first, then
    /// buffers, as PyTorch orders a state dict), then its children's.
    func namedSlotsRecursive(prefix: String = "") -> [(String, TensorSlot)] {
        let own = namedSlots
        let ordered = own.filter { $0.1.isParameter } + own.filter { !$0.1.isParameter }
        var result = ordered.map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1) }
        for (name, child) in namedChildren {
            result += child.namedSlotsRecursive(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// The number of parameter elements (all, or only trainable ones).
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        parameters().filter { !trainableOnly || $0.requiresGrad }.reduce(0) { $0 + $1.count }
    }

    // MARK: Modes

    /// Sets training mode here and in every submodule (`module.train()`).
    @discardableResult public func train(_ on: Bool = true) -> Self {
        for m in modules() { m.isTraining = on }
        return self
    }

    /// Sets evaluation mode here and in every submodule (`module.eval()`).
    @discardableResult public func eval() -> Self { train(false) }

    /// Stops gradient flow into every parameter of this module (`requires_grad_(False)`).
    @discardableResult public func freeze() -> Self {
        for p in parameters() { p.requiresGrad = false }
        return self
    }

    /// Makes every parameter of this module trainable again.
    @discardableResult public func unfreeze() -> Self {
        for p in parameters() { p.requiresGrad = true }
        return self
    }

    /// Clears the gradients of all parameters (`zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    // MARK: Device and dtype

    /// Moves every parameter and buffer to `device` (and floating-point ones to `dtype`),
    /// keeping `requiresGrad`. Create optimizers after moving: they hold the tensors.
    @discardableResult public func to(device: Device? = nil, dtype: DType? = nil) -> Self {
        for (_, slot) in namedSlotsRecursive() {
            guard let t = slot.tensor else { continue }
            var moved = t
            if let device, t.device != device { moved = moved.to(device: device) }
            if let dtype, t.dtype.isFloatingPoint, t.dtype != dtype { moved = moved.to(dtype: dtype) }
            if moved !== t {
                let copy = moved.detached()
                copy.requiresGrad = t.requiresGrad
                slot.tensor = copy
            }
        }
        return self
    }

    /// Applies `body` to this module and every submodule (`module.apply(fn)`).
    public func apply(_ body: (Module) -> Void) {
        for m in modules() { body(m) }
    }
}

/// Converts `runningMean` to `running_mean` (digits stay attached: `conv1`).
func snakeCase(_ name: String) -> String {
    var out = ""
    for ch in name {
        if ch.isUppercase {
            if !out.isEmpty { out.append("_") }
            out.append(contentsOf: ch.lowercased())
        } else {
            out.append(ch)
        }
    }
    return out
}

/// The wrapped value of an Optional held in an `Any`, nil for `.none`, the value itself
/// for non-optionals.
private func unwrapOptional(_ value: Any) -> Any? {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .optional else { return value }
    return mirror.children.first.map { unwrapOptional($0.value) } ?? nil
}
