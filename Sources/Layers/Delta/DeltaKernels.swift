import Tensor

/// The delta layer's training-path kernels, fused and run on all cores: the
/// mean |frame-to-frame difference| with its gradient, and the step gradient.
///
/// Work is split into fixed blocks whose partial sums are added in block
/// order, so results do not depend on the number of cores or on timing.
enum DeltaKernels {
    /// Elements per block of work.
    static let blockSize = 1 << 15

    /// Runs `body(b)` for every block `b` in `0..<blocks`, on all cores when there are several;
    /// each block writes its own partial sums, so the split does not change the result.
    static func forEachBlock(_ blocks: Int, _ body: (Int) -> Void) {
        parallelFor(blocks, grain: 1) { range in for b in range { body(b) } }
    }

    /// Calls `body(base, start, count)` for each run of one frame's elements in
    /// `range`, a range of flat indices over `rows` rows of `perFrame` elements,
    /// `base` being the row's first index.
    @inline(__always)
    static func forEachRun(_ range: Range<Int>, perFrame: Int, _ body: (_ row: Int, _ offset: Int, _ count: Int) -> Void) {
        var k = range.lowerBound
        while k < range.upperBound {
            let row = k / perFrame, offset = k - row * perFrame
            let n = Swift.min(range.upperBound - k, perFrame - offset)
            body(row, offset, n)
            k += n
        }
    }

    /// `mean(|y[:, t] − y[:, t−1]|)` of `y` viewed as `[clips, frames, perFrame]`
    /// (frames ≥ 2), recorded with its gradient, and the number of non-zero differences.
    static func meanAbsoluteFrameDifference(_ y: Tensor, clips: Int, frames: Int) throws -> (mean: Tensor, nonZero: Int, count: Int) {
        let perFrame = y.count / (clips * frames)
        let count = clips * (frames - 1) * perFrame
        let blocks = Swift.max(1, Swift.min(64, count / blockSize))
        var sums = [Double](repeating: 0, count: blocks)
        var nonZeros = [Int](repeating: 0, count: blocks)
        let values = y.detached.scalars
        values.withUnsafeBufferPointer { yb in
            sums.withUnsafeMutableBufferPointer { sb in
                nonZeros.withUnsafeMutableBufferPointer { nb in
                    let (yp, sp, np) = (yb.baseAddress!, sb.baseAddress!, nb.baseAddress!)
                    forEachBlock(blocks) { b in
                        var sum = 0.0, nonZero = 0
                        forEachRun((b * count / blocks)..<((b + 1) * count / blocks), perFrame: perFrame) { row, offset, n in
                            // Row `row` of the differences is frame t = row % (frames − 1) + 1 of clip row / (frames − 1).
                            let clip = row / (frames - 1), t = row % (frames - 1) + 1
                            let later = yp + (clip * frames + t) * perFrame + offset, earlier = later - perFrame
                            // Four running sums, so the additions do not wait on each other.
                            var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
                            var i = 0
                            while i + 4 <= n {
                                let d0 = later[i] - earlier[i], d1 = later[i + 1] - earlier[i + 1]
                                let d2 = later[i + 2] - earlier[i + 2], d3 = later[i + 3] - earlier[i + 3]
                                s0 += Double(Swift.abs(d0)); s1 += Double(Swift.abs(d1))
                                s2 += Double(Swift.abs(d2)); s3 += Double(Swift.abs(d3))
                                nonZero &+= (d0 != 0 ? 1 : 0) &+ (d1 != 0 ? 1 : 0) &+ (d2 != 0 ? 1 : 0) &+ (d3 != 0 ? 1 : 0)
                                i += 4
                            }
                            while i < n {
                                let d = later[i] - earlier[i]
                                s0 += Double(Swift.abs(d))
                                nonZero &+= d != 0 ? 1 : 0
                                i += 1
                            }
                            sum += (s0 + s1) + (s2 + s3)
                        }
                        sp[b] = sum
                        np[b] = nonZero
                    }
                }
            }
        }
        let total = sums.reduce(0, +)
        let mean = Tensor(Float(total / Double(count)))
        let node = Tensor.customGradient("delta_frame_difference", inputs: [y], forward: { _ in mean }, backward: { g in
            [frameDifferenceGradient(values, shape: y.shape, clips: clips, frames: frames, scale: g.scalar / Float(count))]
        })
        return (node, nonZeros.reduce(0, +), count)
    }

    /// The gradient of `Σ scale·|y[:, t] − y[:, t−1]|` with respect to `y`
    /// (the derivative of |·| being 0 at 0, as TensorFlow's).
    static func frameDifferenceGradient(_ y: [Float], shape: [Int], clips: Int, frames: Int, scale: Float) -> Tensor {
        let perFrame = y.count / (clips * frames)
        var out = [Float](repeating: 0, count: y.count)
        let blocks = Swift.max(1, Swift.min(64, y.count / blockSize))
        y.withUnsafeBufferPointer { yb in
            out.withUnsafeMutableBufferPointer { ob in
                let (yp, op) = (yb.baseAddress!, ob.baseAddress!)
                forEachBlock(blocks) { b in
                    forEachRun((b * y.count / blocks)..<((b + 1) * y.count / blocks), perFrame: perFrame) { row, offset, n in
                        let t = row % frames
                        let here = yp + row * perFrame + offset, g = op + row * perFrame + offset
                        @inline(__always) func sign(_ d: Float) -> Float { d > 0 ? 1 : (d < 0 ? -1 : 0) }
                        switch (t > 0, t < frames - 1) {
                        case (true, true):
                            let before = here - perFrame, after = here + perFrame
                            for i in 0..<n { g[i] = scale * (sign(here[i] - before[i]) - sign(after[i] - here[i])) }
                        case (true, false):
                            let before = here - perFrame
                            for i in 0..<n { g[i] = scale * sign(here[i] - before[i]) }
                        case (false, true):
                            let after = here + perFrame
                            for i in 0..<n { g[i] = scale * -sign(after[i] - here[i]) }
                        case (false, false):
                            break
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// The gradient of `Σ g · q·round(x/q)` with respect to `q` (repeating every
    /// `q.count` elements of `x`), summed to `q`'s shape: as
    /// `Tensor.quantizeStepGradient`, on all cores.
    static func stepGradient(_ x: Tensor, step q: Tensor, outputGradient g: Tensor, estimator: Tensor.StepGradient) throws -> Tensor {
        let period = q.count, rows = x.count / period
        guard g.shape == x.shape, rows * period == x.count, rows > 0 else {
            return try Tensor.quantizeStepGradient(x, step: q, outputGradient: g, estimator: estimator)
        }
        let blocks = Swift.max(1, Swift.min(64, rows, x.count / blockSize))
        var partials = [Double](repeating: 0, count: blocks * period)
        let lsq = estimator == .lsq
        x.scalars.withUnsafeBufferPointer { xb in
            q.scalars.withUnsafeBufferPointer { qb in
                g.scalars.withUnsafeBufferPointer { gb in
                    partials.withUnsafeMutableBufferPointer { pb in
                        let (xp, qp, gp, pp) = (xb.baseAddress!, qb.baseAddress!, gb.baseAddress!, pb.baseAddress!)
                        forEachBlock(blocks) { b in
                            let sums = pp + b * period
                            for row in (b * rows / blocks)..<((b + 1) * rows / blocks) {
                                let base = row * period
                                for j in 0..<period {
                                    let ratio = xp[base + j] / qp[j]
                                    let r = ratio.rounded(.toNearestOrEven)
                                    sums[j] += Double(gp[base + j] * (lsq ? r - ratio : -r))
                                }
                            }
                        }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: period)
        for j in 0..<period {
            var s = 0.0
            for b in 0..<blocks { s += partials[b * period + j] }
            out[j] = Float(s)
        }
        return Tensor(shape: q.shape, scalars: out)
    }
}
