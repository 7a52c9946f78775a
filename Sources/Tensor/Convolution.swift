// N-D convolution (1-D, 2-D, 3-D; strides, dilation, groups, valid/same/causal
// padding) as im2col + GEMM, with both gradients. Layouts are Keras's:
// channels-last inputs and [spatial..., in_channels / groups, out_channels]
// kernels (WIO, HWIO, DHWIO), which flatten to the [taps·Cg, Cout] GEMM operand.

/// A validated convolution and its GEMM schedule, shared by the forward pass
/// and both gradients.
struct ConvolutionPlan {
    /// Bytes of patch matrix built at once; larger convolutions run in chunks
    /// that reuse one buffer, which stays in the last-level cache.
    static let columnBufferBytes = 8 << 20
    /// The patch rows one core handles at a time in the kernel gradient: about its L2.
    static let cacheChunkBytes = 512 << 10

    let layout: ColumnLayout
    let outChannels: Int
    let kernelShape: [Int]
    /// A 1×1 kernel with stride 1 and no padding: the input is its own patch matrix.
    let isPointwise: Bool

    var geometry: WindowGeometry { layout.geometry }
    var groups: Int { layout.groups }
    var groupOutChannels: Int { outChannels / groups }
    var inputShape: [Int] { geometry.inputShape }
    var outputShape: [Int] { geometry.outputShape(channels: outChannels) }

    /// Validates a convolution of an input of `inputShape` with a kernel of
    /// `kernelShape`; `op` names the public operation in error messages.
    init(op: String, inputShape: [Int], kernelShape: [Int], strides: [Int], padding: Padding,
         dilation: [Int], groups: Int, zeroPadding: [(Int, Int)]? = nil) throws {
        guard (3...5).contains(inputShape.count) else {
            throw TensorError.invalidShape(
                "\(op): input must be [batch, spatial..., channels] with 1–3 spatial axes, got shape \(inputShape)")
        }
        guard kernelShape.count == inputShape.count else {
            throw TensorError.shapeMismatch(
                "\(op): kernel of shape \(kernelShape) must have rank \(inputShape.count) "
                + "([spatial..., in_channels / groups, out_channels]) for input of shape \(inputShape)")
        }
        guard groups >= 1 else { throw TensorError.invalidArgument("\(op): groups must be positive, got \(groups)") }
        let rank = inputShape.count - 2
        let channels = inputShape[rank + 1], outChannels = kernelShape[rank + 1]
        guard channels % groups == 0, outChannels % groups == 0 else {
            throw TensorError.invalidArgument(
                "\(op): groups \(groups) must divide the input channels \(channels) and the output channels \(outChannels)")
        }
        guard kernelShape[rank] * groups == channels else {
            throw TensorError.shapeMismatch(
                "\(op): input of shape \(inputShape) has \(channels) channels but the kernel of shape \(kernelShape) "
                + "expects \(kernelShape[rank]) per group × \(groups) group(s)")
        }
        let g = try WindowGeometry(op: op, inputShape: inputShape, window: Array(kernelShape[..<rank]),
                                   strides: strides, dilations: dilation, padding: padding, zeroPadding: zeroPadding)
        layout = ColumnLayout(geometry: g, groups: groups, groupChannels: channels / groups)
        self.outChannels = outChannels
        self.kernelShape = kernelShape
        isPointwise = g.window.product == 1 && g.strides.product == 1 && g.padBefore == Extent3(d: 0, h: 0, w: 0)
            && g.output == g.input
    }

    /// Output pixels: rows of the patch matrix.
    var rows: Int { geometry.batch * geometry.output.product }

    /// Runs `body` on each chunk of output lines with a patch buffer large
    /// enough for any of them.
    private func forEachChunk(_ body: (ColumnChunk, UnsafeMutablePointer<Float>) -> Void) {
        let rowFloats = geometry.output.w * layout.width
        let maxLines = Swift.max(1, ConvolutionPlan.columnBufferBytes / 4 / rowFloats)
        let chunks = ColumnChunk.plan(geometry, maxLines: maxLines)
        let capacity = (chunks.map { $0.lines.count }.max() ?? 0) * rowFloats
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        defer { columns.deallocate() }
        for chunk in chunks { body(chunk, columns) }
    }

    /// `y = conv(x, w)`: y is [rows, Cout], w is [taps·Cg, Cout]. The epilogue
    /// runs on each block of rows as soon as its GEMMs are done, then
    /// `rowsDone` (on any thread, once for each row, blocks of rows in parallel).
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                 epilogue: BoundEpilogue? = nil, smallKernel: Bool = false,
                 rowsDone: ((Range<Int>) -> Void)? = nil) {
        if runsPerCore {
            return forwardPerCore(x, w, y, epilogue: epilogue, smallKernel: smallKernel && fitsSmallKernel,
                                  rowsDone: rowsDone)
        }
        func finish(_ part: Range<Int>) {
            guard let rowsDone else { return }
            parallelFor(part.count, grain: 256) { r in
                rowsDone((part.lowerBound + r.lowerBound)..<(part.lowerBound + r.upperBound))
            }
        }
        let (cout, og, cin, cg) = (outChannels, groupOutChannels, geometry.channels, layout.groupChannels)
        if isPointwise {
            for group in 0..<groups {
                sgemm(m: rows, n: og, k: cg, a: x + group * cg, lda: cin,
                      b: w + group * og, ldb: cout, c: y + group * og, ldc: cout)
            }
            epilogue?.applyInParallel(y, rows: 0..<rows)
            finish(0..<rows)
            return
        }
        let (width, groupWidth, ow) = (layout.width, layout.groupWidth, geometry.output.w)
        forEachChunk { chunk, columns in
            layout.im2col(x, chunk: chunk, into: columns)
            let first = chunk.lines.lowerBound * ow
            for group in 0..<groups {
                sgemm(m: chunk.lines.count * ow, n: og, k: groupWidth, a: columns + group * groupWidth, lda: width,
                      b: w + group * og, ldb: cout, c: y + first * cout + group * og, ldc: cout)
            }
            epilogue?.applyInParallel(y, rows: first..<(first + chunk.lines.count * ow))
            finish(first..<(first + chunk.lines.count * ow))
        }
    }

    /// Output rows one core takes at a time on the per-core path: its patch
    /// and output rows then fill about its L2.
    private var coreBlockRows: Int {
        Swift.max(128, ConvolutionPlan.cacheChunkBytes / 4 / (layout.width + outChannels))
    }

    /// Whether the forward pass runs per core: many output rows and a kernel
    /// no wider than them, so each core can build, multiply and finish its own
    /// cache-sized blocks of rows, packing the small kernel once per block.
    /// Otherwise each GEMM is split across the cores.
    private var runsPerCore: Bool {
        rows >= outChannels && rows >= 2 * 128 * Parallelism.cores
    }

    /// The forward pass with each core running whole blocks of output rows:
    /// patches, single-threaded GEMM and epilogue while the block is in cache.
    /// Whether ``smallKernelProduct(_:lda:_:k:n:_:ldc:rows:)`` can take the
    /// GEMMs: one group, a patch row of at most 32 values (3×3 taps of up to
    /// 3 channels: the first layer of a network) and output channels in
    /// whole blocks of 32, at most 128. (With C3D's 81-value rows OpenBLAS
    /// was faster.)
    private var fitsSmallKernel: Bool {
        groups == 1 && !isPointwise && layout.width <= 32 && outChannels % 32 == 0 && outChannels <= 128
    }

    private func forwardPerCore(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                epilogue: BoundEpilogue?, smallKernel: Bool = false,
                                rowsDone: ((Range<Int>) -> Void)? = nil) {
        let (cout, og, cin, cg) = (outChannels, groupOutChannels, geometry.channels, layout.groupChannels)
        let block = coreBlockRows
        if isPointwise {
            parallelFor((rows + block - 1) / block, grain: 1) { blocks in
                for b in blocks {
                    let first = b * block, part = first..<Swift.min(rows, first + block)
                    for group in 0..<groups {
                        sgemm(m: part.count, n: og, k: cg, a: x + first * cin + group * cg, lda: cin,
                              b: w + group * og, ldb: cout, c: y + first * cout + group * og, ldc: cout, parallel: false)
                    }
                    epilogue?.apply(y, rows: part)
                    rowsDone?(part)
                }
            }
            return
        }
        let (width, groupWidth, ow) = (layout.width, layout.groupWidth, geometry.output.w)
        let chunks = ColumnChunk.plan(geometry, maxLines: Swift.max(1, block / ow))
        let capacity = (chunks.map { $0.lines.count }.max() ?? 0) * ow * width
        parallelFor(chunks.count, grain: 1) { range in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            defer { columns.deallocate() }
            for chunk in chunks[range] {
                layout.im2col(x, chunk: chunk, into: columns, parallel: false)
                let first = chunk.lines.lowerBound * ow, count = chunk.lines.count * ow
                if smallKernel {
                    ConvolutionPlan.smallKernelProduct(columns, lda: width, w, k: width, n: cout,
                                                       y + first * cout, ldc: cout, rows: count)
                    epilogue?.apply(y, rows: first..<(first + count))
                    rowsDone?(first..<(first + count))
                    continue
                }
                // A residual alone is where the GEMM starts (one pass over the
                // rows instead of zeroing them and adding it after); with a
                // short K, OpenBLAS adds its whole sum to it once, as the epilogue would.
                let accumulate = groups == 1 && groupWidth <= 256 && epilogue?.addsResidualOnly == true
                if accumulate { epilogue?.copyResidual(to: y, rows: first..<(first + count)) }
                for group in 0..<groups {
                    sgemm(m: count, n: og, k: groupWidth, a: columns + group * groupWidth, lda: width,
                          b: w + group * og, ldb: cout, beta: accumulate ? 1 : 0, c: y + first * cout + group * og,
                          ldc: cout, parallel: false)
                }
                if !accumulate { epilogue?.apply(y, rows: first..<(first + count)) }
                rowsDone?(first..<(first + count))
            }
        }
    }

    /// `C[rows, n] = A[rows, k] · B[k, n]` for a short `k` and `n` a multiple
    /// of 32: two rows × 32 outputs in eight vector accumulators, `C` written
    /// once. OpenBLAS zeroes C first and then writes it again, which costs
    /// more than the arithmetic when `k` is 27 (3×3 taps of 3 channels).
    static func smallKernelProduct(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, k: Int, n: Int,
                                   _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int) {
        var r = 0
        while r < rows {
            let a0 = a + r * lda, a1 = r + 1 < rows ? a0 + lda : a0
            for g in stride(from: 0, to: n, by: 32) {
                var p0 = SIMD8<Float>(), p1 = SIMD8<Float>(), p2 = SIMD8<Float>(), p3 = SIMD8<Float>()
                var q0 = SIMD8<Float>(), q1 = SIMD8<Float>(), q2 = SIMD8<Float>(), q3 = SIMD8<Float>()
                for t in 0..<k {
                    let wt = b + t * n + g
                    let w0 = SIMD8<Float>.load(wt), w1 = SIMD8<Float>.load(wt + 8)
                    let w2 = SIMD8<Float>.load(wt + 16), w3 = SIMD8<Float>.load(wt + 24)
                    let x0 = SIMD8<Float>(repeating: a0[t]), x1 = SIMD8<Float>(repeating: a1[t])
                    p0 += x0 * w0; p1 += x0 * w1; p2 += x0 * w2; p3 += x0 * w3
                    q0 += x1 * w0; q1 += x1 * w1; q2 += x1 * w2; q3 += x1 * w3
                }
                let c0 = c + r * ldc + g
                p0.store(to: c0); p1.store(to: c0 + 8); p2.store(to: c0 + 16); p3.store(to: c0 + 24)
                if r + 1 < rows {
                    let c1 = c0 + ldc
                    q0.store(to: c1); q1.store(to: c1 + 8); q2.store(to: c1 + 16); q3.store(to: c1 + 24)
                }
            }
            r += 2
        }
    }

    /// `dx = ∂⟨conv(x, w), dy⟩/∂x`: col2im(dy · wᵀ). `dx` must be zero on entry.
    func inputGradient(_ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let (cout, og, cin, cg) = (outChannels, groupOutChannels, geometry.channels, layout.groupChannels)
        if isPointwise {
            for group in 0..<groups {
                sgemm(transB: true, m: rows, n: cg, k: og, a: dy + group * og, lda: cout,
                      b: w + group * og, ldb: cout, c: dx + group * cg, ldc: cin)
            }
            return
        }
        let (width, groupWidth, ow) = (layout.width, layout.groupWidth, geometry.output.w)
        forEachChunk { chunk, columns in
            let first = chunk.lines.lowerBound * ow
            for group in 0..<groups {
                sgemm(transB: true, m: chunk.lines.count * ow, n: groupWidth, k: og,
                      a: dy + first * cout + group * og, lda: cout,
                      b: w + group * og, ldb: cout, c: columns + group * groupWidth, ldc: width)
            }
            layout.col2im(columns, chunk: chunk, into: dx)
        }
    }

    /// `dw = ∂⟨conv(x, w), dy⟩/∂w`: patchesᵀ · dy, accumulated over chunks.
    /// Each core takes a contiguous share of small chunks, whose patch rows
    /// stay in its cache between im2col and the GEMM, into a partial `dw`;
    /// the partials are summed in core order (deterministic).
    func kernelGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>) {
        let (cout, og, cin, cg) = (outChannels, groupOutChannels, geometry.channels, layout.groupChannels)
        if isPointwise {
            for group in 0..<groups {
                sgemm(transA: true, m: cg, n: og, k: rows, a: x + group * cg, lda: cin,
                      b: dy + group * og, ldb: cout, c: dw + group * og, ldc: cout)
            }
            return
        }
        let (width, groupWidth, ow) = (layout.width, layout.groupWidth, geometry.output.w)
        let rowFloats = ow * width
        let chunks = ColumnChunk.plan(geometry, maxLines: Swift.max(1, ConvolutionPlan.cacheChunkBytes / 4 / rowFloats))
        let workers = Swift.min(Parallelism.cores, chunks.count)
        let size = groupWidth * cout, capacity = (chunks.map { $0.lines.count }.max() ?? 0) * rowFloats
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(0, workers - 1) * size)
        defer { partials.deallocate() }
        Parallelism.perform(iterations: workers) { w in
            let target = w == 0 ? dw : partials + (w - 1) * size
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            defer { columns.deallocate() }
            var beta: Float = 0
            for chunk in chunks[(w * chunks.count / workers)..<((w + 1) * chunks.count / workers)] {
                layout.im2col(x, chunk: chunk, into: columns, parallel: false)
                let first = chunk.lines.lowerBound * ow
                for group in 0..<groups {
                    sgemm(transA: true, m: groupWidth, n: og, k: chunk.lines.count * ow,
                          a: columns + group * groupWidth, lda: width,
                          b: dy + first * cout + group * og, ldb: cout,
                          beta: beta, c: target + group * og, ldc: cout, parallel: false)
                }
                beta = 1
            }
            if beta == 0 { target.update(repeating: 0, count: size) }
        }
        for w in 1..<Swift.max(1, workers) {
            let partial = partials + (w - 1) * size
            for i in 0..<size { dw[i] += partial[i] }
        }
    }
}

extension ConvolutionPlan {
    /// The convolution of `x` with `w` as a new tensor (no tape). With
    /// `winograd`, a 3×3 stride-1 convolution may use ``WinogradPlan``, and
    /// one with few input channels the small-kernel product; both round
    /// differently from the GEMM whose adjoints the gradients are.
    func forward(_ x: Tensor, _ w: Tensor, epilogue: ChannelEpilogue? = nil, winograd: Bool = false,
                 kernelCache: (WinogradKernelCache, version: Int)? = nil) -> Tensor {
        let shape = outputShape
        let count = shape.reduce(1, *)
        let y = [Float](unsafeUninitializedCapacity: count) { buf, done in
            guard let out = buf.baseAddress else { return }
            withBound(epilogue, channels: outChannels) { epilogue in
                if layout.width == 0 {
                    buf.initialize(repeating: 0)
                    epilogue?.applyInParallel(out, rows: 0..<rows)
                    return
                }
                x.scalars.withUnsafeBufferPointer { px in
                    w.scalars.withUnsafeBufferPointer { pw in
                        if winograd, let fast = WinogradPlan(self) {
                            fast.forward(px.baseAddress!, pw.baseAddress!, out, epilogue: epilogue, cache: kernelCache)
                        } else {
                            forward(px.baseAddress!, pw.baseAddress!, out, epilogue: epilogue, smallKernel: winograd)
                        }
                    }
                }
            }
            done = count
        }
        return Tensor(shape: shape, scalars: y)
    }

    /// The gradient of the input for output gradient `dy` (no tape).
    func inputGradient(_ dy: Tensor, _ w: Tensor) -> Tensor {
        var dx = [Float](repeating: 0, count: inputShape.reduce(1, *))
        if !dx.isEmpty, dy.count > 0 {
            dy.scalars.withUnsafeBufferPointer { pdy in
                w.scalars.withUnsafeBufferPointer { pw in
                    dx.withUnsafeMutableBufferPointer { inputGradient(pdy.baseAddress!, pw.baseAddress!, $0.baseAddress!) }
                }
            }
        }
        return Tensor(shape: inputShape, scalars: dx)
    }

    /// The gradient of the kernel for input `x` and output gradient `dy` (no tape).
    func kernelGradient(_ x: Tensor, _ dy: Tensor) -> Tensor {
        var dw = [Float](repeating: 0, count: kernelShape.reduce(1, *))
        if !dw.isEmpty, dy.count > 0 {
            x.scalars.withUnsafeBufferPointer { px in
                dy.scalars.withUnsafeBufferPointer { pdy in
                    dw.withUnsafeMutableBufferPointer { kernelGradient(px.baseAddress!, pdy.baseAddress!, $0.baseAddress!) }
                }
            }
        }
        return Tensor(shape: kernelShape, scalars: dw)
    }

    /// Throws unless `tensor` has `expected` shape.
    func check(_ tensor: Tensor, is expected: [Int], _ what: String, op: String) throws {
        guard tensor.shape == expected else {
            throw TensorError.shapeMismatch("\(op): \(what) has shape \(tensor.shape), expected \(expected)")
        }
    }
}

extension Tensor {
    /// Convolution over 1–3 spatial axes (`keras.ops.conv`, `tf.nn.convolution`).
    ///
    /// ```swift
    /// // [batch, height, width, 3] ⊛ [3, 3, 3, 16] → [batch, height, width, 16]
    /// let y = try Tensor.conv(images, kernel, padding: .same)
    /// ```
    /// - Parameters:
    ///   - input: `[batch, spatial..., channels]` with 1, 2 or 3 spatial axes.
    ///   - kernel: `[spatial..., channels / groups, outChannels]` (WIO, HWIO, DHWIO).
    ///   - strides: one stride for all spatial axes, or one per axis.
    ///   - padding: `.valid`, `.same` (TensorFlow's rule), or `.causal` for 1-D.
    ///   - dilation: one dilation rate for all spatial axes, or one per axis.
    ///   - groups: channel groups; each sees `channels / groups` inputs and
    ///     produces `outChannels / groups` outputs.
    ///   - zeroPadding: zeros `(before, after)` around each spatial axis, added
    ///     before `padding` applies, as a `ZeroPadding` layer in front would
    ///     (without copying the input).
    ///   - epilogue: per-channel bias and affine map, a residual and a ReLU
    ///     applied to the output as it is produced (inference only: no gradient).
    ///   - kernelCache: with an epilogue, where a Winograd-transformed kernel
    ///     is kept for the kernel variable's version.
    /// - Returns: `[batch, outSpatial..., outChannels]`.
    public static func conv(_ input: Tensor, _ kernel: Tensor, strides: [Int] = [1], padding: Padding = .valid,
                            dilation: [Int] = [1], groups: Int = 1, zeroPadding: [(Int, Int)]? = nil,
                            epilogue: ChannelEpilogue? = nil,
                            kernelCache: (WinogradKernelCache, version: Int)? = nil) throws -> Tensor {
        let plan = try ConvolutionPlan(op: "conv", inputShape: input.shape, kernelShape: kernel.shape,
                                       strides: strides, padding: padding, dilation: dilation, groups: groups,
                                       zeroPadding: zeroPadding)
        // One group per input channel (ConvNeXt's 7×7 `groups=channels`) is a
        // depthwise convolution: [spatial..., 1, C·m] and [spatial..., C, m]
        // kernels hold the same floats in the same order.
        if groups > 1, plan.groups == plan.geometry.channels, plan.layout.groupChannels == 1,
           input.rank <= 4, padding != .causal {
            let rank = input.rank - 2
            let depthwise = try kernel.reshaped(to: Array(kernel.shape[..<rank]) + [groups, plan.outChannels / groups])
            return try depthwiseConv(input, depthwise, strides: strides, padding: padding, dilation: dilation,
                                     zeroPadding: zeroPadding, epilogue: epilogue)
        }
        if let epilogue {
            try epilogue.check(outputShape: plan.outputShape, op: "conv")
            try checkNoGradient([input, kernel] + [epilogue.residual].compactMap { $0 }, op: "conv")
            return plan.forward(input, kernel, epilogue: epilogue, winograd: true, kernelCache: kernelCache)
        }
        let (x, w) = (input.detached, kernel.detached)
        let (needX, needW) = (input.isTracked, kernel.isTracked)
        let recorded = GradientTape.noGradientDepth == 0 && (needX || needW)
        return record("conv", plan.forward(x, w, winograd: !recorded), [input, kernel]) { dy in
            [needX ? plan.inputGradient(dy, w) : nil, needW ? plan.kernelGradient(x, dy) : nil]
        }
    }

    /// The gradient of ``conv(_:_:strides:padding:dilation:groups:zeroPadding:epilogue:)`` with
    /// respect to its input (`tf.nn.conv2d_backprop_input`): the transposed
    /// convolution of `outputGradient` with `kernel`.
    /// - Parameters:
    ///   - outputGradient: `[batch, outSpatial..., outChannels]`, the shape the
    ///     convolution of an `inputShape` input produces.
    ///   - inputShape: `[batch, spatial..., channels]` of the convolution's input.
    public static func convBackpropInput(_ outputGradient: Tensor, _ kernel: Tensor, inputShape: [Int],
                                         strides: [Int] = [1], padding: Padding = .valid,
                                         dilation: [Int] = [1], groups: Int = 1) throws -> Tensor {
        let op = "convBackpropInput"
        let plan = try ConvolutionPlan(op: op, inputShape: inputShape, kernelShape: kernel.shape,
                                       strides: strides, padding: padding, dilation: dilation, groups: groups)
        try plan.check(outputGradient, is: plan.outputShape, "the output gradient", op: op)
        let (dy, w) = (outputGradient.detached, kernel.detached)
        let (needDY, needW) = (outputGradient.isTracked, kernel.isTracked)
        return record(op, plan.inputGradient(dy, w), [outputGradient, kernel]) { g in
            [needDY ? plan.forward(g, w) : nil, needW ? plan.kernelGradient(g, dy) : nil]
        }
    }

    /// The gradient of ``conv(_:_:strides:padding:dilation:groups:zeroPadding:epilogue:)`` with
    /// respect to its kernel (`tf.nn.conv2d_backprop_filter`).
    /// - Parameters:
    ///   - input: `[batch, spatial..., channels]`, the convolution's input.
    ///   - outputGradient: `[batch, outSpatial..., outChannels]`.
    ///   - kernelShape: `[spatial..., channels / groups, outChannels]`.
    public static func convBackpropFilter(_ input: Tensor, _ outputGradient: Tensor, kernelShape: [Int],
                                          strides: [Int] = [1], padding: Padding = .valid,
                                          dilation: [Int] = [1], groups: Int = 1) throws -> Tensor {
        let op = "convBackpropFilter"
        let plan = try ConvolutionPlan(op: op, inputShape: input.shape, kernelShape: kernelShape,
                                       strides: strides, padding: padding, dilation: dilation, groups: groups)
        try plan.check(outputGradient, is: plan.outputShape, "the output gradient", op: op)
        let (x, dy) = (input.detached, outputGradient.detached)
        let (needX, needDY) = (input.isTracked, outputGradient.isTracked)
        return record(op, plan.kernelGradient(x, dy), [input, outputGradient]) { g in
            [needX ? plan.inputGradient(dy, g) : nil, needDY ? plan.forward(x, g) : nil]
        }
    }
}
