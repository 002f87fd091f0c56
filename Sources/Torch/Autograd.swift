import CTorch

extension Tensor {
    /// Whether operations on this tensor are recorded for differentiation.
    public var requiresGrad: Bool {
        get { ct_requires_grad(handle) != 0 }
        set { check("requiresGrad", ct_set_requires_grad(handle, newValue ? 1 : 0)) }
    }

    /// Sets `requiresGrad` and returns self, for chaining (`requires_grad_()`).
    @discardableResult public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Whether this tensor was created by the user rather than by a recorded operation.
    public var isLeaf: Bool { ct_is_leaf(handle) != 0 }

    /// The accumulated gradient (`.grad`), nil until a backward pass reaches this tensor.
    public var grad: Tensor? {
        get {
            if let h = ct_grad(handle) { return Tensor(owning: h) }
            let message = lastTorchError
            if !message.isEmpty { fatalError("grad: \(message)") }
            return nil
        }
        set { check("grad", ct_set_grad(handle, newValue?.handle)) }
    }

    /// Clears the gradient: sets it to nil (default, as PyTorch ≥ 2.0) or zeroes it.
    public func zeroGrad(setToNone: Bool = true) {
        check("zeroGrad", ct_zero_grad(handle, setToNone ? 1 : 0))
    }

    /// Computes gradients of this tensor w.r.t. the graph's leaves and accumulates them in
    /// their `.grad` (`Tensor.backward`). A non-scalar tensor needs `gradient`.
    ///
    /// - Throws: `TorchError.libtorch` if the graph was already freed, the tensor does not
    ///   require grad, or `gradient` has the wrong shape.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
        try tryCheck("backward", ct_backward(handle, gradient?.handle, retainGraph ? 1 : 0, createGraph ? 1 : 0))
    }

    /// Whether this is an inference tensor (`Tensor.is_inference`): one created under
    /// ``withInferenceMode(_:)``. Such a tensor can never join an autograd graph, nor be
    /// modified in place outside inference mode; use it only for reading results.
    public var isInference: Bool { ct_is_inference(handle) != 0 }

    /// The same values cut from the graph (`Tensor.detach`); shares storage.
    public func detached() -> Tensor { checked("detached", ct_detach(handle)) }
}

/// Functions of the autograd engine.
public enum Autograd {
    /// Gradients of `outputs` w.r.t. `inputs`, without touching `.grad`
    /// (`torch.autograd.grad`). Entries are nil for inputs the outputs do not depend on.
    ///
    /// Multi-task methods call this once per task loss with `retainGraph: true` to get
    /// per-task gradients of the shared parameters.
    ///
    /// - Parameters:
    ///   - gradOutputs: the vector in the vector-Jacobian product, one per output (nil = ones
    ///     for scalar outputs).
    ///   - retainGraph: keep the graph for further calls.
    ///   - createGraph: record the gradient computation for higher-order derivatives.
    /// - Throws: `TorchError.libtorch` if the graph was freed or shapes do not match.
    public static func grad(outputs: [Tensor], inputs: [Tensor], gradOutputs: [Tensor?]? = nil,
                            retainGraph: Bool = false, createGraph: Bool = false) throws -> [Tensor?] {
        if let gradOutputs, gradOutputs.count != outputs.count {
            throw TorchError.invalidArgument(
                "grad: \(gradOutputs.count) gradOutputs for \(outputs.count) outputs")
        }
        var results = [ct_tensor?](repeating: nil, count: inputs.count)
        let status = withHandles(outputs) { o, no in
            withHandles(inputs) { i, ni in
                withHandles(gradOutputs ?? []) { g, _ in
                    results.withUnsafeMutableBufferPointer { r in
                        ct_autograd_grad(o, no, i, ni, gradOutputs == nil ? nil : g, retainGraph ? 1 : 0,
                                         createGraph ? 1 : 0, r.baseAddress)
                    }
                }
            }
        }
        try tryCheck("grad", status)
        return results.map { $0.map { Tensor(owning: $0) } }
    }

    /// Whether inference mode is on on this thread (``withInferenceMode(_:)``).
    public static var isInferenceModeEnabled: Bool { ct_is_inference_mode_enabled() != 0 }

    /// Whether operations are currently recorded on this thread.
    public static var isGradEnabled: Bool { ct_is_grad_enabled() != 0 }
}

/// Runs `body` with gradient recording off on this thread (`torch.no_grad()`), restoring
/// the previous mode afterwards even if `body` throws. The mode is per thread: keep the body
/// synchronous.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try withGradEnabled(false, body)
}

/// Runs `body` with gradient recording set to `enabled` (`torch.set_grad_enabled`).
public func withGradEnabled<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = ct_is_grad_enabled()
    ct_set_grad_enabled(enabled ? 1 : 0)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` in inference mode on this thread (`torch.inference_mode()`, a
/// `c10::InferenceMode` guard): like ``withNoGrad(_:)`` but also skipping view and version
/// tracking, so inference is a little cheaper. Tensors created inside are *inference
/// tensors* (``Tensor/isInference``): they can never be used in an operation that records
/// gradients, nor modified in place after the body returns. Use it where results are only
/// read (predictions, metrics), never for a training model's forward or its buffers' updates.
/// The mode is per thread and restored when `body` returns or throws: keep the body
/// synchronous. `enabled: false` turns it off inside an enclosing inference-mode body.
public func withInferenceMode<R>(_ enabled: Bool = true, _ body: () throws -> R) rethrows -> R {
    let guardHandle = ct_inference_mode_enter(enabled ? 1 : 0)
    defer { ct_inference_mode_exit(guardHandle) }
    return try body()
}
