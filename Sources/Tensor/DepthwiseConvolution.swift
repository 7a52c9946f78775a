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

    init(inputShape: [Int], kernelShape: [Int], strides: [Int], padding: Padding, dilation: [Int]) throws {
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
                                      strides: strides, dilations: dilation, padding: padding)
        multiplier = kernelShape[rank + 1]
        self.kernelShape = kernelShape
    }

    /// `out[j] += in[j / multiplier] · w[j]` for the `channels · multiplier` outputs `j`.
    @inline(__always)
    private func multiplyAdd(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>) {
        let channels = geometry.channels
        if multiplier == 1 {
            for j in 0..<channels { out[j] += x[j] * w[j] }
        } else {
            for c in 0..<channels {
                let v = x[c], o = out + c * multiplier, wc = w + c * multiplier
                for m in 0..<multiplier { o[m] += v * wc[m] }
            }
        }
    }

    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let g = geometry, cin = g.channels, cout = outChannels
        parallelFor(g.outputLines, grain: Swift.max(1, 4096 / Swift.max(1, g.output.w * cout * g.window.product))) { lines in
            for line in lines {
                for ox in 0..<g.output.w {
                    let out = y + (line * g.output.w + ox) * cout
                    out.update(repeating: 0, count: cout)
                    let win = g.window(line: line, x: ox)
                    for a in win.d {
                        for b in win.h {
                            for c in win.w {
                                multiplyAdd(out, x + g.inputPixel(win, a, b, c) * cin, w + g.tap(a, b, c) * cout)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `dx` (overwritten) for output gradient `dy`; input lines gather from the
    /// outputs that read them, so cores never write the same line.
    func inputGradient(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let g = geometry, cin = g.channels, cout = outChannels, dm = multiplier
        parallelFor(g.inputLines, grain: Swift.max(1, 4096 / Swift.max(1, g.input.w * cout * g.window.product))) { lines in
            for line in lines {
                let target = dx + line * g.input.w * cin
                target.update(repeating: 0, count: g.input.w * cin)
                g.forEachReader(ofInputLine: line) { pixel, tap, column in
                    let out = target + column * cin, grad = dy + pixel * cout, wt = w + tap * cout
                    if dm == 1 {
                        for j in 0..<cin { out[j] += grad[j] * wt[j] }
                    } else {
                        for c in 0..<cin {
                            var sum: Float = 0
                            for m in 0..<dm { sum += grad[c * dm + m] * wt[c * dm + m] }
                            out[c] += sum
                        }
                    }
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
                let lines = share * g.outputLines / shares..<(share + 1) * g.outputLines / shares
                for line in lines {
                    for ox in 0..<g.output.w {
                        let grad = dy + (line * g.output.w + ox) * cout
                        let win = g.window(line: line, x: ox)
                        for a in win.d {
                            for b in win.h {
                                for c in win.w {
                                    let xp = x + g.inputPixel(win, a, b, c) * cin, wt = acc + g.tap(a, b, c) * cout
                                    if dm == 1 {
                                        for j in 0..<cin { wt[j] += xp[j] * grad[j] }
                                    } else {
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
        }
        dw.update(from: partial, count: size)
        for share in 1..<shares { accumulate(dw, partial + share * size, count: size) }
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
    /// - Returns: `[batch, outSpatial..., channels · multiplier]`.
    public static func depthwiseConv(_ input: Tensor, _ kernel: Tensor, strides: [Int] = [1],
                                     padding: Padding = .valid, dilation: [Int] = [1]) throws -> Tensor {
        let plan = try DepthwisePlan(inputShape: input.shape, kernelShape: kernel.shape, strides: strides,
                                     padding: padding, dilation: dilation)
        let (x, w) = (input.detached, kernel.detached)
        let (needX, needW) = (input.isTracked, kernel.isTracked)
        let y = plan.run(plan.outputShape, x, w, plan.forward)
        return record("depthwiseConv", y, [input, kernel]) { dy in
            [needX ? plan.run(x.shape, dy, w, plan.inputGradient) : nil,
             needW ? plan.run(w.shape, x, dy, plan.kernelGradient) : nil]
        }
    }
}
