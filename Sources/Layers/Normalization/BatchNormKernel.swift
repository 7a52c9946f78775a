import Dispatch
import Tensor

/// A tensor seen as `[outer, channels, inner]` around its channel axis.
struct ChannelView {
    let outer: Int, channels: Int, inner: Int

    init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        channels = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    /// The number of values of each channel.
    var perChannel: Int { outer * inner }

    /// Splits `0..<outer` over the cores when the tensor is large enough.
    private func chunks() -> [Range<Int>] {
        let workers = Swift.max(1, Swift.min(Parallelism.cores, outer, outer * channels * inner / (1 << 15)))
        let size = (outer + workers - 1) / workers
        return stride(from: 0, to: outer, by: size).map { $0..<Swift.min(outer, $0 + size) }
    }

    /// Runs `body(rows)` over chunks of `0..<outer` on the cores.
    private func parallel(_ body: (Range<Int>) -> Void) {
        let parts = chunks()
        DispatchQueue.concurrentPerform(iterations: parts.count) { body(parts[$0]) }
    }

    /// `Σ a` over the values of each channel.
    func sums(_ a: [Float]) -> [Double] { reduce(a, nil, nil, nil) }

    /// `Σ (a − aCenter[c]) · (b − bCenter[c])` over the values of each channel `c`.
    func sumsOfProducts(_ a: [Float], centeredAt aCenter: [Float]?, _ b: [Float], centeredAt bCenter: [Float]?) -> [Double] {
        reduce(a, aCenter, b, bCenter)
    }

    /// Per channel `Σ (a − aShift[c]) · (b − bShift[c])`, or `Σ (a − aShift[c])`
    /// when `b` is nil. Float partial sums over blocks of rows are added in Double.
    private func reduce(_ a: [Float], _ aShift: [Float]?, _ b: [Float]?, _ bShift: [Float]?) -> [Double] {
        let (channels, inner) = (self.channels, self.inner)
        let zeros = [Float](repeating: 0, count: channels)
        let parts = chunks()
        var totals = [Double](repeating: 0, count: parts.count * channels)
        a.withUnsafeBufferPointer { pa in (b ?? a).withUnsafeBufferPointer { pb in
            (aShift ?? zeros).withUnsafeBufferPointer { sa in (bShift ?? zeros).withUnsafeBufferPointer { sb in
                totals.withUnsafeMutableBufferPointer { out in
                    DispatchQueue.concurrentPerform(iterations: parts.count) { w in
                        let total = out.baseAddress! + w * channels
                        let block = UnsafeMutablePointer<Float>.allocate(capacity: channels)
                        defer { block.deallocate() }
                        var rows = parts[w].lowerBound
                        while rows < parts[w].upperBound {
                            let end = Swift.min(parts[w].upperBound, rows + 64)
                            block.initialize(repeating: 0, count: channels)
                            for o in rows..<end {
                                let row = o * channels * inner
                                if inner == 1 {
                                    // Channels last: one value per channel and row.
                                    if b == nil {
                                        for c in 0..<channels { block[c] += pa[row + c] - sa[c] }
                                    } else {
                                        for c in 0..<channels { block[c] += (pa[row + c] - sa[c]) * (pb[row + c] - sb[c]) }
                                    }
                                    continue
                                }
                                for c in 0..<channels {
                                    let base = row + c * inner
                                    var s: Float = 0
                                    if b == nil {
                                        for i in base..<(base + inner) { s += pa[i] - sa[c] }
                                    } else {
                                        for i in base..<(base + inner) { s += (pa[i] - sa[c]) * (pb[i] - sb[c]) }
                                    }
                                    block[c] += s
                                }
                            }
                            for c in 0..<channels { total[c] += Double(block[c]) }
                            rows = end
                        }
                    }
                }
            } }
        } }
        return (0..<channels).map { c in (0..<parts.count).reduce(0) { $0 + totals[$1 * channels + c] } }
    }

    /// `a · aScale[c] + b · bScale[c] + offset[c]` elementwise (`b` optional).
    func affine(_ a: [Float], _ aScale: [Float], _ b: [Float]? = nil, _ bScale: [Float]? = nil, offset: [Float]) -> [Float] {
        let (channels, inner) = (self.channels, self.inner)
        let count = outer * channels * inner
        return [Float](unsafeUninitializedCapacity: count) { out, done in
            a.withUnsafeBufferPointer { pa in
                (b ?? a).withUnsafeBufferPointer { pb in
                    let sb = bScale ?? [Float](repeating: 0, count: channels)
                    parallel { rows in
                        for o in rows {
                            for c in 0..<channels {
                                let base = (o * channels + c) * inner
                                let (s1, s2, t) = (aScale[c], sb[c], offset[c])
                                if b == nil {
                                    for i in base..<(base + inner) { out[i] = pa[i] * s1 + t }
                                } else {
                                    for i in base..<(base + inner) { out[i] = pa[i] * s1 + pb[i] * s2 + t }
                                }
                            }
                        }
                    }
                }
            }
            done = count
        }
    }
}

extension Tensor {
    /// Batch normalization over channel axis `axis` as one fused kernel with
    /// its gradient: `x · inv + (β − mean · inv)` with `inv = γ / sqrt(variance + ε)`,
    /// the formula of `tf.nn.batch_normalization`.
    ///
    /// With `statistics` nil it uses the batch mean and biased variance (the
    /// training form, whose gradient flows through the statistics); otherwise
    /// the given per-channel mean and variance, as constants. `gamma` and `beta`
    /// are per-channel, or nil for 1 and 0. Returns the output and the
    /// statistics it used.
    static func batchNormalized(_ x: Tensor, axis: Int, statistics: (mean: Tensor, variance: Tensor)?,
                                gamma: Tensor?, beta: Tensor?, epsilon: Double) throws -> (Tensor, mean: Tensor, variance: Tensor) {
        let view = ChannelView(shape: x.shape, axis: axis)
        let n = Double(view.perChannel)
        let xs = x.scalars
        let (mean, variance): ([Float], [Float])
        if let statistics {
            (mean, variance) = (statistics.mean.scalars, statistics.variance.scalars)
        } else {
            // Two passes, as `tf.nn.moments`: the mean, then the mean squared deviation from it.
            let m = view.sums(xs).map { Float($0 / n) }
            (mean, variance) = (m, view.sumsOfProducts(xs, centeredAt: m, xs, centeredAt: m).map { Float($0 / n) })
        }
        let rstd = variance.map { 1 / (($0 + Float(epsilon)).squareRoot()) }
        let inv = zip(rstd, gamma?.scalars ?? [Float](repeating: 1, count: view.channels)).map { $0 * $1 }
        let shift = (0..<view.channels).map { c in (beta?.scalars[c] ?? 0) - mean[c] * inv[c] }
        let y = view.affine(xs, inv, offset: shift)

        let inputs = [x] + [gamma, beta].compactMap { $0 }
        let training = statistics == nil
        let output = Tensor.customGradient("batch_normalization", inputs: inputs, forward: { _ in
            Tensor(shape: x.shape, scalars: y)
        }, backward: { dy in
            // With x̂ = (x − mean) · rstd: dβ = Σ dy and dγ = Σ dy · x̂. dx = dy · inv for
            // constant statistics; for batch ones dx = inv · (dy − Σdy / n − x̂ · Σ(dy · x̂) / n).
            let ds = dy.scalars
            let sumDy = view.sums(ds)
            let sumDyXhat = zip(view.sumsOfProducts(ds, centeredAt: nil, xs, centeredAt: mean), rstd).map { $0 * Double($1) }
            let dx: [Float]
            if training {
                let k = (0..<view.channels).map { c in -inv[c] * rstd[c] * Float(sumDyXhat[c] / n) }
                let offset = (0..<view.channels).map { c in -inv[c] * Float(sumDy[c] / n) - mean[c] * k[c] }
                dx = view.affine(ds, inv, xs, k, offset: offset)
            } else {
                dx = view.affine(ds, inv, offset: [Float](repeating: 0, count: view.channels))
            }
            var grads: [Tensor?] = [Tensor(shape: x.shape, scalars: dx)]
            if gamma != nil { grads.append(Tensor(shape: [view.channels], scalars: sumDyXhat.map { Float($0) })) }
            if beta != nil { grads.append(Tensor(shape: [view.channels], scalars: sumDy.map { Float($0) })) }
            return grads
        })
        return (output, Tensor(shape: [view.channels], scalars: mean), Tensor(shape: [view.channels], scalars: variance))
    }
}
