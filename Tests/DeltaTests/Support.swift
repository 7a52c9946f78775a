import XCTest
import Tensor
import Layers

/// Gives every weight of `model` seeded non-trivial values; variances stay positive.
func randomizeWeights(_ model: Layer, seed: UInt64) throws {
    var g = SeededGenerator(seed: seed)
    for w in model.weights {
        let positive = w.name.contains("variance")
        let values = (0..<w.value.count).map { _ in Float.random(in: positive ? 0.5...1.5 : -0.5...0.5, using: &g) }
        try w.assign(Tensor(shape: w.shape, scalars: values))
    }
}

/// Seeded values in `range`.
func seededTensor(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &g) })
}

/// Fails unless |a − b| ≤ tolerance·(1 + |b|) everywhere; NaN anywhere fails.
func assertNear(_ a: Tensor, _ b: Tensor, tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard a.shape == b.shape else { return XCTFail("\(what): shape \(a.shape) != \(b.shape)", file: file, line: line) }
    var bad = 0, worst: Float = 0
    for (x, y) in zip(a.scalars, b.scalars) {
        let excess = Swift.abs(x - y) / (1 + Swift.abs(y))
        if !(excess <= tolerance) { bad += 1; worst = excess.isNaN ? .nan : Swift.max(worst, excess) }
    }
    XCTAssertEqual(bad, 0, "\(what): \(bad) of \(a.count) elements beyond \(tolerance)·(1+|y|), worst \(worst)", file: file, line: line)
}
