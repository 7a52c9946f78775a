import XCTest
import Tensor

/// Asserts that `body` throws a ``TensorError`` whose description starts with
/// `kind` (e.g. "shape mismatch") and contains every fragment.
func assertTensorError(_ name: String, _ kind: String, _ fragments: [String],
                       file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
    do {
        _ = try body()
        XCTFail("\(name): no error thrown", file: file, line: line)
    } catch let error as TensorError {
        let message = error.description
        XCTAssertTrue(message.hasPrefix(kind + ":"), "\(name): \"\(message)\" is not a \(kind) error", file: file, line: line)
        for fragment in fragments where !message.contains(fragment) {
            XCTFail("\(name): \"\(message)\" does not mention \"\(fragment)\"", file: file, line: line)
        }
    } catch {
        XCTFail("\(name): unexpected error \(error)", file: file, line: line)
    }
}

/// A direct (loop-per-tap) convolution with TensorFlow's padding rule, used to
/// check the im2col/GEMM kernels on shapes large enough to be split in chunks.
/// Shapes are [batch, D, H, W, C] and [KD, KH, KW, C / groups, Cout].
struct ReferenceConvolution {
    let input: [Int], kernel: [Int], strides: [Int], dilation: [Int], groups: Int
    let padBefore: [Int], output: [Int]

    init(input: [Int], kernel: [Int], strides: [Int], dilation: [Int], same: Bool, groups: Int = 1) {
        (self.input, self.kernel, self.strides, self.dilation, self.groups) = (input, kernel, strides, dilation, groups)
        var pads = [Int](), outs = [Int]()
        for i in 0..<3 {
            let extent = (kernel[i] - 1) * dilation[i] + 1
            if same {
                let out = (input[i + 1] + strides[i] - 1) / strides[i]
                pads.append(max((out - 1) * strides[i] + extent - input[i + 1], 0) / 2)
                outs.append(out)
            } else {
                pads.append(0)
                outs.append((input[i + 1] - extent) / strides[i] + 1)
            }
        }
        (padBefore, output) = (pads, outs)
    }

    var outputShape: [Int] { [input[0]] + output + [kernel[4]] }

    /// Output, input gradient and kernel gradient for output gradient `dy`.
    func run(_ x: Tensor, _ w: Tensor, _ dy: Tensor) -> (y: Tensor, dx: Tensor, dw: Tensor) {
        var y = [Float](repeating: 0, count: outputShape.reduce(1, *))
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        let (cin, cout) = (input[4], kernel[4])
        let (cg, og) = (cin / groups, cout / groups)
        x.scalars.withUnsafeBufferPointer { xs in w.scalars.withUnsafeBufferPointer { ws in
        dy.scalars.withUnsafeBufferPointer { gs in y.withUnsafeMutableBufferPointer { ys in
        dx.withUnsafeMutableBufferPointer { dxs in dw.withUnsafeMutableBufferPointer { dws in
            for n in 0..<input[0] {
                for od in 0..<output[0] { for oh in 0..<output[1] { for ow in 0..<output[2] {
                    let o = (((n * output[0] + od) * output[1] + oh) * output[2] + ow) * cout
                    for a in 0..<kernel[0] { for b in 0..<kernel[1] { for c in 0..<kernel[2] {
                        let id = od * strides[0] - padBefore[0] + a * dilation[0]
                        let ih = oh * strides[1] - padBefore[1] + b * dilation[1]
                        let iw = ow * strides[2] - padBefore[2] + c * dilation[2]
                        guard id >= 0, id < input[1], ih >= 0, ih < input[2], iw >= 0, iw < input[3] else { continue }
                        let pixel = (((n * input[1] + id) * input[2] + ih) * input[3] + iw) * cin
                        let tap = ((a * kernel[1] + b) * kernel[2] + c) * cg * cout
                        for co in 0..<cout {
                            for ci in 0..<cg {
                                let (i, k) = (pixel + co / og * cg + ci, tap + ci * cout + co)
                                ys[o + co] += xs[i] * ws[k]
                                dxs[i] += gs[o + co] * ws[k]
                                dws[k] += gs[o + co] * xs[i]
                            }
                        }
                    }}}
                }}}
            }
        }}}}}}
        return (Tensor(shape: outputShape, scalars: y), Tensor(shape: x.shape, scalars: dx), Tensor(shape: w.shape, scalars: dw))
    }
}

final class ConvolutionTests: XCTestCase {
    // MARK: Finite-difference gradient checks at several random points.

    private let seeds: [UInt64] = [1, 2, 3]

    private func checkConv(_ name: String, input: [Int], kernel: [Int], strides: [Int] = [1], padding: Padding,
                           dilation: [Int] = [1], groups: Int = 1, line: UInt = #line) throws {
        for seed in seeds {
            var rng = TestRandom(seed: seed)
            try checkGradients("\(name) seed \(seed)", inputs: [rng.tensor(input), rng.tensor(kernel)], seed: seed,
                               line: line) { xs in
                try Tensor.conv(xs[0], xs[1], strides: strides, padding: padding, dilation: dilation, groups: groups)
            }
        }
    }

    func testConvolution1DGradients() throws {
        try checkConv("conv1d valid", input: [2, 7, 3], kernel: [3, 3, 2], padding: .valid)
        try checkConv("conv1d causal s2 d2", input: [1, 9, 2], kernel: [3, 2, 2], strides: [2], padding: .causal,
                      dilation: [2])
        try checkConv("conv1d same even kernel", input: [1, 6, 2], kernel: [4, 2, 3], padding: .same)
    }

    func testConvolution2DGradients() throws {
        try checkConv("conv2d same s2 even input", input: [1, 6, 5, 2], kernel: [3, 2, 2, 3], strides: [2],
                      padding: .same)
        try checkConv("conv2d groups2 d2 same", input: [1, 6, 6, 4], kernel: [3, 3, 2, 4], padding: .same,
                      dilation: [2], groups: 2)
        try checkConv("conv2d s2 d2 valid", input: [1, 9, 8, 2], kernel: [2, 3, 2, 2], strides: [2, 1],
                      padding: .valid, dilation: [2, 2])
        try checkConv("conv2d pointwise groups2", input: [2, 3, 3, 4], kernel: [1, 1, 2, 4], padding: .valid, groups: 2)
    }

    func testConvolution3DGradients() throws {
        try checkConv("conv3d same s2", input: [1, 4, 4, 3, 2], kernel: [2, 3, 2, 2, 2], strides: [2], padding: .same)
        try checkConv("conv3d valid d2", input: [1, 5, 3, 4, 1], kernel: [2, 2, 2, 1, 2], padding: .valid,
                      dilation: [2, 1, 1])
    }

    func testBackpropOpsGradients() throws {
        for seed in seeds {
            var rng = TestRandom(seed: seed)
            let inputShape = [1, 5, 6, 2], kernelShape = [3, 3, 2, 3]
            let kernel = rng.tensor(kernelShape), dy = rng.tensor([1, 3, 3, 3]), x = rng.tensor(inputShape)
            try checkGradients("convBackpropInput seed \(seed)", inputs: [dy, kernel], seed: seed) { xs in
                try Tensor.convBackpropInput(xs[0], xs[1], inputShape: inputShape, strides: [2], padding: .same)
            }
            try checkGradients("convBackpropFilter seed \(seed)", inputs: [x, dy], seed: seed) { xs in
                try Tensor.convBackpropFilter(xs[0], xs[1], kernelShape: kernelShape, strides: [2], padding: .same)
            }
        }
    }

    func testTransposedConvolutionGradients() throws {
        for seed in seeds {
            var rng = TestRandom(seed: seed)
            try checkGradients("conv2d transpose same s2 output padding seed \(seed)",
                               inputs: [rng.tensor([1, 3, 2, 2]), rng.tensor([3, 3, 2, 2])], seed: seed) { xs in
                try Tensor.convTranspose(xs[0], xs[1], strides: [2], padding: .same, outputPadding: [1])
            }
            try checkGradients("conv1d transpose valid d2 seed \(seed)",
                               inputs: [rng.tensor([2, 4, 2]), rng.tensor([3, 3, 2])], seed: seed) { xs in
                try Tensor.convTranspose(xs[0], xs[1], padding: .valid, dilation: [2])
            }
            try checkGradients("conv3d transpose valid s2 seed \(seed)",
                               inputs: [rng.tensor([1, 2, 2, 2, 2]), rng.tensor([2, 2, 3, 1, 2])], seed: seed) { xs in
                try Tensor.convTranspose(xs[0], xs[1], strides: [2, 1, 2], padding: .valid)
            }
        }
    }

    func testDepthwiseConvolutionGradients() throws {
        for seed in seeds {
            var rng = TestRandom(seed: seed)
            try checkGradients("depthwise1d same m2 seed \(seed)",
                               inputs: [rng.tensor([2, 6, 3]), rng.tensor([3, 3, 2])], seed: seed) { xs in
                try Tensor.depthwiseConv(xs[0], xs[1], padding: .same)
            }
            try checkGradients("depthwise2d same s2 d2 m2 seed \(seed)",
                               inputs: [rng.tensor([1, 7, 6, 2]), rng.tensor([3, 2, 2, 2])], seed: seed) { xs in
                try Tensor.depthwiseConv(xs[0], xs[1], strides: [2], padding: .same, dilation: [2])
            }
            try checkGradients("depthwise2d valid m1 seed \(seed)",
                               inputs: [rng.tensor([2, 4, 5, 3]), rng.tensor([2, 3, 3, 1])], seed: seed) { xs in
                try Tensor.depthwiseConv(xs[0], xs[1], padding: .valid)
            }
        }
    }

    // MARK: Chunked im2col/GEMM against a direct convolution.

    /// Convolutions whose patch matrices exceed the 8 MB column buffer
    /// (`ConvolutionPlan.columnBufferBytes`), so im2col and col2im run in
    /// chunks of whole images, of depth planes, and of rows within a plane.
    func testChunkedConvolutionMatchesDirectLoops() throws {
        let cases: [(String, input: [Int], kernel: [Int], strides: [Int], dilation: [Int], same: Bool, groups: Int)] = [
            ("chunks of images", [3, 1, 70, 70, 16], [1, 3, 3, 16, 1], [1, 1, 1], [1, 1, 1], true, 1),
            ("chunks of depth planes", [1, 12, 48, 48, 4], [3, 3, 3, 4, 1], [1, 1, 1], [1, 1, 1], true, 1),
            ("chunks of rows, strided, dilated, grouped", [1, 1, 700, 100, 8], [1, 3, 3, 4, 2], [1, 2, 1], [1, 1, 2],
             false, 2),
        ]
        var rng = TestRandom(seed: 11)
        for (name, inputShape, kernelShape, strides, dilation, same, groups) in cases {
            let reference = ReferenceConvolution(input: inputShape, kernel: kernelShape, strides: strides,
                                                 dilation: dilation, same: same, groups: groups)
            // The public op sees 2-D shapes when the depth axis is 1.
            let flat = inputShape[1] == 1
            let x = rng.tensor(flat ? [inputShape[0]] + Array(inputShape[2...]) : inputShape)
            let w = rng.tensor(flat ? Array(kernelShape[1...]) : kernelShape)
            let dyShape = flat ? [reference.outputShape[0]] + Array(reference.outputShape[2...]) : reference.outputShape
            let dy = rng.tensor(dyShape)
            let expected = reference.run(x, w, dy)

            let tape = GradientTape()
            let (xs, ws) = (tape.watch(x), tape.watch(w))
            let y = try Tensor.conv(xs, ws, strides: Array(strides.suffix(flat ? 2 : 3)), padding: same ? .same : .valid,
                                    dilation: Array(dilation.suffix(flat ? 2 : 3)), groups: groups)
            let grads = try tape.gradient(of: y, wrt: [xs, ws], outputGradient: dy)
            assertClose(y, try expected.y.reshaped(to: dyShape), atol: 1e-4, rtol: 1e-4, "\(name): output")
            assertClose(grads[0]!, expected.dx, atol: 1e-4, rtol: 1e-4, "\(name): input gradient")
            assertClose(grads[1]!, expected.dw, atol: 1e-3, rtol: 1e-4, "\(name): kernel gradient")
        }
    }

    // MARK: Bad input.

    func testPaddingParsesKerasNames() throws {
        XCTAssertEqual(try Padding(keras: "same"), .same)
        XCTAssertEqual(try Padding(keras: "VALID"), .valid)
        XCTAssertEqual(try Padding(keras: "Causal"), .causal)
        assertTensorError("unknown padding", "invalid argument", ["\"full\"", "valid", "same", "causal"]) {
            try Padding(keras: "full")
        }
    }

    func testConvolutionRejectsBadInput() {
        let x = Tensor.zeros([1, 5, 5, 3])
        assertTensorError("channel mismatch", "shape mismatch", ["3 channels", "[3, 3, 4, 2]", "expects 4"]) {
            try Tensor.conv(x, .zeros([3, 3, 4, 2]))
        }
        assertTensorError("kernel rank", "shape mismatch", ["rank 4", "[3, 3, 2]"]) {
            try Tensor.conv(x, .zeros([3, 3, 2]))
        }
        assertTensorError("input rank", "invalid shape", ["1–3 spatial axes", "[5, 3]"]) {
            try Tensor.conv(.zeros([5, 3]), .zeros([3, 2]))
        }
        assertTensorError("zero stride", "invalid argument", ["strides", "[0]"]) {
            try Tensor.conv(x, .zeros([3, 3, 3, 2]), strides: [0])
        }
        assertTensorError("stride count", "invalid argument", ["strides", "[1, 1, 1]", "1 or 2 entries"]) {
            try Tensor.conv(x, .zeros([3, 3, 3, 2]), strides: [1, 1, 1])
        }
        assertTensorError("zero dilation", "invalid argument", ["dilation", "[0]"]) {
            try Tensor.conv(x, .zeros([3, 3, 3, 2]), dilation: [0])
        }
        assertTensorError("groups not dividing channels", "invalid argument", ["groups 2", "3"]) {
            try Tensor.conv(x, .zeros([3, 3, 1, 2]), groups: 2)
        }
        assertTensorError("groups not dividing filters", "invalid argument", ["groups 3", "output channels 4"]) {
            try Tensor.conv(.zeros([1, 5, 5, 6]), .zeros([3, 3, 2, 4]), groups: 3)
        }
        assertTensorError("zero groups", "invalid argument", ["groups must be positive"]) {
            try Tensor.conv(x, .zeros([3, 3, 3, 2]), groups: 0)
        }
        assertTensorError("causal 2-D", "invalid argument", ["causal", "1 spatial axis"]) {
            try Tensor.conv(x, .zeros([3, 3, 3, 2]), padding: .causal)
        }
        assertTensorError("kernel larger than input", "invalid shape", ["does not fit", "valid"]) {
            try Tensor.conv(x, .zeros([3, 6, 3, 2]))
        }
        assertTensorError("output gradient shape", "shape mismatch", ["output gradient", "[1, 3, 3, 2]"]) {
            try Tensor.convBackpropInput(.zeros([1, 4, 4, 2]), .zeros([3, 3, 3, 2]), inputShape: [1, 5, 5, 3])
        }
        assertTensorError("filter gradient kernel shape", "shape mismatch", ["3 channels", "expects 2"]) {
            try Tensor.convBackpropFilter(x, .zeros([1, 3, 3, 2]), kernelShape: [3, 3, 2, 2])
        }
    }

    func testTransposedConvolutionRejectsBadInput() {
        let x = Tensor.zeros([1, 4, 4, 3])
        assertTensorError("channel mismatch", "shape mismatch", ["3 channels", "expects 2"]) {
            try Tensor.convTranspose(x, .zeros([3, 3, 5, 2]))
        }
        assertTensorError("kernel rank", "shape mismatch", ["rank 4"]) {
            try Tensor.convTranspose(x, .zeros([3, 5, 3]))
        }
        assertTensorError("output padding ≥ stride", "invalid argument", ["outputPadding 2", "stride 2"]) {
            try Tensor.convTranspose(x, .zeros([3, 3, 5, 3]), strides: [2], outputPadding: [2])
        }
        assertTensorError("output padding that TensorFlow rejects", "invalid argument", ["does not map back", "[1, 4, 4, 3]"]) {
            try Tensor.convTranspose(x, .zeros([2, 2, 5, 3]), strides: [2], padding: .same, outputPadding: [0])
        }
        assertTensorError("causal", "invalid argument", ["causal"]) {
            try Tensor.convTranspose(.zeros([1, 4, 3]), .zeros([3, 5, 3]), padding: .causal)
        }
    }

    func testDepthwiseConvolutionRejectsBadInput() {
        assertTensorError("channel mismatch", "shape mismatch", ["3 channels", "expects 4"]) {
            try Tensor.depthwiseConv(.zeros([1, 5, 5, 3]), .zeros([3, 3, 4, 1]))
        }
        assertTensorError("3-D input", "invalid shape", ["[1, 4, 4, 4, 2]"]) {
            try Tensor.depthwiseConv(.zeros([1, 4, 4, 4, 2]), .zeros([2, 2, 2, 2, 1]))
        }
        assertTensorError("zero stride", "invalid argument", ["strides"]) {
            try Tensor.depthwiseConv(.zeros([1, 5, 3]), .zeros([3, 3, 1]), strides: [0])
        }
    }
}
