// Reductions over axes: sum, mean, max, min, variance, argmax.

extension Tensor {
    /// Normalized, sorted, de-duplicated axes; nil means all axes.
    func reductionAxes(_ axes: [Int]?, _ op: String) throws -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(try axes.map { try checkAxis($0, op) })).sorted()
    }

    /// The output shape of reducing `axes` with or without kept dimensions.
    func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
    }

    /// Reduces `axes` with `combine` from `initial`; returns the values in the
    /// kept-dims layout and the reduced extent.
    func reduceRaw<F: BinaryFunction>(_ axes: [Int], initial: Float, _ combine: F) throws -> (Tensor, Int) {
        let keptShape = reducedShape(axes, keepDims: true)
        let r = axes.map { shape[$0] }.reduce(1, *)
        // Bring reduced axes into one contiguous block: [outer, r, inner].
        var source = self.detached
        var outer = 1, inner = 1
        let contiguous = axes.isEmpty || axes.last! - axes.first! + 1 == axes.count
        if contiguous, let first = axes.first {
            outer = shape[..<first].reduce(1, *)
            inner = shape[(axes.last! + 1)...].reduce(1, *)
        } else {
            let kept = (0..<rank).filter { !axes.contains($0) }
            source = try withoutGradient { try source.transposed(kept + axes) }
            outer = kept.map { shape[$0] }.reduce(1, *)
        }
        if axes.isEmpty { return (self.detached, 1) }
        var out = [Float](repeating: initial, count: outer * inner)
        source.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let (from, to) = (src.baseAddress!, dst.baseAddress!)
                parallelFor(outer, grain: Swift.max(1, (1 << 15) / Swift.max(1, r * inner))) { range in
                    for o in range {
                        let d = to + o * inner
                        var s = from + o * r * inner
                        if inner == 1 {
                            var acc = initial
                            for k in 0..<r { acc = combine(acc, s[k]) }
                            d[0] = acc
                        } else {
                            for _ in 0..<r {
                                for i in 0..<inner { d[i] = combine(d[i], s[i]) }
                                s += inner
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: keptShape, scalars: out), r)
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try reductionAxes(axes, "sum")
        let (kept, _) = try reduceRaw(ax, initial: 0, Add())
        let out = kept.reshapedUnchecked(reducedShape(ax, keepDims: keepDims))
        let (inShape, keptShape) = (shape, kept.shape)
        return Tensor.record("sum", out, [self]) { g in [try g.reshapedUnchecked(keptShape).broadcast(to: inShape)] }
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let ax = try reductionAxes(axes, "mean")
        let (kept, r) = try reduceRaw(ax, initial: 0, Add())
        let scale = 1 / Float(Swift.max(r, 1))
        let out = Kernels.map(kept, Scale(s: scale)).reshapedUnchecked(reducedShape(ax, keepDims: keepDims))
        let (inShape, keptShape) = (shape, kept.shape)
        return Tensor.record("mean", out, [self]) { g in [try (g * scale).reshapedUnchecked(keptShape).broadcast(to: inShape)] }
    }

    /// Maximum over `axes`; ties share the gradient equally (`tf.reduce_max`).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try extremum(axes, keepDims, "max", initial: -.infinity) { Swift.max($0, $1) }
    }

    /// Minimum over `axes`; ties share the gradient equally (`tf.reduce_min`).
    public func min(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        try extremum(axes, keepDims, "min", initial: .infinity) { Swift.min($0, $1) }
    }

    private func extremum(_ axes: [Int]?, _ keepDims: Bool, _ op: String, initial: Float,
                          _ combine: @escaping (Float, Float) -> Float) throws -> Tensor {
        let ax = try reductionAxes(axes, op)
        guard ax.allSatisfy({ shape[$0] > 0 }) else { throw TensorError.invalidArgument("\(op): reduction over an empty axis of \(shape)") }
        let (kept, _) = try reduceRaw(ax, initial: initial, BinaryClosure(body: combine))
        let out = kept.reshapedUnchecked(reducedShape(ax, keepDims: keepDims))
        let x = detached
        return Tensor.record(op, out, [self]) { g in
            let indicators = try Tensor.equal(x, kept)
            let selected = try indicators.sum(axes: ax, keepDims: true)
            return [try (try g.reshapedUnchecked(kept.shape) / selected) * indicators]
        }
    }

    /// Population variance over `axes` (`keras.ops.var`).
    public func variance(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let m = try mean(axes: axes, keepDims: true)
        return try (try self - m).square().mean(axes: axes, keepDims: keepDims)
    }

    /// Index of the largest element along `axis`, first on ties, as Float values.
    public func argmax(axis: Int = -1) throws -> Tensor {
        let a = try checkAxis(axis, "argmax")
        let n = shape[a], outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        guard n > 0 else { throw TensorError.invalidArgument("argmax: axis \(axis) of \(shape) is empty") }
        var out = [Float](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { s in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = s[o * n * inner + i], arg = 0
                    for k in 1..<Swift.max(n, 1) {
                        let v = s[(o * n + k) * inner + i]
                        if v > best || (best.isNaN == false && v.isNaN) { best = v; arg = k }
                    }
                    out[o * inner + i] = Float(arg)
                }
            }
        }
        var outShape = shape
        outShape.remove(at: a)
        return Tensor(shape: outShape, scalars: out)
    }
}
