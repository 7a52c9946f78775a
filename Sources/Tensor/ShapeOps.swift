// Shape ops: reshape, transpose, broadcast, slice, pad, concat, split, tile,
// gather, flip, stack. Each copies through one strided-view kernel.

/// A strided view of a row-major buffer: element `i` of the view (as a
/// multi-index over `shape`) sits at `offset + Σ index[k]·strides[k]`.
struct StridedView {
    var shape: [Int]
    var strides: [Int]
    var offset: Int

    init(contiguous shape: [Int]) {
        self.shape = shape
        self.offset = 0
        var s = 1
        var strides = [Int](repeating: 0, count: shape.count)
        for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
        self.strides = strides
    }

    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape; self.strides = strides; self.offset = offset
    }

    /// The same view with adjacent axes merged where one stride walks both,
    /// so that runs are as long as possible.
    var coalesced: StridedView {
        var shape: [Int] = [], strides: [Int] = []
        for (n, s) in zip(self.shape, self.strides) where n != 1 {
            if let last = shape.last, strides.last! == s * n {
                shape[shape.count - 1] = last * n
                strides[strides.count - 1] = s
            } else {
                shape.append(n)
                strides.append(s)
            }
        }
        return StridedView(shape: shape, strides: strides, offset: offset)
    }

    /// Calls `body(viewStart, contiguousIndex, runLength, step)` over the view in
    /// row-major order, one call per run along the last (merged) axis.
    @inline(__always)
    func forEachRun(_ body: (Int, Int, Int, Int) -> Void) {
        let total = shape.reduce(1, *)
        guard total > 0 else { return }
        let view = coalesced
        let (shape, strides, offset) = (view.shape, view.strides, view.offset)
        let r = shape.count
        if r == 0 { body(offset, 0, 1, 0); return }
        let n = shape[r - 1], step = strides[r - 1]
        var index = [Int](repeating: 0, count: r)
        var pos = offset
        var out = 0
        while out < total {
            body(pos, out, n, step)
            out += n
            var axis = r - 2
            while axis >= 0 {
                index[axis] += 1
                pos += strides[axis]
                if index[axis] < shape[axis] { break }
                pos -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Copies the view out of `source` into a new contiguous array.
    func gather(from source: [Float]) -> [Float] {
        let total = shape.reduce(1, *)
        return [Float](unsafeUninitializedCapacity: total) { buf, done in
            source.withUnsafeBufferPointer { src in
                forEachRun { start, o, n, step in
                    if step == 1 {
                        (buf.baseAddress! + o).update(from: src.baseAddress! + start, count: n)
                        return
                    }
                    var p = start
                    for i in o..<(o + n) { buf[i] = src[p]; p += step }
                }
            }
            done = total
        }
    }

    /// Adds contiguous `values` into the view's positions of `target`.
    func scatterAdd(_ values: [Float], into target: inout [Float]) {
        values.withUnsafeBufferPointer { v in
            target.withUnsafeMutableBufferPointer { dst in
                forEachRun { start, o, n, step in
                    var p = start
                    for i in o..<(o + n) { dst[p] += v[i]; p += step }
                }
            }
        }
    }
}

extension Tensor {
    func checkAxis(_ axis: Int, rank r: Int? = nil, _ op: String) throws -> Int {
        let r = r ?? rank
        let a = axis < 0 ? axis + r : axis
        guard a >= 0 && a < r else { throw TensorError.invalidArgument("\(op): axis \(axis) is out of range for rank \(r)") }
        return a
    }

    /// The same elements under `newShape`; one dimension may be -1.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        var shape = newShape
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidShape("reshape: bad target shape \(newShape)")
        }
        if let u = unknown.first {
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch("reshape: cannot reshape \(self.shape) (\(count) elements) to \(newShape)")
            }
            shape[u] = count / known
        }
        guard shape.reduce(1, *) == count else {
            throw TensorError.shapeMismatch("reshape: cannot reshape \(self.shape) (\(count) elements) to \(newShape)")
        }
        if shape == self.shape { return self }
        let old = self.shape
        return Tensor.record("reshape", reshapedUnchecked(shape), [self]) { g in [g.reshapedUnchecked(old)] }
    }

    /// Inserts an axis of length 1 at `axis`.
    public func expandingDims(at axis: Int) throws -> Tensor {
        let a = try checkAxis(axis, rank: rank + 1, "expand_dims")
        var s = shape
        s.insert(1, at: a)
        return try reshaped(to: s)
    }

    /// Removes axes of length 1 (all of them when `axes` is nil).
    public func squeezed(axes: [Int]? = nil) throws -> Tensor {
        let drop = try Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { try checkAxis($0, "squeeze") })
        for a in drop where shape[a] != 1 {
            throw TensorError.invalidArgument("squeeze: axis \(a) of shape \(shape) is not 1")
        }
        return try reshaped(to: shape.indices.filter { !drop.contains($0) }.map { shape[$0] })
    }

    /// Permutes axes: output axis `i` is input axis `permutation[i]`.
    public func transposed(_ permutation: [Int]? = nil) throws -> Tensor {
        let perm = permutation ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw TensorError.invalidArgument("transpose: \(perm) is not a permutation of the \(rank) axes of \(shape)")
        }
        if perm == Array(0..<rank) { return self }
        let base = StridedView(contiguous: shape)
        let view = StridedView(shape: perm.map { shape[$0] }, strides: perm.map { base.strides[$0] }, offset: 0)
        let out = Tensor(shape: view.shape, scalars: view.gather(from: scalars))
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return Tensor.record("transpose", out, [self]) { g in [try g.transposed(inverse)] }
    }

    /// Copies this tensor to a broadcast-compatible larger `shape`.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let s = try Broadcast.shape(shape, target, op: "broadcast_to")
        guard s == target else {
            throw TensorError.shapeMismatch("broadcast_to: cannot broadcast \(shape) to \(target)")
        }
        let view = StridedView(shape: target, strides: Broadcast.strides(shape, to: target), offset: 0)
        let out = Tensor(shape: target, scalars: view.gather(from: scalars))
        let old = shape
        return Tensor.record("broadcast_to", out, [self]) { g in [try g.unbroadcast(to: old)] }
    }

    /// The block starting at `begin` with extent `size` (-1: to the end), with an
    /// optional step per axis (negative steps walk backwards from `begin`).
    public func slice(begin: [Int], size: [Int], steps: [Int]? = nil) throws -> Tensor {
        let steps = steps ?? [Int](repeating: 1, count: rank)
        guard begin.count == rank, size.count == rank, steps.count == rank else {
            throw TensorError.invalidArgument("slice: begin \(begin), size \(size) and steps must each have \(rank) entries for shape \(shape)")
        }
        let base = StridedView(contiguous: shape)
        var outShape = [Int](), strides = [Int](), offset = 0
        for i in 0..<rank {
            let step = steps[i]
            guard step != 0 else { throw TensorError.invalidArgument("slice: step 0 on axis \(i)") }
            let b = begin[i] < 0 ? begin[i] + shape[i] : begin[i]
            let avail = step > 0 ? (shape[i] - b + step - 1) / step : (b + 1 + (-step) - 1) / (-step)
            let n = size[i] == -1 ? Swift.max(0, avail) : size[i]
            guard b >= 0, b <= shape[i], n >= 0, n <= Swift.max(0, avail), (n == 0 || b < shape[i]) else {
                throw TensorError.invalidArgument("slice: begin \(begin) size \(size) steps \(steps) is outside shape \(shape)")
            }
            outShape.append(n)
            strides.append(base.strides[i] * step)
            offset += b * base.strides[i]
        }
        let view = StridedView(shape: outShape, strides: strides, offset: offset)
        let out = Tensor(shape: outShape, scalars: view.gather(from: scalars))
        let inShape = shape
        return Tensor.record("slice", out, [self]) { g in
            var full = [Float](repeating: 0, count: inShape.reduce(1, *))
            view.scatterAdd(g.scalars, into: &full)
            return [Tensor(shape: inShape, scalars: full)]
        }
    }

    /// Reverses the order of elements along `axes`.
    public func flipped(axes: [Int]) throws -> Tensor {
        var begin = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank)
        for a in try axes.map({ try checkAxis($0, "flip") }) {
            begin[a] = shape[a] - 1
            steps[a] = -1
        }
        if shape.contains(0) { return self }
        return try slice(begin: begin, size: [Int](repeating: -1, count: rank), steps: steps)
    }

    /// Pads with `value`: `paddings[i] = (before, after)` for axis `i`.
    public func padded(_ paddings: [(Int, Int)], value: Float = 0) throws -> Tensor {
        guard paddings.count == rank, paddings.allSatisfy({ $0.0 >= 0 && $0.1 >= 0 }) else {
            throw TensorError.invalidArgument("pad: need \(rank) non-negative (before, after) pairs for shape \(shape)")
        }
        let outShape = zip(shape, paddings).map { $0 + $1.0 + $1.1 }
        var out = [Float](repeating: value, count: outShape.reduce(1, *))
        let base = StridedView(contiguous: outShape)
        let offset = zip(paddings, base.strides).map { $0.0 * $1 }.reduce(0, +)
        let view = StridedView(shape: shape, strides: base.strides, offset: offset)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                view.forEachRun { start, o, n, step in
                    var p = start
                    for i in o..<(o + n) { dst[p] = src[i]; p += step }
                }
            }
        }
        let result = Tensor(shape: outShape, scalars: out)
        return Tensor.record("pad", result, [self]) { g in
            [Tensor(shape: view.shape, scalars: view.gather(from: g.scalars))]
        }
    }

    /// Joins tensors along `axis`; all other axes must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("concatenate: no tensors") }
        let a = try first.checkAxis(axis, "concatenate")
        for t in tensors {
            var s1 = t.shape, s0 = first.shape
            guard s1.count == s0.count else {
                throw TensorError.shapeMismatch("concatenate: shapes \(first.shape) and \(t.shape) differ in rank")
            }
            s1[a] = 0; s0[a] = 0
            guard s1 == s0 else {
                throw TensorError.shapeMismatch("concatenate: shapes \(first.shape) and \(t.shape) differ off axis \(axis)")
            }
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let widths = tensors.map { $0.shape[a] * inner }
        let rowWidth = widths.reduce(0, +)
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        var out = [Float](repeating: 0, count: outer * rowWidth)
        out.withUnsafeMutableBufferPointer { dst in
            var column = 0
            for (t, w) in zip(tensors, widths) {
                t.scalars.withUnsafeBufferPointer { src in
                    for o in 0..<outer {
                        (dst.baseAddress! + o * rowWidth + column).update(from: src.baseAddress! + o * w, count: w)
                    }
                }
                column += w
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        return record("concatenate", Tensor(shape: outShape, scalars: out), tensors) { g in
            try g.split(sizes: sizes, axis: a).map { Optional($0) }
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int) throws -> [Tensor] {
        let a = try checkAxis(axis, "split")
        guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument("split: sizes \(sizes) do not add up to \(shape[a]) on axis \(axis) of \(shape)")
        }
        var begin = [Int](repeating: 0, count: rank)
        var pieces: [Tensor] = []
        for s in sizes {
            var size = shape
            size[a] = s
            pieces.append(try slice(begin: begin, size: size))
            begin[a] += s
        }
        return pieces
    }

    /// Splits along `axis` into `count` equal pieces.
    public func split(count: Int, axis: Int) throws -> [Tensor] {
        let a = try checkAxis(axis, "split")
        guard count > 0, shape[a] % count == 0 else {
            throw TensorError.invalidArgument("split: axis \(axis) of \(shape) does not divide into \(count) pieces")
        }
        return try split(sizes: [Int](repeating: shape[a] / count, count: count), axis: a)
    }

    /// Stacks tensors of one shape along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("stack: no tensors") }
        for t in tensors where t.shape != first.shape {
            throw TensorError.shapeMismatch("stack: shapes \(first.shape) and \(t.shape) differ")
        }
        let a = try first.checkAxis(axis, rank: first.rank + 1, "stack")
        return try concatenate(tensors.map { try $0.expandingDims(at: a) }, axis: a)
    }

    /// Repeats the tensor `multiples[i]` times along axis `i`.
    public func tiled(_ multiples: [Int]) throws -> Tensor {
        guard multiples.count == rank, multiples.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument("tile: need \(rank) non-negative multiples for shape \(shape), got \(multiples)")
        }
        // View the output as [m0, d0, m1, d1, ...] broadcasting the input over the m axes.
        var interleaved = [Int](), inShape = [Int]()
        for (m, d) in zip(multiples, shape) { interleaved += [m, d]; inShape += [1, d] }
        let expanded = try reshaped(to: inShape).broadcast(to: interleaved)
        return try expanded.reshaped(to: zip(multiples, shape).map { $0 * $1 })
    }

    /// Elements at `indices` along `axis` (`tf.gather`); the gradient scatters back.
    public func gather(_ indices: [Int], axis: Int = 0) throws -> Tensor {
        let a = try checkAxis(axis, "gather")
        for i in indices where i < 0 || i >= shape[a] {
            throw TensorError.invalidArgument("gather: index \(i) is out of range for axis \(axis) of size \(shape[a])")
        }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *), n = shape[a]
        var outShape = shape
        outShape[a] = indices.count
        var out = [Float](repeating: 0, count: outer * indices.count * inner)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        (dst.baseAddress! + (o * indices.count + j) * inner)
                            .update(from: src.baseAddress! + (o * n + i) * inner, count: inner)
                    }
                }
            }
        }
        let inShape = shape
        return Tensor.record("gather", Tensor(shape: outShape, scalars: out), [self]) { g in
            var full = [Float](repeating: 0, count: inShape.reduce(1, *))
            g.scalars.withUnsafeBufferPointer { gs in
                full.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<outer {
                        for (j, i) in indices.enumerated() {
                            let d = dst.baseAddress! + (o * n + i) * inner, s = gs.baseAddress! + (o * indices.count + j) * inner
                            for k in 0..<inner { d[k] += s[k] }
                        }
                    }
                }
            }
            return [Tensor(shape: inShape, scalars: full)]
        }
    }
}
