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
        guard let units = carry.shape.last, projected.shape == Array(carry.shape.dropLast()) + [4 * units] else { return nil }
        return convLSTMStep(previous, kernel, projected: projected, offset: 0, carry: carry)
    }

    /// ``convLSTMStepInference(_:_:projected:carry:)`` with the input transform
    /// of timestep `timestep` of a whole sequence, `[time, batch, spatial..., 4·units]`,
    /// read in place (no copy of the step's slice).
    public static func convLSTMStepInference(_ previous: Tensor, _ kernel: Tensor, projectedSequence: Tensor,
                                             timestep: Int, carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard let units = carry.shape.last, projectedSequence.rank == carry.rank + 1,
              (0..<projectedSequence.shape[0]).contains(timestep),
              Array(projectedSequence.shape.dropFirst()) == Array(carry.shape.dropLast()) + [4 * units] else { return nil }
        return convLSTMStep(previous, kernel, projected: projectedSequence, offset: timestep * 4 * carry.count,
                            carry: carry)
    }

    /// The fused step with this step's `[batch, spatial..., 4·units]` input
    /// transform at `offset` in `projected`'s storage (shapes checked by the callers).
    private static func convLSTMStep(_ previous: Tensor, _ kernel: Tensor, projected: Tensor, offset: Int,
                                     carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard !previous.isTracked, !kernel.isTracked, !projected.isTracked, !carry.isTracked,
              (3...5).contains(previous.rank), let units = carry.shape.last, units > 0, units % 8 == 0,
              previous.shape == carry.shape, kernel.rank == previous.rank, kernel.shape.last == 4 * units,
              let plan = try? ConvolutionPlan(op: "convLSTMStepInference", inputShape: previous.shape,
                                              kernelShape: kernel.shape, strides: [1], padding: .same,
                                              dilation: [1], groups: 1),
              plan.outputShape == Array(carry.shape.dropLast()) + [4 * units], plan.layout.width > 0,
              WinogradPlan(plan) == nil
        else { return nil }
        let n = carry.count
        let z = UnsafeMutablePointer<Float>.allocate(capacity: 4 * n)
        defer { z.deallocate() }
        var c = [Float]()
        let h = [Float](unsafeUninitializedCapacity: n) { hb, hDone in
            c = [Float](unsafeUninitializedCapacity: n) { cb, cDone in
                let (ph, pc) = (hb.baseAddress!, cb.baseAddress!)
                previous.scalars.withUnsafeBufferPointer { px in
                    kernel.scalars.withUnsafeBufferPointer { pw in
                        carry.scalars.withUnsafeBufferPointer { pcarry in
                            projected.scalars.withUnsafeBufferPointer { pp in
                                let carryBase = pcarry.baseAddress!
                                let epilogue = BoundEpilogue(epilogue: ChannelEpilogue(), residual: pp.baseAddress! + offset,
                                                             channels: 4 * units)
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
