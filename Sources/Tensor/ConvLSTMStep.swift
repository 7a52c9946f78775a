extension Tensor {
    /// One convolutional LSTM step at inference, fused: the recurrent
    /// convolution `z = conv(previous, kernel, same padding) + projected`,
    /// then the gates of ``lstmGatesInference(_:carry:)`` on each block of
    /// `z`'s rows while the block is still in cache. The same float
    /// operations in the same order as the composed step, so the same result.
    ///
    /// - Parameters:
    ///   - previous: the previous output `[batch, spatial..., units]`.
    ///   - kernel: the recurrent kernel `[spatial..., units, 4·units]`.
    ///   - projected: this step's input transform `[batch, spatial..., 4·units]`.
    ///   - carry: the previous cell state, shaped as `previous`.
    /// - Returns: the new output and cell state, or nil when an input is
    ///   tracked, `units` is not a multiple of 8, the shapes do not fit, or
    ///   the convolution would take ``WinogradPlan``: the caller then
    ///   composes the step from ops.
    public static func convLSTMStepInference(_ previous: Tensor, _ kernel: Tensor, projected: Tensor,
                                             carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard !previous.isTracked, !kernel.isTracked, !projected.isTracked, !carry.isTracked,
              (3...5).contains(previous.rank), let units = carry.shape.last, units > 0, units % 8 == 0,
              previous.shape == carry.shape, kernel.rank == previous.rank, kernel.shape.last == 4 * units,
              projected.shape == Array(carry.shape.dropLast()) + [4 * units],
              let plan = try? ConvolutionPlan(op: "convLSTMStepInference", inputShape: previous.shape,
                                              kernelShape: kernel.shape, strides: [1], padding: .same,
                                              dilation: [1], groups: 1),
              plan.outputShape == projected.shape, plan.layout.width > 0, WinogradPlan(plan) == nil
        else { return nil }
        let n = carry.count
        let z = UnsafeMutablePointer<Float>.allocate(capacity: projected.count)
        defer { z.deallocate() }
        var c = [Float]()
        let h = [Float](unsafeUninitializedCapacity: n) { hb, hDone in
            c = [Float](unsafeUninitializedCapacity: n) { cb, cDone in
                let (ph, pc) = (hb.baseAddress!, cb.baseAddress!)
                previous.scalars.withUnsafeBufferPointer { px in
                    kernel.scalars.withUnsafeBufferPointer { pw in
                        carry.scalars.withUnsafeBufferPointer { pcarry in
                            let carryBase = pcarry.baseAddress!
                            ChannelEpilogue(residual: projected).bound(channels: 4 * units) { epilogue in
                                plan.forward(px.baseAddress!, pw.baseAddress!, z, epilogue: epilogue,
                                             smallKernel: true) { rows in
                                    VectorMath.lstmGates(z, carry: carryBase, h: ph, c: pc, units: units, rows: rows)
                                }
                            }
                        }
                    }
                }
                cDone = n
            }
            hDone = n
        }
        return (Tensor(shape: carry.shape, scalars: h), Tensor(shape: carry.shape, scalars: c))
    }
}
