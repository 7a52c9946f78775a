import XCTest
import Tensor

/// Every op against TensorFlow: forward values and input gradients of
/// sum(output · projection), from tools/gen_tensor_fixtures.py; then a
/// finite-difference check of the same gradients at several points.
final class OpFixtureTests: XCTestCase {
    typealias Op = ([Tensor]) throws -> Tensor

    /// Case name (as in the generator) → the same computation in Swift.
    static let ops: [String: Op] = [
        "add_same": { try $0[0] + $0[1] },
        "add_broadcast": { try $0[0] + $0[1] },
        "add_broadcast_both": { try $0[0] + $0[1] },
        "subtract_broadcast": { try $0[0] - $0[1] },
        "multiply_broadcast": { try $0[0] * $0[1] },
        "multiply_scalar_tensor": { try $0[0] * $0[1] },
        "divide_broadcast": { try $0[0] / $0[1] },
        "pow_tensor": { try Tensor.pow($0[0], $0[1]) },
        "maximum_broadcast": { try Tensor.maximum($0[0], $0[1]) },
        "minimum_broadcast": { try Tensor.minimum($0[0], $0[1]) },
        "where_broadcast": {
            let condition = Tensor(shape: [3, 4], scalars: (0..<12).map { $0 % 3 == 0 ? 1 : 0 })
            return try Tensor.where(condition, $0[0], $0[1])
        },
        "negative": { -$0[0] },
        "exp": { $0[0].exp() },
        "log": { $0[0].log() },
        "sqrt": { $0[0].sqrt() },
        "rsqrt": { $0[0].rsqrt() },
        "square": { $0[0].square() },
        "abs": { $0[0].abs() },
        "sign": { $0[0].sign() },
        "round_half_to_even": { $0[0].round() },
        "pow_scalar": { $0[0].pow(2.5) },
        "clip": { $0[0].clip(-0.5, 0.7) },
        "relu": { try Activation.relu($0[0]) },
        "relu_negative_slope": { $0[0].relu(negativeSlope: 0.1) },
        "relu_max_value": { $0[0].relu(maxValue: 1) },
        "relu_threshold": { $0[0].relu(threshold: 0.5) },
        "relu_all_options": { $0[0].relu(negativeSlope: 0.2, maxValue: 1.5, threshold: 0.3) },
        "relu6": { try Activation.relu6($0[0]) },
        "leaky_relu": { try Activation.leakyRelu($0[0]) },
        "elu": { try Activation.elu($0[0]) },
        "elu_alpha": { $0[0].elu(alpha: 0.5) },
        "selu": { try Activation.selu($0[0]) },
        "softplus": { try Activation.softplus($0[0]) },
        "softsign": { try Activation.softsign($0[0]) },
        "sigmoid": { try Activation.sigmoid($0[0]) },
        "tanh": { try Activation.tanh($0[0]) },
        "exponential": { try Activation.exponential($0[0]) },
        "mish": { try Activation.mish($0[0]) },
        "swish": { try Activation.swish($0[0]) },
        "gelu": { try Activation.gelu($0[0]) },
        "gelu_approximate": { $0[0].gelu(approximate: true) },
        "gelu_wide": { try Activation.gelu($0[0]) },
        "erf": { $0[0].erf() },
        "hard_sigmoid": { try Activation.hardSigmoid($0[0]) },
        "hard_sigmoid_keras2": { try Activation.hardSigmoid($0[0], keras2: true) },
        "hard_silu": { try Activation.hardSilu($0[0]) },
        "celu": { try Activation.celu($0[0]) },
        "squareplus": { try Activation.squareplus($0[0]) },
        "soft_shrink": { try Activation.softShrink($0[0]) },
        "hard_shrink": { try Activation.hardShrink($0[0]) },
        "sparse_plus": { try Activation.sparsePlus($0[0]) },
        "sparse_sigmoid": { try Activation.sparseSigmoid($0[0]) },
        "tanh_shrink": { try Activation.tanhShrink($0[0]) },
        "hard_tanh": { try Activation.hardTanh($0[0]) },
        "log_sigmoid": { try Activation.logSigmoid($0[0]) },
        "glu": { try Activation.glu($0[0]) },
        "softmax": { try Activation.softmax($0[0]) },
        "softmax_axis1": { try $0[0].softmax(axis: 1) },
        "log_softmax": { try Activation.logSoftmax($0[0]) },
        "log_softmax_axis0": { try $0[0].logSoftmax(axis: 0) },
        "sparsemax": { try Activation.sparsemax($0[0]) },
        "sparsemax_axis0": { try $0[0].sparsemax(axis: 0) },
        "sum_all": { try $0[0].sum() },
        "sum_axis1_keepdims": { try $0[0].sum(axes: [1], keepDims: true) },
        "sum_axes_0_2": { try $0[0].sum(axes: [0, 2]) },
        "mean_last": { try $0[0].mean(axes: [-1]) },
        "mean_axes_1_2_keepdims": { try $0[0].mean(axes: [1, 2], keepDims: true) },
        "max_axis0": { try $0[0].max(axes: [0]) },
        "max_ties": { try $0[0].max(axes: [1]) },
        "min_axes_0_2_keepdims": { try $0[0].min(axes: [0, 2], keepDims: true) },
        "variance_axes_0_1": { try $0[0].variance(axes: [0, 1]) },
        "argmax_axis1": { try $0[0].argmax(axis: 1) },
        "matmul_2d": { try Tensor.matmul($0[0], $0[1]) },
        "matmul_batched": { try Tensor.matmul($0[0], $0[1]) },
        "matmul_broadcast_rhs": { try Tensor.matmul($0[0], $0[1]) },
        "matmul_broadcast_batch": { try Tensor.matmul($0[0], $0[1]) },
        "matmul_transpose_a": { try Tensor.matmul($0[0], $0[1], transposeA: true) },
        "matmul_transpose_b": { try Tensor.matmul($0[0], $0[1], transposeB: true) },
        "matmul_transpose_both": { try Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true) },
        "reshape": { try $0[0].reshaped(to: [4, -1]) },
        "transpose": { try $0[0].transposed([2, 0, 1]) },
        "transpose_4d": { try $0[0].transposed([0, 3, 1, 2]) },
        "broadcast_to": { try $0[0].broadcast(to: [2, 3, 4]) },
        "concat_axis1": { try Tensor.concatenate($0, axis: 1) },
        "split_axis2": {
            let parts = try $0[0].split(sizes: [1, 3, 2], axis: 2)
            return try parts[1] * 2 + parts[0]
        },
        "slice": { try $0[0].slice(begin: [1, 0, 2], size: [2, 3, 2]) },
        "strided_slice": { try $0[0].slice(begin: [0, 3, 1], size: [-1, 3, -1], steps: [2, -1, 2]) },
        "pad": { try $0[0].padded([(1, 0), (0, 2), (2, 1)], value: 0.5) },
        "tile": { try $0[0].tiled([2, 1, 3]) },
        "gather_axis1": { try $0[0].gather([3, 0, 3, 1], axis: 1) },
        "flip": { try $0[0].flipped(axes: [0, 2]) },
        "stack_axis1": { try Tensor.stack($0, axis: 1) },
        "expand_squeeze": { try ($0[0].expandingDims(at: 1) * 2).squeezed(axes: [2]) },
    ]

    /// Cases whose gradient is zero or undefined almost everywhere, or whose
    /// inputs sit on ties by design: no finite-difference check.
    static let piecewiseConstant: Set<String> = ["sign", "round_half_to_even", "argmax_axis1", "max_ties"]

    static func inputs(_ name: String) throws -> [Tensor] {
        var xs: [Tensor] = []
        while let url = Bundle.module.url(forResource: "Fixtures/ops/\(name).in\(xs.count)", withExtension: "npy") {
            xs.append(try Tensor(npyFile: url))
        }
        return xs
    }

    func testEveryGeneratedCaseHasASwiftOp() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/ops", withExtension: nil))
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".out.npy") }.map { String($0.dropLast(".out.npy".count)) })
        XCTAssertEqual(names.count, 93, "fixture count changed: update this test with the generator")
        XCTAssertEqual(names, Set(Self.ops.keys))
    }

    func testForwardAndGradientsMatchTensorFlow() throws {
        for (name, op) in Self.ops.sorted(by: { $0.key < $1.key }) {
            let xs = try Self.inputs(name)
            XCTAssertFalse(xs.isEmpty, "\(name): no inputs")
            let expected = try fixture("ops/\(name).out")
            let projection = try fixture("ops/\(name).proj")

            let tape = GradientTape()
            let watched = xs.map { tape.watch($0) }
            let y = try op(watched)
            assertClose(y, expected, atol: 1e-5, rtol: 1e-5, "\(name) forward")
            if Self.piecewiseConstant.contains(name) && name != "max_ties" { continue }
            let grads = try tape.gradient(of: y, wrt: watched, outputGradient: projection)
            for i in xs.indices {
                let expectedGrad = try fixture("ops/\(name).grad\(i)")
                guard let g = grads[i] else {
                    XCTFail("\(name): no gradient for input \(i)")
                    continue
                }
                assertClose(g, expectedGrad, atol: 1e-5, rtol: 1e-4, "\(name) gradient \(i)")
            }
        }
    }

    func testGradientsMatchFiniteDifferencesAtSeveralPoints() throws {
        for (name, op) in Self.ops.sorted(by: { $0.key < $1.key }) where !Self.piecewiseConstant.contains(name) {
            let xs = try Self.inputs(name)
            var rng = TestRandom(seed: 11)
            for point in 0..<3 {
                // Scale each element by a factor in [0.9, 1.1]: same signs, same domain.
                let moved = point == 0 ? xs : xs.map { x in
                    Tensor(shape: x.shape, scalars: x.scalars.map { $0 * rng.uniform(0.9, 1.1) })
                }
                try checkGradients("\(name) point \(point)", inputs: moved, seed: UInt64(point), epsilon: 1e-3, op)
            }
        }
    }
}
