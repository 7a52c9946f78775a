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
        guard let sequence = try? projected.reshaped(to: [1] + projected.shape) else { return nil }
        return convLSTMStepInference(previous, kernel, projectedSequence: sequence, timestep: 0, carry: carry)
    }

    /// ``convLSTMStepInference(_:_:projected:carry:)`` with the input transform
    /// of timestep `timestep` of a whole sequence, `[time, batch, spatial..., 4·units]`,
    /// read in place (no copy of the step's slice).
    public static func convLSTMStepInference(_ previous: Tensor, _ kernel: Tensor, projectedSequence: Tensor,
                                             timestep: Int, carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard let units = carry.shape.last, projectedSequence.rank == carry.rank + 1,
              (0..<projectedSequence.shape[0]).contains(timestep),
              Array(projectedSequence.shape.dropFirst()) == Array(carry.shape.dropLast()) + [4 * units] else { return nil }
        guard previous.shape == carry.shape else { return nil }
        return convLSTMStep(previous, kernel, residual: projectedSequence, offset: timestep * 4 * carry.count,
                            carry: carry)
    }

    /// One step of a convolutional LSTM at inference whose input and
    /// recurrent convolutions run as one: `joined` is this step's input and
    /// the previous output concatenated along channels `[batch, spatial...,
    /// inputChannels + units]`, `kernel` the input and recurrent kernels
    /// concatenated along their input channels, so that
    /// `z = conv(joined, kernel, same padding) + bias`; then the gates as in
    /// ``convLSTMStepInference(_:_:projected:carry:)``. One GEMM with the
    /// summed K instead of two, and no input transform of the whole sequence
    /// to write and read back; it sums in another order than the two
    /// convolutions, and may take ``WinogradPlan``.
    /// - Returns: nil when an input is tracked, `units` is not a multiple of
    ///   8, or the shapes do not fit.
    public static func convLSTMStepInference(joined: Tensor, _ kernel: Tensor, bias: [Float]?,
                                             carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard let units = carry.shape.last, bias == nil || bias?.count == 4 * units,
              joined.shape.dropLast() == carry.shape.dropLast() else { return nil }
        let epilogue = bias.map { ChannelEpilogue(bias: $0) }
        return convLSTMStep(joined, kernel, residual: nil, offset: 0, epilogue: epilogue, carry: carry)
    }

    /// The fused step: `z = conv(previous, kernel)` plus, when given, the
    /// `[batch, spatial..., 4·units]` residual at `offset` in `residual`'s
    /// storage (then never Winograd, as the composed step), or the epilogue.
    private static func convLSTMStep(_ previous: Tensor, _ kernel: Tensor, residual: Tensor?, offset: Int,
                                     epilogue: ChannelEpilogue? = nil, carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard !previous.isTracked, !kernel.isTracked, !(residual?.isTracked ?? false), !carry.isTracked,
              (3...5).contains(previous.rank), let units = carry.shape.last, units > 0, units % 8 == 0,
              previous.rank == carry.rank, kernel.rank == previous.rank, kernel.shape.last == 4 * units,
              let plan = try? ConvolutionPlan(op: "convLSTMStepInference", inputShape: previous.shape,
                                              kernelShape: kernel.shape, strides: [1], padding: .same,
                                              dilation: [1], groups: 1),
              plan.outputShape == Array(carry.shape.dropLast()) + [4 * units], plan.layout.width > 0
        else { return nil }
        let winograd = WinogradPlan(plan)
        if residual != nil && winograd != nil { return nil }
        let n = carry.count, rows = n / units
        let z = UnsafeMutablePointer<Float>.allocate(capacity: 4 * n)
        defer { z.deallocate() }
        var c = [Float]()
        let h = [Float](unsafeUninitializedCapacity: n) { hb, hDone in
            c = [Float](unsafeUninitializedCapacity: n) { cb, cDone in
                let (ph, pc) = (hb.baseAddress!, cb.baseAddress!)
                previous.scalars.withUnsafeBufferPointer { px in
                    kernel.scalars.withUnsafeBufferPointer { pw in
                        carry.scalars.withUnsafeBufferPointer { pcarry in
                            let carryBase = pcarry.baseAddress!
                            func gates(_ rows: Range<Int>) {
                                VectorMath.lstmGates(z, carry: carryBase, h: ph, c: pc, units: units, rows: rows)
                            }
                            if let residual {
                                residual.scalars.withUnsafeBufferPointer { pr in
                                    let bound = BoundEpilogue(epilogue: ChannelEpilogue(), residual: pr.baseAddress! + offset,
                                                              channels: 4 * units)
                                    plan.forward(px.baseAddress!, pw.baseAddress!, z, epilogue: bound, smallKernel: true,
                                                 rowsDone: gates)
                                }
                                return
                            }
                            withBound(epilogue, channels: 4 * units) { bound in
                                if let winograd {
                                    winograd.forward(px.baseAddress!, pw.baseAddress!, z, epilogue: bound)
                                    parallelFor(rows, grain: Swift.max(1, 4096 / units)) { gates($0) }
                                } else {
                                    plan.forward(px.baseAddress!, pw.baseAddress!, z, epilogue: bound, smallKernel: true,
                                                 rowsDone: gates)
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
