/// Quantization to a step, the forward pass of the delta layer: `q · round(x / q)`
/// with ties to even (`tf.round`), and the two gradients of the step.
///
/// The step `q` broadcasts against `x` by trailing alignment and repeats every
/// `q.count` elements: a `[C]` step is per channel, `[1]` per layer, and a
/// per-frame shape per neuron.
extension Tensor {
    /// How the gradient of `q · round(x / q)` with respect to `q` is estimated.
    public enum StepGradient: Sendable {
        /// Learned step size (Esser et al.): `round(x/q) − x/q`.
        case lsq
        /// The delta paper's estimator: `−round(x/q)`.
        case paper
    }

    /// `q · round(x / q)`, ties to even. No gradient is recorded.
    public static func quantize(_ x: Tensor, step q: Tensor) throws -> Tensor {
        try checkStep(x, q)
        // Steps repeated to a row of at least 64 values, so short periods (3 channels) vectorize too.
        let repeats = (64 + q.count - 1) / q.count
        let steps = repeats == 1 ? q.scalars : [[Float]](repeating: q.scalars, count: repeats).flatMap { $0 }
        let period = steps.count, rows = x.count / period
        let out = [Float](unsafeUninitializedCapacity: x.count) { ys, initialized in
            x.scalars.withUnsafeBufferPointer { xs in
                steps.withUnsafeBufferPointer { qs in
                    let (xp, qp, yp) = (xs.baseAddress!, qs.baseAddress!, ys.baseAddress!)
                    func quantize(from start: Int, count: Int) {
                        for j in 0..<count { yp[start + j] = qp[j] * (xp[start + j] / qp[j]).rounded(.toNearestOrEven) }
                    }
                    // Whole rows, so each chunk starts at step index 0; then the partial last row.
                    parallelFor(rows, grain: Swift.max(1, (1 << 15) / period)) { chunk in
                        for row in chunk { quantize(from: row * period, count: period) }
                    }
                    quantize(from: rows * period, count: x.count - rows * period)
                }
            }
            initialized = x.count
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// The gradient of `Σ g · q·round(x/q)` with respect to `q`, summed to `q`'s shape.
    public static func quantizeStepGradient(_ x: Tensor, step q: Tensor, outputGradient g: Tensor,
                                            estimator: StepGradient) throws -> Tensor {
        try checkStep(x, q)
        guard g.shape == x.shape else {
            throw TensorError.shapeMismatch("quantize: gradient of shape \(g.shape) for an input of shape \(x.shape)")
        }
        let period = q.count
        var sums = [Double](repeating: 0, count: period)
        for row in 0..<(x.count / period) {
            let base = row * period
            for j in 0..<period {
                let ratio = x.scalars[base + j] / q.scalars[j]
                let r = ratio.rounded(.toNearestOrEven)
                let d: Float = estimator == .lsq ? r - ratio : -r
                sums[j] += Double(g.scalars[base + j] * d)
            }
        }
        return Tensor(shape: q.shape, scalars: sums.map { Float($0) })
    }

    private static func checkStep(_ x: Tensor, _ q: Tensor) throws {
        guard q.rank <= x.rank, q.count > 0, Array(x.shape.suffix(q.rank)) == q.shape || q.shape == [1] else {
            throw TensorError.shapeMismatch("quantize: the step of shape \(q.shape) does not broadcast over \(x.shape)")
        }
    }
}
