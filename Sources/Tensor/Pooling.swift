// Max and average pooling over 1–3 spatial axes with TensorFlow's semantics:
// `same` padding never contributes (max ignores it, the average divides by the
// number of input pixels in the window), and max pooling sends the gradient to
// the first maximum of each window in row-major tap order.

/// A validated pooling window.
struct PoolingPlan {
    let geometry: WindowGeometry

    init(op: String, inputShape: [Int], poolSize: [Int], strides: [Int]?, padding: Padding) throws {
        guard padding != .causal else { throw TensorError.invalidArgument("\(op): padding must be valid or same, got causal") }
        let rank = inputShape.count - 2
        guard (1...3).contains(rank) else {
            throw TensorError.invalidShape(
                "\(op): input must be [batch, spatial..., channels] with 1–3 spatial axes, got shape \(inputShape)")
        }
        let size = try WindowGeometry.perAxis(poolSize, "poolSize", rank: rank, op: op)
        geometry = try WindowGeometry(op: op, inputShape: inputShape, window: size, strides: strides ?? size,
                                      dilations: [1], padding: padding)
    }

    var outputShape: [Int] { geometry.outputShape(channels: geometry.channels) }

    private var lineGrain: Int {
        Swift.max(1, 4096 / Swift.max(1, geometry.output.w * geometry.channels * geometry.window.product))
    }

    /// Window maxima into `y`; with `argmax`, also the flat window tap of each
    /// maximum (the first one on ties).
    func maxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>?) {
        let g = geometry, ch = g.channels
        parallelFor(g.outputLines, grain: lineGrain) { lines in
            for line in lines {
                for ox in 0..<g.output.w {
                    let pixel = line * g.output.w + ox
                    let out = y + pixel * ch
                    out.update(repeating: -.infinity, count: ch)
                    let win = g.window(line: line, x: ox)
                    if let argmax {
                        let arg = argmax + pixel * ch
                        arg.update(repeating: Int32(g.tap(win.d.lowerBound, win.h.lowerBound, win.w.lowerBound)), count: ch)
                        for a in win.d {
                            for b in win.h {
                                for c in win.w {
                                    let v = x + g.inputPixel(win, a, b, c) * ch, tap = Int32(g.tap(a, b, c))
                                    for j in 0..<ch where v[j] > out[j] {
                                        out[j] = v[j]
                                        arg[j] = tap
                                    }
                                }
                            }
                        }
                    } else {
                        for a in win.d {
                            for b in win.h {
                                for c in win.w {
                                    let v = x + g.inputPixel(win, a, b, c) * ch
                                    for j in 0..<ch { out[j] = Swift.max(out[j], v[j]) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Window means over the input pixels each window covers into `y`.
    func averageForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let g = geometry, ch = g.channels
        parallelFor(g.outputLines, grain: lineGrain) { lines in
            for line in lines {
                for ox in 0..<g.output.w {
                    let out = y + (line * g.output.w + ox) * ch
                    out.update(repeating: 0, count: ch)
                    let win = g.window(line: line, x: ox)
                    for a in win.d {
                        for b in win.h {
                            for c in win.w { accumulate(out, x + g.inputPixel(win, a, b, c) * ch, count: ch) }
                        }
                    }
                    let scale = 1 / Float(win.count)
                    for j in 0..<ch { out[j] *= scale }
                }
            }
        }
    }

    /// The input gradient `dx` (overwritten): each input line gathers from the
    /// windows that read it, `weight(outputPixel, tap, target, gradient)` adding
    /// one window tap's share into the line's pixel.
    private func gather(_ dx: UnsafeMutablePointer<Float>,
                        _ add: (_ pixel: Int, _ tap: Int, _ target: UnsafeMutablePointer<Float>) -> Void) {
        let g = geometry, ch = g.channels
        parallelFor(g.inputLines, grain: lineGrain) { lines in
            for line in lines {
                let target = dx + line * g.input.w * ch
                target.update(repeating: 0, count: g.input.w * ch)
                g.forEachReader(ofInputLine: line) { pixel, tap, column in add(pixel, tap, target + column * ch) }
            }
        }
    }

    /// Max pooling's input gradient: each output gradient goes to its window's argmax.
    func maxBackward(_ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ dx: UnsafeMutablePointer<Float>) {
        let ch = geometry.channels
        gather(dx) { pixel, tap, target in
            let grad = dy + pixel * ch, arg = argmax + pixel * ch, t = Int32(tap)
            for j in 0..<ch where arg[j] == t { target[j] += grad[j] }
        }
    }

    /// Average pooling's input gradient: each window spreads its gradient evenly
    /// over the input pixels it covers.
    func averageBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let g = geometry, ch = g.channels
        gather(dx) { pixel, _, target in
            let scale = 1 / Float(g.window(line: pixel / g.output.w, x: pixel % g.output.w).count)
            let grad = dy + pixel * ch
            for j in 0..<ch { target[j] += grad[j] * scale }
        }
    }
}

/// Fills a new array of `count` floats through `body` (zeros when `count` is 0).
private func makeScalars(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, done in
        if count > 0 { body(buf.baseAddress!) }
        done = count
    }
}

extension Tensor {
    /// Max pooling over 1–3 spatial axes (`keras.ops.max_pool`, `tf.nn.max_pool`).
    /// The gradient goes to the first maximum of each window, as TensorFlow's.
    /// - Parameters:
    ///   - input: `[batch, spatial..., channels]`.
    ///   - poolSize: one window size for all spatial axes, or one per axis.
    ///   - strides: one or one per axis; nil means `poolSize`.
    ///   - padding: `.valid` or `.same` (padding never wins the max).
    public static func maxPool(_ input: Tensor, poolSize: [Int], strides: [Int]? = nil,
                               padding: Padding = .valid) throws -> Tensor {
        let plan = try PoolingPlan(op: "maxPool", inputShape: input.shape, poolSize: poolSize, strides: strides,
                                   padding: padding)
        let shape = plan.outputShape
        let count = shape.reduce(1, *)
        guard input.isTracked, GradientTape.noGradientDepth == 0 else {
            let y = input.scalars.withUnsafeBufferPointer { px in
                makeScalars(count) { plan.maxForward(px.baseAddress!, $0, argmax: nil) }
            }
            return Tensor(shape: shape, scalars: y)
        }
        var argmax = [Int32](repeating: 0, count: count)
        let y = input.scalars.withUnsafeBufferPointer { px in
            argmax.withUnsafeMutableBufferPointer { pa in
                makeScalars(count) { plan.maxForward(px.baseAddress!, $0, argmax: pa.baseAddress!) }
            }
        }
        let inputShape = input.shape
        return record("maxPool", Tensor(shape: shape, scalars: y), [input]) { dy in
            let dx = dy.scalars.withUnsafeBufferPointer { pdy in
                argmax.withUnsafeBufferPointer { pa in
                    makeScalars(inputShape.reduce(1, *)) { plan.maxBackward(pdy.baseAddress!, argmax: pa.baseAddress!, $0) }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Average pooling over 1–3 spatial axes (`keras.ops.average_pool`,
    /// `tf.nn.avg_pool`). With `.same` padding each window divides by the
    /// number of input pixels it covers, never counting the padding.
    /// - Parameters:
    ///   - input: `[batch, spatial..., channels]`.
    ///   - poolSize: one window size for all spatial axes, or one per axis.
    ///   - strides: one or one per axis; nil means `poolSize`.
    ///   - padding: `.valid` or `.same`.
    public static func averagePool(_ input: Tensor, poolSize: [Int], strides: [Int]? = nil,
                                   padding: Padding = .valid) throws -> Tensor {
        let plan = try PoolingPlan(op: "averagePool", inputShape: input.shape, poolSize: poolSize, strides: strides,
                                   padding: padding)
        let shape = plan.outputShape
        let y = input.scalars.withUnsafeBufferPointer { px in
            makeScalars(shape.reduce(1, *)) { plan.averageForward(px.baseAddress!, $0) }
        }
        let inputShape = input.shape
        return record("averagePool", Tensor(shape: shape, scalars: y), [input]) { dy in
            let dx = dy.scalars.withUnsafeBufferPointer { pdy in
                makeScalars(inputShape.reduce(1, *)) { plan.averageBackward(pdy.baseAddress!, $0) }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }
}
