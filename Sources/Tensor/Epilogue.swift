/// Per-channel work fused into a convolution's output while it is produced,
/// for inference: `y ← q[c] · round(relu((y + bias[c]) · scale[c] + shift[c] + residual) / q[c])`
/// with the rectifier capped at ``reluCap`` and the quantization of a delta
/// layer last (``quantizeStep``). Each step is optional.
///
/// The steps use the same float operations as a separate bias add, batch
/// normalization (`x · inv + (β − mean · inv)`), residual `Add` and
/// `min(max(x, 0), cap)`, so a fused op returns bit for bit what the
/// separate ops return, without their passes over memory. An op given an
/// epilogue has no gradient.
///
/// ```swift
/// // conv → BatchNormalization (inference) → ReLU(max_value: 6)
/// let y = try Tensor.conv(x, w, padding: .same,
///                         epilogue: ChannelEpilogue(scale: inv, shift: shift, reluCap: 6))
/// ```
public struct ChannelEpilogue: Equatable {
    /// Added first, per channel.
    public var bias: [Float]?
    /// Multiplies, then ``shift`` is added; both or neither.
    public var scale: [Float]?
    public var shift: [Float]?
    /// Added elementwise next; it has the output's shape (a residual connection).
    public var residual: Tensor?
    /// Applies `min(max(y, 0), cap)`; `.infinity` for a plain ReLU.
    public var reluCap: Float?
    /// Quantizes last, `q[c] · round(y / q[c])` with ties to even, as ``Tensor/quantize(_:step:)``.
    public var quantizeStep: [Float]?

    public init(bias: [Float]? = nil, scale: [Float]? = nil, shift: [Float]? = nil, residual: Tensor? = nil,
                reluCap: Float? = nil, quantizeStep: [Float]? = nil) {
        self.bias = bias
        self.scale = scale
        self.shift = shift
        self.residual = residual
        self.reluCap = reluCap
        self.quantizeStep = quantizeStep
    }

    /// Throws unless every vector has the output's channel count, the residual
    /// the output's shape, and scale and shift come together.
    func check(outputShape: [Int], op: String) throws {
        guard (scale == nil) == (shift == nil) else {
            throw TensorError.invalidArgument("\(op): an epilogue needs both scale and shift, or neither")
        }
        let channels = outputShape.last ?? 1
        for (name, v) in [("bias", bias), ("scale", scale), ("shift", shift), ("quantizeStep", quantizeStep)] {
            if let v, v.count != channels {
                throw TensorError.shapeMismatch("\(op): epilogue \(name) has \(v.count) values for \(channels) channels")
            }
        }
        if let residual, residual.shape != outputShape {
            throw TensorError.shapeMismatch("\(op): epilogue residual has shape \(residual.shape), the output \(outputShape)")
        }
    }

    /// Runs `body` with this epilogue bound to outputs of `channels` channels.
    func bound<R>(channels: Int, _ body: (BoundEpilogue) -> R) -> R {
        guard let residual else { return body(BoundEpilogue(epilogue: self, residual: nil, channels: channels)) }
        return residual.scalars.withUnsafeBufferPointer {
            body(BoundEpilogue(epilogue: self, residual: $0.baseAddress, channels: channels))
        }
    }
}

/// A ``ChannelEpilogue`` with its residual's storage pinned, as kernels apply it.
struct BoundEpilogue {
    let epilogue: ChannelEpilogue
    let residual: UnsafePointer<Float>?
    let channels: Int

    /// Whether the epilogue only adds the residual: a GEMM can then start
    /// from the residual's rows (`beta = 1`) instead of zeros.
    var addsResidualOnly: Bool {
        residual != nil && epilogue.bias == nil && epilogue.scale == nil && epilogue.reluCap == nil
            && epilogue.quantizeStep == nil
    }

    /// Copies the residual's rows `rows` into `y`.
    func copyResidual(to y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        guard let residual else { return }
        (y + rows.lowerBound * channels).update(from: residual + rows.lowerBound * channels, count: rows.count * channels)
    }

    /// Applies the epilogue in place to output rows (pixels) `rows` of `y`,
    /// which points at the whole output. It takes each row through every step
    /// while the row is in L1, so the rows cross memory once.
    func apply(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let channels = self.channels
        withUnsafePointer(epilogue.bias) { bias in
            withUnsafePointer(epilogue.scale) { scale in
                withUnsafePointer(epilogue.shift) { shift in
                  withUnsafePointer(epilogue.quantizeStep) { step in
                    for r in rows {
                        let row = y + r * channels
                        if let bias { for c in 0..<channels { row[c] = row[c] + bias[c] } }
                        if let scale, let shift { for c in 0..<channels { row[c] = row[c] * scale[c] + shift[c] } }
                        if let residual {
                            let add = residual + r * channels
                            for c in 0..<channels { row[c] = row[c] + add[c] }
                        }
                        if let cap = epilogue.reluCap {
                            let f = ClippedRelu(cap: cap)
                            for c in 0..<channels { row[c] = f(row[c]) }
                        }
                        if let step {
                            for c in 0..<channels { row[c] = step[c] * (row[c] / step[c]).rounded(.toNearestOrEven) }
                        }
                    }
                  }
                }
            }
        }
    }

    /// ``apply(_:rows:)`` split across the cores.
    func applyInParallel(_ y: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        parallelFor(rows.count, grain: Swift.max(1, (1 << 14) / Swift.max(1, channels))) { r in
            apply(y, rows: (rows.lowerBound + r.lowerBound)..<(rows.lowerBound + r.upperBound))
        }
    }
}

/// Runs `body` with `epilogue` bound to outputs of `channels` channels, or with nil.
func withBound<R>(_ epilogue: ChannelEpilogue?, channels: Int, _ body: (BoundEpilogue?) -> R) -> R {
    guard let epilogue else { return body(nil) }
    return epilogue.bound(channels: channels) { body($0) }
}

extension Tensor {
    /// Throws when an op with an epilogue would need a gradient.
    static func checkNoGradient(_ inputs: [Tensor], op: String) throws {
        guard GradientTape.noGradientDepth > 0 || !inputs.contains(where: { $0.isTracked }) else {
            throw TensorError.gradient("\(op) with an epilogue has no gradient; call it on untracked tensors or inside withoutGradient")
        }
    }
}

/// Runs `body` with the storage of `values`, or with nil.
private func withUnsafePointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
