// Depthwise convolution (Keras DepthwiseConv1D/2D, `keras.ops.depthwise_conv`):
// each input channel c has its own `multiplier` filters, producing output
// channels c·multiplier + m. A direct kernel: the work per output is too small
// for a GEMM to pay off.

/// A validated depthwise convolution.
struct DepthwisePlan {
    let geometry: WindowGeometry
    let multiplier: Int
    let kernelShape: [Int]

    /// Output channels: channels · multiplier.
    var outChannels: Int { geometry.channels * multiplier }
    var outputShape: [Int] { geometry.outputShape(channels: outChannels) }

    init(inputShape: [Int], kernelShape: [Int], strides: [Int], padding: Padding, dilation: [Int],
         zeroPadding: [(Int, Int)]? = nil) throws {
        let op = "depthwiseConv"
        guard inputShape.count == 3 || inputShape.count == 4 else {
            throw TensorError.invalidShape("\(op): input must be [batch, width, channels] or [batch, height, width, channels], got shape \(inputShape)")
        }
        guard kernelShape.count == inputShape.count else {
            throw TensorError.shapeMismatch(
                "\(op): kernel of shape \(kernelShape) must have rank \(inputShape.count) "
                + "([spatial..., channels, multiplier]) for input of shape \(inputShape)")
        }
        let rank = inputShape.count - 2
        guard kernelShape[rank] == inputShape[rank + 1] else {
            throw TensorError.shapeMismatch(
                "\(op): input of shape \(inputShape) has \(inputShape[rank + 1]) channels but the kernel of shape "
                + "\(kernelShape) expects \(kernelShape[rank])")
        }
        guard padding != .causal else { throw TensorError.invalidArgument("\(op): padding must be valid or same, got causal") }
        geometry = try WindowGeometry(op: op, inputShape: inputShape, window: Array(kernelShape[..<rank]),
                                      strides: strides, dilations: dilation, padding: padding, zeroPadding: zeroPadding)
        multiplier = kernelShape[rank + 1]
        self.kernelShape = kernelShape
    }

    /// `out[j] += in[j / multiplier] · w[j]` for the `channels · multiplier` outputs `j`.
    @inline(__always)
    private func multiplyAdd(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>) {
        for c in 0..<geometry.channels {
            let v = x[c], o = out + c * multiplier, wc = w + c * multiplier
            for m in 0..<multiplier { o[m] += v * wc[m] }
        }
    }

    /// The output lines of `y`, each followed by the epilogue while it is hot.
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                 epilogue: BoundEpilogue? = nil) {
        let g = geometry, cin = g.channels, cout = outChannels, taps = g.window.product
        parallelFor(g.outputLines, grain: Swift.max(1, 4096 / Swift.max(1, g.output.w * cout * taps))) { lines in
            var pairs = PointerPairs(capacity: taps)
            defer { pairs.deallocate() }
            for line in lines {
                for ox in 0..<g.output.w {
                    let out = y + (line * g.output.w + ox) * cout
                    let win = g.window(line: line, x: ox)
                    pairs.removeAll()
                    for a in win.d {
                        for b in win.h {
                            for c in win.w { pairs.append(x + g.inputPixel(win, a, b, c) * cin, w + g.tap(a, b, c) * cout) }
                        }
                    }
                    if multiplier == 1 {
                        pairs.sumOfProducts(into: out, count: cout)
                    } else {
                        out.update(repeating: 0, count: cout)
                        for p in 0..<pairs.count { multiplyAdd(out, pairs.first[p], pairs.second[p]) }
                    }
                }
                epilogue?.apply(y, rows: (line * g.output.w)..<((line + 1) * g.output.w))
            }
        }
    }

    /// `dx` (overwritten) for output gradient `dy`; input lines gather from the
    /// outputs that read them, so cores never write the same line.
    func inputGradient(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let g = geometry, cin = g.channels, cout = outChannels, dm = multiplier, taps = g.window.product
        guard dm == 1 else {
            return parallelFor(g.inputLines, grain: Swift.max(1, 4096 / Swift.max(1, g.input.w * cout * taps))) { lines in
                for line in lines {
                    let target = dx + line * g.input.w * cin
                    target.update(repeating: 0, count: g.input.w * cin)
                    g.forEachReader(ofInputLine: line) { pixel, tap, column in
                        let out = target + column * cin, grad = dy + pixel * cout, wt = w + tap * cout
                        for c in 0..<cin {
                            var sum: Float = 0
                            for m in 0..<dm { sum += grad[c * dm + m] * wt[c * dm + m] }
                            out[c] += sum
                        }
                    }
                }
            }
        }
        // Multiplier 1: each input pixel sums gradient · weight over the
        // (output pixel, tap) pairs that read it, in the order of `forEachReader`.
        parallelFor(g.inputLines, grain: Swift.max(1, 4096 / Swift.max(1, g.input.w * cout * taps))) { lines in
            let width = g.input.w
            let pairs = PointerPairs(capacity: width * taps)
            // starts[i]..<starts[i + 1]: the pairs of column i; next: where its next pair goes.
            let starts = UnsafeMutablePointer<Int>.allocate(capacity: 2 * width + 1), next = starts + width + 1
            defer { pairs.deallocate(); starts.deallocate() }
            for line in lines {
                // Group the line's readers by input column, keeping their order.
                next.initialize(repeating: 0, count: width)
                g.forEachReader(ofInputLine: line) { _, _, column in next[column] += 1 }
                starts[0] = 0
                for i in 0..<width {
                    starts[i + 1] = starts[i] + next[i]
                    next[i] = starts[i]
                }
                g.forEachReader(ofInputLine: line) { pixel, tap, column in
                    pairs.set(next[column], dy + pixel * cout, w + tap * cout)
                    next[column] += 1
                }
                let target = dx + line * width * cin
                for column in 0..<width {
                    pairs.sumOfProducts(from: starts[column], to: starts[column + 1], into: target + column * cin, count: cin)
                }
            }
        }
    }

    /// `dw` (overwritten) for input `x` and output gradient `dy`: each core
    /// sums its share of the output lines, then the shares are added.
    func kernelGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        let g = geometry, cin = g.channels, cout = outChannels, dm = multiplier
        let size = g.window.product * cout
        let shares = Swift.max(1, Swift.min(Parallelism.cores, g.outputLines))
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: shares * size)
        defer { partial.deallocate() }
        partial.initialize(repeating: 0, count: shares * size)
        parallelFor(shares, grain: 1) { range in
            for share in range {
                let acc = partial + share * size
                for line in share * g.outputLines / shares..<(share + 1) * g.outputLines / shares {
                    if dm == 1 {
                        addKernelGradient(of: line, x, dy, acc)
                        continue
                    }
                    for ox in 0..<g.output.w {
                        let grad = dy + (line * g.output.w + ox) * cout
                        let win = g.window(line: line, x: ox)
                        for a in win.d {
                            for b in win.h {
                                for c in win.w {
                                    let xp = x + g.inputPixel(win, a, b, c) * cin, wt = acc + g.tap(a, b, c) * cout
                                    for ch in 0..<cin {
                                        let v = xp[ch]
                                        for m in 0..<dm { wt[ch * dm + m] += v * grad[ch * dm + m] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        dw.update(from: partial, count: size)
        for share in 1..<shares { accumulate(dw, partial + share * size, count: size) }
    }

    /// Multiplier 1: adds output line `line`'s share of the kernel gradient to
    /// `acc`, tap by tap, summing over the line's pixels in registers.
    private func addKernelGradient(of line: Int, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                   _ acc: UnsafeMutablePointer<Float>) {
        let g = geometry, channels = g.channels
        let (n, od, oh) = g.outputCoordinates(line)
        let grads = dy + line * g.output.w * channels
        for a in 0..<g.window.d {
            let id = od * g.strides.d - g.padBefore.d + a * g.dilations.d
            guard id >= 0, id < g.input.d else { continue }
            for b in 0..<g.window.h {
                let ih = oh * g.strides.h - g.padBefore.h + b * g.dilations.h
                guard ih >= 0, ih < g.input.h else { continue }
                let row = x + ((n * g.input.d + id) * g.input.h + ih) * g.input.w * channels
                for c in 0..<g.window.w {
                    // Output pixels whose tap c falls inside the input row.
                    let offset = c * g.dilations.w - g.padBefore.w, step = g.strides.w
                    let first = offset >= 0 ? 0 : (-offset + step - 1) / step
                    let last = Swift.min(g.output.w, g.input.w - offset > 0 ? (g.input.w - 1 - offset) / step + 1 : 0)
                    guard first < last else { continue }
                    let target = acc + g.tap(a, b, c) * channels
                    let xs = row + (first * step + offset) * channels, gs = grads + first * channels
                    let xStride = step * channels
                    var j = 0
                    while j + 8 <= channels {
                        var sum = SIMD8<Float>.load(target + j)
                        for p in 0..<(last - first) { sum += .load(xs + p * xStride + j) * .load(gs + p * channels + j) }
                        sum.store(to: target + j)
                        j += 8
                    }
                    while j < channels {
                        var sum = target[j]
                        for p in 0..<(last - first) { sum += xs[p * xStride + j] * gs[p * channels + j] }
                        target[j] = sum
                        j += 1
                    }
                }
            }
        }
    }
}

/// A reusable list of pointer pairs `(first[i], second[i])` into channel
/// rows, whose products a depthwise kernel sums.
struct PointerPairs {
    let first: UnsafeMutablePointer<UnsafePointer<Float>>
    let second: UnsafeMutablePointer<UnsafePointer<Float>>
    private(set) var count = 0

    init(capacity: Int) {
        first = .allocate(capacity: capacity)
        second = .allocate(capacity: capacity)
    }

    func deallocate() {
        first.deallocate()
        second.deallocate()
    }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func append(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
        set(count, a, b)
        count += 1
    }

    @inline(__always)
    func set(_ i: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
        first[i] = a
        second[i] = b
    }

    /// `out[j] = Σ first[i][j] · second[i][j]` over all pairs, `j < count`.
    @inline(__always)
    func sumOfProducts(into out: UnsafeMutablePointer<Float>, count: Int) {
        sumOfProducts(from: 0, to: self.count, into: out, count: count)
    }

    /// `out[j] = Σ first[i][j] · second[i][j]` over pairs `lower..<upper`, in
    /// order, accumulating eight channels at a time in registers.
    func sumOfProducts(from lower: Int, to upper: Int, into out: UnsafeMutablePointer<Float>, count: Int) {
        var j = 0
        while j + 8 <= count {
            var sum = SIMD8<Float>()
            for i in lower..<upper { sum += .load(first[i] + j) * .load(second[i] + j) }
            sum.store(to: out + j)
            j += 8
        }
        while j < count {
            var sum: Float = 0
            for i in lower..<upper { sum += first[i][j] * second[i][j] }
            out[j] = sum
            j += 1
        }
    }
}

extension DepthwisePlan {
    /// Runs a kernel that fills a new tensor of `shape` from two operands.
    func run(_ shape: [Int], _ a: Tensor, _ b: Tensor,
             _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let count = shape.reduce(1, *)
        let out = [Float](unsafeUninitializedCapacity: count) { buf, done in
            if a.count == 0 || b.count == 0 {
                buf.initialize(repeating: 0)
            } else if count > 0 {
                a.scalars.withUnsafeBufferPointer { pa in
                    b.scalars.withUnsafeBufferPointer { pb in kernel(pa.baseAddress!, pb.baseAddress!, buf.baseAddress!) }
                }
            }
            done = count
        }
        return Tensor(shape: shape, scalars: out)
    }
}

extension Tensor {
    /// Depthwise convolution over 1 or 2 spatial axes (`keras.ops.depthwise_conv`,
    /// `tf.nn.depthwise_conv2d`): channel `c` is convolved with its own
    /// `multiplier` filters into output channels `c · multiplier + m`.
    /// - Parameters:
    ///   - input: `[batch, spatial..., channels]`.
    ///   - kernel: `[spatial..., channels, multiplier]`.
    ///   - padding: `.valid` or `.same`.
    ///   - zeroPadding: zeros `(before, after)` around each spatial axis, added
    ///     before `padding` applies (see ``conv(_:_:strides:padding:dilation:groups:zeroPadding:epilogue:)``).
    ///   - epilogue: per-channel bias and affine map, a residual and a ReLU
    ///     applied to the output as it is produced (inference only: no gradient).
    /// - Returns: `[batch, outSpatial..., channels · multiplier]`.
    public static func depthwiseConv(_ input: Tensor, _ kernel: Tensor, strides: [Int] = [1],
                                     padding: Padding = .valid, dilation: [Int] = [1],
                                     zeroPadding: [(Int, Int)]? = nil, epilogue: ChannelEpilogue? = nil) throws -> Tensor {
        let plan = try DepthwisePlan(inputShape: input.shape, kernelShape: kernel.shape, strides: strides,
                                     padding: padding, dilation: dilation, zeroPadding: zeroPadding)
        if let epilogue {
            try epilogue.check(outputShape: plan.outputShape, op: "depthwiseConv")
            try checkNoGradient([input, kernel] + [epilogue.residual].compactMap { $0 }, op: "depthwiseConv")
            return epilogue.bound(channels: plan.outChannels) { bound in
                plan.run(plan.outputShape, input, kernel) { plan.forward($0, $1, $2, epilogue: bound) }
            }
        }
        let (x, w) = (input.detached, kernel.detached)
        let (needX, needW) = (input.isTracked, kernel.isTracked)
        let y = plan.run(plan.outputShape, x, w) { plan.forward($0, $1, $2) }
        return record("depthwiseConv", y, [input, kernel]) { dy in
            [needX ? plan.run(x.shape, dy, w, plan.inputGradient) : nil,
             needW ? plan.run(w.shape, x, dy, plan.kernelGradient) : nil]
        }
    }
}
