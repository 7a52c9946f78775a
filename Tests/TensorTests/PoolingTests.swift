import XCTest
import Tensor

final class PoolingTests: XCTestCase {
    /// Distinct values at least 0.05 apart in random order, so no max-pooling
    /// window has a near tie that a finite-difference step could flip.
    private func spacedTensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = TestRandom(seed: seed)
        var values = (0..<shape.reduce(1, *)).map { Float($0) * 0.05 - 1 }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return Tensor(shape: shape, scalars: values)
    }

    func testMaxPoolingGradients() throws {
        let cases: [(String, [Int], [Int], [Int]?, Padding)] = [
            ("max_pool1d valid p3 s2", [2, 9, 2], [3], [2], .valid),
            ("max_pool2d same p3 s2", [1, 5, 6, 2], [3], [2], .same),
            ("max_pool2d same p2x3 s1", [1, 4, 5, 1], [2, 3], [1], .same),
            ("max_pool3d same p2", [1, 3, 4, 3, 2], [2], nil, .same),
        ]
        for (name, shape, pool, strides, padding) in cases {
            for seed: UInt64 in [1, 2, 3] {
                try checkGradients("\(name) seed \(seed)", inputs: [spacedTensor(shape, seed: seed)], seed: seed,
                                   epsilon: 5e-3) { xs in
                    try Tensor.maxPool(xs[0], poolSize: pool, strides: strides, padding: padding)
                }
            }
        }
    }

    func testAveragePoolingGradients() throws {
        let cases: [(String, [Int], [Int], [Int]?, Padding)] = [
            ("avg_pool1d same p3 s2", [2, 8, 2], [3], [2], .same),
            ("avg_pool2d same p3 s1", [1, 4, 5, 2], [3], [1], .same),
            ("avg_pool2d valid p2", [1, 4, 6, 1], [2], nil, .valid),
            ("avg_pool3d same p3 s2", [1, 3, 4, 5, 1], [3], [2], .same),
        ]
        for (name, shape, pool, strides, padding) in cases {
            for seed: UInt64 in [1, 2, 3] {
                var rng = TestRandom(seed: seed)
                try checkGradients("\(name) seed \(seed)", inputs: [rng.tensor(shape)], seed: seed) { xs in
                    try Tensor.averagePool(xs[0], poolSize: pool, strides: strides, padding: padding)
                }
            }
        }
    }

    /// Ties route the gradient to the first maximum in row-major window order,
    /// as TensorFlow's MaxPoolGrad does.
    func testMaxPoolingTiesGoToFirstMaximum() throws {
        let x = Tensor(shape: [1, 2, 3, 1], scalars: [3, 1, 3,
                                                      3, 3, 0])
        let tape = GradientTape()
        let xs = tape.watch(x)
        let y = try Tensor.maxPool(xs, poolSize: [2], strides: [1])
        XCTAssertEqual(y.scalars, [3, 3])
        let dx = try tape.gradient(of: y, wrt: [xs], outputGradient: Tensor(shape: [1, 1, 2, 1], scalars: [1, 10]))[0]
        XCTAssertEqual(dx?.scalars, [1, 0, 10,
                                     0, 0, 0])
    }

    /// `same` average pooling divides by the input pixels in each window.
    func testSameAveragePoolingExcludesPadding() throws {
        let x = Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])
        let y = try Tensor.averagePool(x, poolSize: [3], strides: [1], padding: .same)
        XCTAssertEqual(y.scalars, [1.5, 2, 2.5])
        let m = try Tensor.maxPool(Tensor(shape: [1, 2, 1], scalars: [-3, -2]), poolSize: [3], strides: [1], padding: .same)
        XCTAssertEqual(m.scalars, [-2, -2], "same max pooling never picks the padding")
    }

    func testPoolingRejectsBadInput() {
        let x = Tensor.zeros([1, 4, 4, 2])
        assertTensorError("wrong rank", "invalid shape", ["1–3 spatial axes", "[4, 2]"]) {
            try Tensor.maxPool(.zeros([4, 2]), poolSize: [2])
        }
        assertTensorError("pool size count", "invalid argument", ["poolSize", "[2, 2, 2]"]) {
            try Tensor.maxPool(x, poolSize: [2, 2, 2])
        }
        assertTensorError("zero pool size", "invalid argument", ["poolSize", "[0]"]) {
            try Tensor.averagePool(x, poolSize: [0])
        }
        assertTensorError("zero stride", "invalid argument", ["strides", "[0]"]) {
            try Tensor.averagePool(x, poolSize: [2], strides: [0])
        }
        assertTensorError("causal", "invalid argument", ["causal"]) {
            try Tensor.maxPool(.zeros([1, 4, 2]), poolSize: [2], padding: .causal)
        }
        assertTensorError("window larger than input", "invalid shape", ["does not fit"]) {
            try Tensor.maxPool(x, poolSize: [5])
        }
    }
}
