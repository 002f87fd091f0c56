import Torch

extension Module {
    /// Lays out every 4-D parameter and buffer (convolution weights) channels-last, in place:
    /// the tensors stay the same objects (the optimizer keeps them), only their strides
    /// change (`model.to(memory_format=torch.channels_last)`). Feed channels-last inputs
    /// (``Tensor/channelsLast()``) too, so that oneDNN runs its NHWC kernels without
    /// reordering. Values, shapes and state-dict names are unchanged.
    public func convertToChannelsLast() throws {
        try relayout(where: { !$0.isChannelsLast }, to: { $0.channelsLast() })
    }

    /// Lays out every 4-D parameter and buffer contiguously (NCHW) again, in place: the
    /// inverse of ``convertToChannelsLast()``.
    public func convertToContiguous() throws {
        try relayout(where: { !$0.isContiguous }, to: { $0.contiguous() })
    }

    /// Replaces the data of every 4-D parameter and buffer that `needs` it by `layout(data)`.
    private func relayout(where needs: (Tensor) -> Bool, to layout: (Tensor) -> Tensor) throws {
        try withNoGrad {
            for (_, t) in namedParameters() + namedBuffers() where t.rank == 4 && needs(t) {
                try t.setData(layout(t))
            }
        }
    }
}
