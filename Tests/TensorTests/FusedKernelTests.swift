import XCTest
import Tensor

/// The inference fusions (zero padding and channel epilogues inside
/// convolutions), the register-blocked depthwise kernels and the split GEMM
/// against the plain ops they replace.
final class FusedKernelTests: XCTestCase {
    /// A convolution case: `(input shape, kernel shape, strides, padding, groups)`.
    private typealias ConvCase = (name: String, x: [Int], w: [Int], strides: [Int], padding: Padding, groups: Int)

    private let convCases: [ConvCase] = [
        ("1x1", [2, 5, 6, 12], [1, 1, 12, 20], [1], .valid, 1),
        ("3x3 same", [2, 7, 6, 5], [3, 3, 5, 19], [1], .same, 1),
        ("3x3 valid s2", [3, 9, 8, 4], [3, 3, 4, 9], [2], .valid, 1),
        ("3x3 same grouped", [2, 6, 6, 6], [3, 3, 2, 9], [1], .same, 3),
        ("1-D causal", [2, 11, 3], [4, 3, 5], [1], .causal, 1),
        // Enough output rows (≥ 256 per core on up to 4 cores) for blocks run per core.
        ("1x1 per core", [4, 16, 16, 12], [1, 1, 12, 20], [1], .valid, 1),
        ("1x1 per core grouped", [4, 16, 16, 12], [1, 1, 6, 20], [1], .valid, 2),
        ("7x7 s2 per core", [4, 33, 35, 3], [7, 7, 3, 16], [2], .same, 1),
        ("3x3 per core grouped", [5, 15, 14, 6], [3, 3, 2, 9], [1], .same, 3),
    ]

    /// `(input shape, kernel shape, strides, padding)`; 21 and 35 channels run
    /// the eight-wide loops and their tails.
    private let depthwiseCases: [(name: String, x: [Int], w: [Int], strides: [Int], padding: Padding)] = [
        ("3x3 same m1", [2, 7, 6, 21], [3, 3, 21, 1], [1], .same),
        ("3x3 valid s2 m1", [2, 9, 9, 35], [3, 3, 35, 1], [2], .valid),
        ("5x5 same s2 m1", [1, 8, 7, 16], [5, 5, 16, 1], [2], .same),
        ("3x3 same m3", [2, 5, 5, 4], [3, 3, 4, 3], [1], .same),
        ("1-D valid m1", [2, 12, 9], [3, 9, 1], [1], .valid),
    ]

    /// The separate ops an epilogue replaces.
    private func separate(_ y: Tensor, _ e: ChannelEpilogue) throws -> Tensor {
        var y = y
        let c = [y.shape.last!]
        if let bias = e.bias { y = try y + Tensor(shape: c, scalars: bias) }
        if let scale = e.scale, let shift = e.shift {
            y = try y * Tensor(shape: c, scalars: scale) + Tensor(shape: c, scalars: shift)
        }
        if let residual = e.residual { y = try y + residual }
        if let cap = e.reluCap { y = y.relu(maxValue: cap == .infinity ? nil : cap) }
        return y
    }

    /// Epilogues for an output of `shape`.
    private func epilogues(_ shape: [Int], _ rng: inout TestRandom) -> [ChannelEpilogue] {
        let vector = { (rng: inout TestRandom) in rng.tensor([shape.last!], -0.5, 0.5).scalars }
        return [
            ChannelEpilogue(bias: vector(&rng)),
            ChannelEpilogue(scale: vector(&rng), shift: vector(&rng), reluCap: 6),
            ChannelEpilogue(bias: vector(&rng), scale: vector(&rng), shift: vector(&rng), reluCap: .infinity),
            ChannelEpilogue(scale: vector(&rng), shift: vector(&rng), residual: rng.tensor(shape), reluCap: .infinity),
            ChannelEpilogue(residual: rng.tensor(shape)),
            ChannelEpilogue(reluCap: 0.25),
        ]
    }

    func testConvolutionEpilogueEqualsSeparateOps() throws {
        var rng = TestRandom(seed: 1)
        for c in convCases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w)
            let plain = try Tensor.conv(x, w, strides: c.strides, padding: c.padding, groups: c.groups)
            for (i, e) in epilogues(plain.shape, &rng).enumerated() {
                let fused = try Tensor.conv(x, w, strides: c.strides, padding: c.padding, groups: c.groups, epilogue: e)
                XCTAssertEqual(fused, try separate(plain, e), "conv \(c.name), epilogue \(i)")
            }
        }
    }

    func testDepthwiseEpilogueEqualsSeparateOps() throws {
        var rng = TestRandom(seed: 2)
        for c in depthwiseCases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w)
            let plain = try Tensor.depthwiseConv(x, w, strides: c.strides, padding: c.padding)
            for (i, e) in epilogues(plain.shape, &rng).enumerated() {
                let fused = try Tensor.depthwiseConv(x, w, strides: c.strides, padding: c.padding, epilogue: e)
                XCTAssertEqual(fused, try separate(plain, e), "depthwise \(c.name), epilogue \(i)")
            }
        }
    }

    func testEpilogueKeepsNaNAndSignedZerosAsSeparateOps() throws {
        let values: [Float] = [.nan, -0.0, 0, -1, 7, .infinity, -.infinity, 0.5]
        let x = Tensor(shape: [1, 1, 8, 1], scalars: values), w = Tensor.ones([1, 1, 1, 3])
        let plain = try Tensor.conv(x, w)
        for cap: Float in [.infinity, 6] {
            let fused = try Tensor.conv(x, w, epilogue: ChannelEpilogue(reluCap: cap))
            let expected = try separate(plain, ChannelEpilogue(reluCap: cap))
            XCTAssertEqual(fused.scalars.map(\.bitPattern), expected.scalars.map(\.bitPattern), "relu cap \(cap)")
        }
    }

    func testZeroPaddingEqualsPaddedInput() throws {
        var rng = TestRandom(seed: 3)
        for c in convCases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w)
            let margins = (0..<(c.x.count - 2)).map { (($0 + 1) % 3, $0 % 2 + 1) }
            let padded = try x.padded([(0, 0)] + margins + [(0, 0)])
            XCTAssertEqual(try Tensor.conv(x, w, strides: c.strides, padding: c.padding, groups: c.groups, zeroPadding: margins),
                           try Tensor.conv(padded, w, strides: c.strides, padding: c.padding, groups: c.groups),
                           "conv \(c.name)")
        }
        for c in depthwiseCases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w)
            let margins = (0..<(c.x.count - 2)).map { ($0 % 2, 1) }
            let padded = try x.padded([(0, 0)] + margins + [(0, 0)])
            XCTAssertEqual(try Tensor.depthwiseConv(x, w, strides: c.strides, padding: c.padding, zeroPadding: margins),
                           try Tensor.depthwiseConv(padded, w, strides: c.strides, padding: c.padding),
                           "depthwise \(c.name)")
        }
    }

    func testZeroPaddingGradients() throws {
        var rng = TestRandom(seed: 4)
        try checkGradients("conv 3x3 zero padding (1, 2), (0, 1)", inputs: [rng.tensor([2, 4, 5, 3]), rng.tensor([3, 3, 3, 4])]) {
            try Tensor.conv($0[0], $0[1], strides: [2], zeroPadding: [(1, 2), (0, 1)])
        }
        try checkGradients("depthwise 3x3 zero padding (0, 1), (1, 1)",
                           inputs: [rng.tensor([2, 5, 4, 10]), rng.tensor([3, 3, 10, 1])]) {
            try Tensor.depthwiseConv($0[0], $0[1], strides: [2], zeroPadding: [(0, 1), (1, 1)])
        }
    }

    /// Multiplier-1 depthwise is a grouped convolution with one group per
    /// channel; the GEMM path sums in another order, hence the tolerance.
    func testDepthwiseMatchesGroupedConvolutionWithGradients() throws {
        var rng = TestRandom(seed: 8)
        for c in depthwiseCases where c.w.last! == 1 {
            let x = rng.tensor(c.x), w = rng.tensor(c.w)
            let channels = c.x.last!
            let grouped = try w.reshaped(to: Array(c.w.dropLast(2)) + [1, channels])
            let tape = GradientTape()
            let (tx, tw, tg) = (tape.watch(x), tape.watch(w), tape.watch(grouped))
            let y = try Tensor.depthwiseConv(tx, tw, strides: c.strides, padding: c.padding)
            let reference = try Tensor.conv(tx, tg, strides: c.strides, padding: c.padding, groups: channels)
            let dy = rng.tensor(y.shape)
            let g = try tape.gradient(of: y, wrt: [tx, tw], outputGradient: dy)
            let r = try tape.gradient(of: reference, wrt: [tx, tg], outputGradient: dy)
            assertClose(y, reference, "depthwise \(c.name) forward")
            assertClose(g[0]!, r[0]!, "depthwise \(c.name) input gradient")
            assertClose(try g[1]!.reshaped(to: grouped.shape), r[1]!, "depthwise \(c.name) kernel gradient")
        }
    }

    /// Untracked 3×3 stride-1 convolutions with enough channels and tiles run
    /// Winograd's F(2×2, 3×3); recorded ones the im2col GEMM. Odd sizes leave
    /// partial tiles; 36 and 19 channels leave partial vectors.
    func testWinogradMatchesGEMM() throws {
        var rng = TestRandom(seed: 10)
        let cases: [(x: [Int], w: [Int], padding: Padding, zeroPadding: [(Int, Int)]?)] = [
            ([2, 9, 11, 32], [3, 3, 32, 24], .same, nil),
            ([3, 8, 8, 36], [3, 3, 36, 19], .valid, nil),
            ([1, 13, 10, 32], [3, 3, 32, 16], .valid, [(1, 0), (0, 1)]),
            ([16, 4, 4, 40], [3, 3, 40, 40], .same, nil),
            ([2, 33, 32, 32], [3, 3, 32, 16], .same, nil),
            ([4, 48, 47, 32], [3, 3, 32, 16], .same, nil),  // enough tiles for blocks on every core (up to 4)
        ]
        for c in cases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w, -0.3, 0.3), bias = rng.tensor([c.w[3]]).scalars
            let fast = try Tensor.conv(x, w, padding: c.padding, zeroPadding: c.zeroPadding)
            let tape = GradientTape()
            let exact = try Tensor.conv(tape.watch(x), w, padding: c.padding, zeroPadding: c.zeroPadding)
            assertClose(fast, exact, "winograd \(c.x) ⊛ \(c.w) \(c.padding)")
            let epilogue = ChannelEpilogue(bias: bias, residual: rng.tensor(fast.shape), reluCap: 6)
            let fused = try Tensor.conv(x, w, padding: c.padding, zeroPadding: c.zeroPadding, epilogue: epilogue)
            XCTAssertEqual(fused, try separate(fast, epilogue), "winograd epilogue \(c.x)")
        }
        // Fewer than 32 input channels (K = 16 per Winograd GEMM) stay on the
        // im2col GEMM, the same one a recorded convolution runs.
        let x = rng.tensor([2, 16, 16, 16]), w = rng.tensor([3, 3, 16, 64], -0.3, 0.3)
        XCTAssertEqual(try Tensor.conv(x, w, padding: .same), try Tensor.conv(GradientTape().watch(x), w, padding: .same))
    }

    /// Untracked convolutions with a short patch row (at most 32 values) and
    /// 32–128 output channels, over enough rows for the per-core path, run
    /// the small-kernel product instead of `sgemm`; recorded ones the GEMM.
    /// Odd row counts leave a single last row; strides, 3-D and the epilogue too.
    func testSmallKernelConvolutionMatchesGEMM() throws {
        var rng = TestRandom(seed: 12)
        let cases: [(x: [Int], w: [Int], strides: [Int], padding: Padding)] = [
            ([3, 19, 17, 3], [3, 3, 3, 32], [1], .same),        // 969 rows, K = 27
            ([3, 21, 23, 3], [3, 3, 3, 64], [2, 1], .valid),   // K = 27, two blocks of 32 outputs
            ([1, 4, 12, 13, 1], [3, 3, 3, 1, 32], [1], .same), // Conv3D, K = 27
            ([2, 16, 16, 8], [2, 2, 8, 96], [1], .same),       // K = 32, three blocks
        ]
        for c in cases {
            let x = rng.tensor(c.x), w = rng.tensor(c.w, -0.3, 0.3), bias = rng.tensor([c.w.last!]).scalars
            let fast = try Tensor.conv(x, w, strides: c.strides, padding: c.padding)
            let exact = try Tensor.conv(GradientTape().watch(x), w, strides: c.strides, padding: c.padding)
            assertClose(fast, exact, "small kernel \(c.x) ⊛ \(c.w)")
            let epilogue = ChannelEpilogue(bias: bias, residual: rng.tensor(fast.shape), reluCap: .infinity)
            let fused = try Tensor.conv(x, w, strides: c.strides, padding: c.padding, epilogue: epilogue)
            XCTAssertEqual(fused, try separate(fast, epilogue), "small kernel epilogue \(c.x)")
        }
    }

    /// Large enough for `sgemm` to split rows or columns across cores; one
    /// row or one column of output with a matrix operand of at least 2¹⁶
    /// values runs as a matrix-vector product (split across cores from 128
    /// outputs and 2¹⁷ multiply-adds).
    func testSplitMatmulMatchesReference() throws {
        var rng = TestRandom(seed: 9)
        for (m, k, n) in [(300, 70, 90), (40, 300, 260), (1, 600, 260), (1, 70, 9), (260, 600, 1), (9, 70, 1), (1, 5, 1)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = rng.tensor(ta ? [k, m] : [m, k]), b = rng.tensor(tb ? [n, k] : [k, n])
                let c = try Tensor.matmul(a, b, transposeA: ta, transposeB: tb)
                var expected = [Float](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k {
                            s += Double(a.scalars[ta ? p * m + i : i * k + p]) * Double(b.scalars[tb ? j * k + p : p * n + j])
                        }
                        expected[i * n + j] = Float(s)
                    }
                }
                assertClose(c, Tensor(shape: [m, n], scalars: expected), "matmul \(m)×\(k)×\(n) tA \(ta) tB \(tb)")
            }
        }
    }

    func testEpilogueRefusesTrackedInputs() throws {
        let tape = GradientTape()
        let x = tape.watch(.ones([1, 3, 3, 2])), w = Tensor.ones([1, 1, 2, 2])
        assertTensorError("conv epilogue with a watched input", "gradient", ["no gradient"]) {
            try Tensor.conv(x, w, epilogue: ChannelEpilogue(reluCap: 6))
        }
        assertTensorError("epilogue with a wrong bias length", "shape mismatch", ["bias", "3 values for 2 channels"]) {
            try withoutGradient { try Tensor.conv(x, w, epilogue: ChannelEpilogue(bias: [1, 2, 3])) }
        }
        assertTensorError("epilogue with a wrong residual shape", "shape mismatch", ["residual", "[1, 3, 3, 1]"]) {
            try withoutGradient { try Tensor.conv(x, w, epilogue: ChannelEpilogue(residual: .zeros([1, 3, 3, 1]))) }
        }
        XCTAssertNoThrow(try withoutGradient { try Tensor.conv(x, w, epilogue: ChannelEpilogue(reluCap: 6)) })
    }

    /// The fused ConvLSTM step (recurrent convolution with the projected input
    /// as the GEMM's start, gates per block of rows) against the convolution,
    /// the add and the gates as separate ops; 1-D to 3-D, with and without
    /// blocks of rows per core.
    func testConvLSTMStepMatchesComposedStep() throws {
        var rng = TestRandom(seed: 31)
        let cases: [(name: String, x: [Int], w: [Int])] = [
            ("2-D", [2, 5, 4, 8], [3, 3, 8, 32]),
            ("2-D per core", [3, 20, 18, 16], [3, 3, 16, 64]),
            ("2-D 1x2 kernel", [2, 4, 5, 8], [1, 2, 8, 32]),
            ("1-D", [2, 9, 8], [3, 8, 32]),
            ("3-D", [1, 4, 5, 6, 8], [3, 3, 3, 8, 32]),
        ]
        for c in cases {
            let units = c.x.last!
            let previous = rng.tensor(c.x), kernel = rng.tensor(c.w, -0.3, 0.3), carry = rng.tensor(c.x, -2, 2)
            let projected = rng.tensor(Array(c.x.dropLast()) + [4 * units], -1, 1)
            guard let fused = Tensor.convLSTMStepInference(previous, kernel, projected: projected, carry: carry) else {
                XCTFail("\(c.name): no fused step"); continue
            }
            let z = try Tensor.conv(previous, kernel, padding: .same) + projected
            let composed = Tensor.lstmGatesInference(z, carry: carry)!
            assertClose(fused.h, composed.h, atol: 1e-6, rtol: 1e-6, "\(c.name) output")
            assertClose(fused.c, composed.c, atol: 1e-6, rtol: 1e-6, "\(c.name) carry")
            // The same step read in place from the middle of a sequence of three.
            let other = rng.tensor(projected.shape)
            let sequence = try Tensor.stack([other, projected, other], axis: 0)
            guard let inPlace = Tensor.convLSTMStepInference(previous, kernel, projectedSequence: sequence, timestep: 1,
                                                             carry: carry) else {
                XCTFail("\(c.name): no fused step on the sequence"); continue
            }
            XCTAssertEqual(inPlace.h, fused.h, "\(c.name) output, in place")
            XCTAssertEqual(inPlace.c, fused.c, "\(c.name) carry, in place")
            XCTAssertNil(Tensor.convLSTMStepInference(previous, kernel, projectedSequence: sequence, timestep: 3,
                                                      carry: carry), "\(c.name): timestep out of range")
        }
    }

    /// The joint step (input and recurrent convolutions as one, with the
    /// bias) against the two convolutions, the bias and the gates as separate
    /// ops; 32 joined channels at 3×3 take Winograd.
    func testJointConvLSTMStepMatchesSeparateConvolutions() throws {
        var rng = TestRandom(seed: 33)
        let cases: [(name: String, x: [Int], units: Int, window: [Int])] = [
            ("2-D", [2, 5, 4, 3], 8, [3, 3]),
            ("2-D per core", [3, 20, 18, 3], 16, [3, 3]),
            ("2-D Winograd", [2, 8, 8, 16], 16, [3, 3]),
            ("1-D", [2, 9, 4], 8, [3]),
            ("3-D", [1, 4, 5, 6, 2], 8, [3, 3, 3]),
        ]
        for c in cases {
            let units = c.units, spatial = Array(c.x.dropLast())
            let input = rng.tensor(c.x), previous = rng.tensor(spatial + [units]), carry = rng.tensor(spatial + [units], -2, 2)
            let w = rng.tensor(c.window + [c.x.last!, 4 * units], -0.3, 0.3)
            let u = rng.tensor(c.window + [units, 4 * units], -0.3, 0.3)
            let bias = rng.tensor([4 * units], -0.5, 0.5)
            let joined = try Tensor.concatenate([input, previous], axis: -1)
            let kernel = try Tensor.concatenate([w, u], axis: c.window.count)
            guard let fused = Tensor.convLSTMStepInference(joined: joined, kernel, bias: bias.scalars, carry: carry) else {
                XCTFail("\(c.name): no joint step"); continue
            }
            let z = try Tensor.conv(input, w, padding: .same) + Tensor.conv(previous, u, padding: .same) + bias
            let separate = Tensor.lstmGatesInference(z, carry: carry)!
            assertClose(fused.h, separate.h, atol: 1e-5, rtol: 1e-5, "\(c.name) output")
            assertClose(fused.c, separate.c, atol: 1e-5, rtol: 1e-5, "\(c.name) carry")
        }
        let x = rng.tensor([2, 5, 4, 11]), carry = rng.tensor([2, 5, 4, 8]), k = rng.tensor([3, 3, 11, 32])
        XCTAssertNil(Tensor.convLSTMStepInference(joined: x, k, bias: [Float](repeating: 0, count: 16), carry: carry),
                     "bias of the wrong length")
        XCTAssertNil(Tensor.convLSTMStepInference(joined: GradientTape().watch(x), k, bias: nil, carry: carry), "tracked")
    }

    func testConvLSTMStepDeclinesWhatItDoesNotFuse() {
        var rng = TestRandom(seed: 32)
        let x = rng.tensor([2, 5, 4, 8]), w = rng.tensor([3, 3, 8, 32]), p = rng.tensor([2, 5, 4, 32])
        XCTAssertNotNil(Tensor.convLSTMStepInference(x, w, projected: p, carry: x))
        XCTAssertNil(Tensor.convLSTMStepInference(GradientTape().watch(x), w, projected: p, carry: x), "tracked")
        XCTAssertNil(Tensor.convLSTMStepInference(rng.tensor([2, 5, 4, 6]), rng.tensor([3, 3, 6, 24]),
                                                  projected: rng.tensor([2, 5, 4, 24]), carry: rng.tensor([2, 5, 4, 6])),
                     "units not a multiple of 8")
        XCTAssertNil(Tensor.convLSTMStepInference(x, w, projected: rng.tensor([2, 5, 4, 16]), carry: x), "projected shape")
        // 32 channels at 3×3 take the Winograd convolution, which the composed step keeps.
        let wide = rng.tensor([2, 8, 8, 32])
        XCTAssertNil(Tensor.convLSTMStepInference(wide, rng.tensor([3, 3, 32, 128]), projected: rng.tensor([2, 8, 8, 128]),
                                                  carry: wide), "Winograd")
    }
}
