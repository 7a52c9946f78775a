/// NumPy broadcasting: shapes, strided iteration and gradient reduction.
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or a shape-mismatch error naming `op`.
    static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw TensorError.shapeMismatch("\(op): shapes \(a) and \(b) cannot be broadcast together")
            }
        }
        return out
    }

    /// Row-major strides of `shape` aligned to `outShape`, 0 on broadcast axes.
    static func strides(_ shape: [Int], to outShape: [Int]) -> [Int] {
        let rank = outShape.count
        var strides = [Int](repeating: 0, count: rank)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let o = i + rank - shape.count
            strides[o] = shape[i] == 1 && outShape[o] != 1 ? 0 : s
            s *= shape[i]
        }
        return strides
    }

    /// Merges adjacent axes whose strides allow it, for every operand at once.
    /// Returns sizes and one stride list per operand, at least rank 1.
    static func coalesce(_ shape: [Int], _ operandStrides: [[Int]]) -> (sizes: [Int], strides: [[Int]]) {
        var sizes: [Int] = []
        var strides: [[Int]] = operandStrides.map { _ in [] }
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = sizes.last,
               operandStrides.indices.allSatisfy({ strides[$0].last! == operandStrides[$0][i] * shape[i] }) {
                sizes[sizes.count - 1] = last * shape[i]
                for k in operandStrides.indices { strides[k][strides[k].count - 1] = operandStrides[k][i] }
            } else {
                sizes.append(shape[i])
                for k in operandStrides.indices { strides[k].append(operandStrides[k][i]) }
            }
        }
        if sizes.isEmpty { return ([1], operandStrides.map { _ in [0] }) }
        return (sizes, strides)
    }

    /// Calls `body(outOffset, aOffset, bOffset, n, aStep, bStep)` for each
    /// contiguous inner run of the broadcast iteration of `a` and `b` over `out`.
    @inline(__always)
    static func forEachRun(out outShape: [Int], a: [Int], b: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let (sizes, strides) = coalesce(outShape, [strides(a, to: outShape), strides(b, to: outShape)])
        let r = sizes.count
        let n = sizes[r - 1], sa = strides[0][r - 1], sb = strides[1][r - 1]
        let outer = sizes.dropLast().reduce(1, *)
        if r == 1 { body(0, 0, 0, n, sa, sb); return }
        var index = [Int](repeating: 0, count: r - 1)
        var oa = 0, ob = 0
        for o in 0..<outer {
            body(o * n, oa, ob, n, sa, sb)
            var axis = r - 2
            while axis >= 0 {
                index[axis] += 1
                oa += strides[0][axis]; ob += strides[1][axis]
                if index[axis] < sizes[axis] { break }
                oa -= strides[0][axis] * sizes[axis]; ob -= strides[1][axis] * sizes[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

extension Tensor {
    /// Sums this gradient over the axes along which `shape` was broadcast, so
    /// that the result has exactly `shape`.
    func unbroadcast(to shape: [Int]) throws -> Tensor {
        if self.shape == shape { return self }
        let lead = rank - shape.count
        var axes = Array(0..<lead)
        for (i, d) in shape.enumerated() where d == 1 && self.shape[lead + i] != 1 { axes.append(lead + i) }
        return try sum(axes: axes).reshaped(to: shape)
    }
}
