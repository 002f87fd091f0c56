import CTorch

/// libtorch's fused Adam/AdamW kernel (`torch._fused_adam_` / `torch._fused_adamw_`, what
/// `torch.optim.AdamW(fused=True)` runs): one multithreaded pass over all the parameters'
/// memory instead of about ten elementwise ops per parameter.
public enum FusedAdam {
    /// The hyperparameters of one fused update.
    public struct Hyperparameters: Sendable {
        public var lr: Double
        public var beta1: Double
        public var beta2: Double
        public var weightDecay: Double
        public var eps: Double
        public var amsgrad: Bool
        public var maximize: Bool
        /// AdamW's decoupled weight decay (`p *= 1 − lr·wd`) instead of Adam's L2 term.
        public var decoupledWeightDecay: Bool

        public init(lr: Double, beta1: Double, beta2: Double, weightDecay: Double, eps: Double, amsgrad: Bool,
                    maximize: Bool, decoupledWeightDecay: Bool) {
            self.lr = lr
            self.beta1 = beta1
            self.beta2 = beta2
            self.weightDecay = weightDecay
            self.eps = eps
            self.amsgrad = amsgrad
            self.maximize = maximize
            self.decoupledWeightDecay = decoupledWeightDecay
        }
    }

    /// Updates `parameters` in place, with their moments, in one kernel. `steps` are the step
    /// counts after this step (1 for the first). `maxExpAvgSqs` is used with AMSGrad only.
    ///
    /// - Returns: for each parameter, whether it was updated. One that does not qualify is
    ///   left unchanged for the caller to update: a parameter that is not float32 on the CPU,
    ///   or one whose gradient or moments are laid out differently (sizes and strides), since
    ///   the kernel walks their memory in step.
    /// - Throws: `TorchError.libtorch` if libtorch rejects the update.
    public static func step(parameters: [Tensor], gradients: [Tensor], expAvgs: [Tensor], expAvgSqs: [Tensor],
                            maxExpAvgSqs: [Tensor], steps: [Double], _ h: Hyperparameters) throws -> [Bool] {
        let n = parameters.count
        guard gradients.count == n, expAvgs.count == n, expAvgSqs.count == n, steps.count == n,
              !h.amsgrad || maxExpAvgSqs.count == n else {
            throw TorchError.invalidArgument("FusedAdam: \(n) parameters with \(gradients.count) gradients, \(expAvgs.count) "
                + "and \(expAvgSqs.count) moments, \(steps.count) step counts")
        }
        var done = [Int32](repeating: 0, count: n)
        let status: Int32 = withHandles(parameters) { p, _ in
            withHandles(gradients) { g, _ in
                withHandles(expAvgs) { m, _ in
                    withHandles(expAvgSqs) { v, _ in
                        withHandles(maxExpAvgSqs) { mx, _ in
                            steps.withUnsafeBufferPointer { s in
                                done.withUnsafeMutableBufferPointer { d in
                                    ct_fused_adam(p, g, m, v, h.amsgrad ? mx : nil, s.baseAddress, Int32(n), h.lr,
                                                  h.beta1, h.beta2, h.weightDecay, h.eps, h.amsgrad ? 1 : 0,
                                                  h.maximize ? 1 : 0, h.decoupledWeightDecay ? 1 : 0, d.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        if status != 0 { throw TorchError.libtorch(op: "fused Adam step", message: lastTorchError) }
        return done.map { $0 != 0 }
    }
}
