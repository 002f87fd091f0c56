import Torch

extension Module {
    /// Lays out every 4-D parameter and buffer (convolution weights) channels-last, in place:
    /// the tensors stay the same objects (the optimizer keeps them), only their strides
    /// change (`model.to(memory_format=torch.channels_last)`). Feed channels-last inputs
    /// (``Tensor/channelsLast()``) too, so that oneDNN runs its NHWC kernels without
    /// reordering. Values, shapes and state-dict names are unchanged.
    public func convertToChannelsLast() throws {
        try withNoGrad {
            for (_, t) in namedParameters() + namedBuffers() where t.rank == 4 && !t.isChannelsLast {
                try t.setData(t.channelsLast())
            }
        }
    }

    /// Lays out every 4-D parameter and buffer contiguously (NCHW) again, in place: the
    /// inverse of ``convertToChannelsLast()``.
    public func convertToContiguous() throws {
        try withNoGrad {
            for (_, t) in namedParameters() + namedBuffers() where t.rank == 4 && !t.isContiguous {
                try t.setData(t.contiguous())
            }
        }
    }
}
