import Torch
import TorchNN

extension HydraNetModel {
    /// A new inference-only copy of this model with every BatchNorm folded into the
    /// convolution before it (``BatchNormFolding``): the same outputs in eval mode (up to
    /// rounding), one pass over the activations fewer per folded layer, and convolutions
    /// that meet a 1×1 input read only their kernel's centre tap
    /// (``Conv2d/usesCentreTapForSinglePixelInputs``). This model is not
    /// changed (neither its tensors nor its mode); the copy shares no storage with it, is in
    /// eval mode on `device`, has its parameters frozen, and refuses to train.
    ///
    /// The copy is rebuilt from `spec` (which must describe this model), so a custom backbone
    /// cannot be copied: that throws ``HydraError/checkpoint(_:)``.
    public func fusedCopy(spec: ModelSpec, device: Device = .cpu) throws -> HydraNetModel {
        // Newly initialised weights, which the state dict overwrites.
        let copy = try rebuilt(spec: spec, device: device)
        try withNoGrad { try copy.loadStateDict(stateDict(), strict: true) }
        copy.eval()
        BatchNormFolding.foldInPlace(copy)
        copy.freeze()
        // Its weights never change in place: 1×1 inputs may take the centre-tap shortcut.
        for case let conv as Conv2d in copy.modules() { conv.usesCentreTapForSinglePixelInputs = true }
        return copy
    }
}
