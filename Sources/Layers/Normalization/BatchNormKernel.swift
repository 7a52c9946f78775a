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
        Parallelism.perform(iterations: parts.count) { body(parts[$0]) }
    }

    /// Per channel `c`, `Σ (a − aShift[c])` and, when `b` is given,
    /// `Σ (a − aShift[c]) · (b − bShift[c])`, in one pass (shifts default to 0).
    /// Float partial sums over blocks of 64 rows are added in Double.
    func sums(_ a: [Float], minus aShift: [Float]? = nil, times b: [Float]? = nil,
              bMinus bShift: [Float]? = nil) -> (sums: [Double], products: [Double]) {
        let (channels, inner) = (self.channels, self.inner)
        let zeros = [Float](repeating: 0, count: channels)
        let parts = chunks()
        let products = b != nil
        // Per part: the sums, then the products.
        var totals = [Double](repeating: 0, count: parts.count * 2 * channels)
        a.withUnsafeBufferPointer { pa in (b ?? a).withUnsafeBufferPointer { pb in
            (aShift ?? zeros).withUnsafeBufferPointer { psa in (bShift ?? zeros).withUnsafeBufferPointer { psb in
                totals.withUnsafeMutableBufferPointer { out in
                    let (xa, xb, sa, sb, totals) = (pa.baseAddress!, pb.baseAddress!, psa.baseAddress!, psb.baseAddress!,
                                                    out.baseAddress!)
                    Parallelism.perform(iterations: parts.count) { w in
                        let total = totals + w * 2 * channels
                        let block = UnsafeMutablePointer<Float>.allocate(capacity: 2 * channels)
                        defer { block.deallocate() }
                        let (s1, s2) = (block, block + channels)
                        var rows = parts[w].lowerBound
                        while rows < parts[w].upperBound {
                            let end = Swift.min(parts[w].upperBound, rows + 64)
                            block.initialize(repeating: 0, count: 2 * channels)
                            for o in rows..<end {
                                let row = o * channels * inner
                                if inner == 1 {
                                    // Channels last: one value per channel and row.
                                    let (ra, rb) = (xa + row, xb + row)
                                    if products {
                                        for c in 0..<channels {
                                            let d = ra[c] - sa[c]
                                            s1[c] += d
                                            s2[c] += d * (rb[c] - sb[c])
                                        }
                                    } else {
                                        for c in 0..<channels { s1[c] += ra[c] - sa[c] }
                                    }
                                    continue
                                }
                                for c in 0..<channels {
                                    let base = row + c * inner
                                    var t1: Float = 0, t2: Float = 0
                                    for i in base..<(base + inner) {
                                        let d = xa[i] - sa[c]
                                        t1 += d
                                        if products { t2 += d * (xb[i] - sb[c]) }
                                    }
                                    s1[c] += t1
                                    s2[c] += t2
                                }
                            }
                            for c in 0..<2 * channels { total[c] += Double(block[c]) }
                            rows = end
                        }
                    }
                }
            } }
        } }
        func add(_ offset: Int) -> [Double] {
            (0..<channels).map { c in (0..<parts.count).reduce(0) { $0 + totals[$1 * 2 * channels + offset + c] } }
        }
        return (add(0), products ? add(channels) : [])
    }

    /// `a · aScale[c] + b · bScale[c] + offset[c]` elementwise (`b` optional).
    func affine(_ a: [Float], _ aScale: [Float], _ b: [Float]? = nil, _ bScale: [Float]? = nil, offset: [Float]) -> [Float] {
        let (channels, inner) = (self.channels, self.inner)
        let count = outer * channels * inner
        let zeros = [Float](repeating: 0, count: channels)
        return [Float](unsafeUninitializedCapacity: count) { buffer, done in
            a.withUnsafeBufferPointer { pa in (b ?? a).withUnsafeBufferPointer { pb in
                aScale.withUnsafeBufferPointer { ps1 in (bScale ?? zeros).withUnsafeBufferPointer { ps2 in
                    offset.withUnsafeBufferPointer { pt in
                        let (xa, xb, s1, s2, t, out) = (pa.baseAddress!, pb.baseAddress!, ps1.baseAddress!,
                                                        ps2.baseAddress!, pt.baseAddress!, buffer.baseAddress!)
                        let two = b != nil
                        parallel { rows in
                            for o in rows {
                                let row = o * channels * inner
                                let (ra, rb, ro) = (xa + row, xb + row, out + row)
                                if inner == 1 {
                                    if two {
                                        for c in 0..<channels { ro[c] = ra[c] * s1[c] + rb[c] * s2[c] + t[c] }
                                    } else {
                                        for c in 0..<channels { ro[c] = ra[c] * s1[c] + t[c] }
                                    }
                                    continue
                                }
                                for c in 0..<channels {
                                    let base = c * inner
                                    let (k1, k2, k0) = (s1[c], s2[c], t[c])
                                    if two {
                                        for i in base..<(base + inner) { ro[i] = ra[i] * k1 + rb[i] * k2 + k0 }
                                    } else {
                                        for i in base..<(base + inner) { ro[i] = ra[i] * k1 + k0 }
                                    }
                                }
                            }
                        }
                    }
                } }
            } }
            done = count
        }
    }
}

/// Batch normalization with fixed statistics as a per-channel affine map,
/// `x · inv + shift`, with `rstd = 1 / sqrt(variance + ε)`, `inv = γ · rstd`
/// and `shift = β − mean · inv`.
struct BatchNormAffine {
    let rstd: [Float], inv: [Float], shift: [Float]

    init(mean: [Float], variance: [Float], gamma: [Float]?, beta: [Float]?, epsilon: Double) {
        rstd = variance.map { 1 / (($0 + Float(epsilon)).squareRoot()) }
        let inv = zip(rstd, gamma ?? [Float](repeating: 1, count: mean.count)).map { $0 * $1 }
        shift = (0..<mean.count).map { c in (beta?[c] ?? 0) - mean[c] * inv[c] }
        self.inv = inv
    }

    var parts: ([Float], [Float], [Float]) { (rstd, inv, shift) }
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
            let m = view.sums(xs).sums.map { Float($0 / n) }
            (mean, variance) = (m, view.sums(xs, minus: m, times: xs, bMinus: m).products.map { Float($0 / n) })
        }
        let (rstd, inv, shift) = BatchNormAffine(mean: mean, variance: variance, gamma: gamma?.scalars,
                                                 beta: beta?.scalars, epsilon: epsilon).parts
        let y = view.affine(xs, inv, offset: shift)

        let inputs = [x] + [gamma, beta].compactMap { $0 }
        let training = statistics == nil
        let output = Tensor.customGradient("batch_normalization", inputs: inputs, forward: { _ in
            Tensor(shape: x.shape, scalars: y)
        }, backward: { dy in
            // With x̂ = (x − mean) · rstd: dβ = Σ dy and dγ = Σ dy · x̂. dx = dy · inv for
            // constant statistics; for batch ones dx = inv · (dy − Σdy / n − x̂ · Σ(dy · x̂) / n).
            let ds = dy.scalars
            let (sumDy, sumDyXc) = view.sums(ds, times: xs, bMinus: mean)
            let sumDyXhat = zip(sumDyXc, rstd).map { $0 * Double($1) }
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
