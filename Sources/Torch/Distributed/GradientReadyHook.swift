import CTorch

/// Receives a parameter's index once backward has accumulated its `.grad`.
public protocol GradientReadyListener: AnyObject {
    func gradientReady(index: Int)
}

extension Tensor {
    /// Calls `listener.gradientReady(index:)` each time backward finishes accumulating this
    /// leaf's gradient (`register_post_accumulate_grad_hook`); nil removes the hook. The
    /// hook holds the listener unowned: remove it before the listener goes away.
    public func setGradientReadyHook(_ listener: GradientReadyListener?, index: Int) throws {
        guard let listener else {
            try tryCheck("setGradientReadyHook", ct_set_grad_ready_hook(handle, nil, nil, 0))
            return
        }
        let context = Unmanaged.passUnretained(listener as AnyObject).toOpaque()
        try tryCheck("setGradientReadyHook", ct_set_grad_ready_hook(handle, { context, index in
            guard let context else { return }
            let object = Unmanaged<AnyObject>.fromOpaque(context).takeUnretainedValue()
            (object as! GradientReadyListener).gradientReady(index: Int(index))
        }, context, Int64(index)))
    }
}
