import XCTest
import Tensor

/// Shape mismatches and bad arguments are thrown errors with a message,
/// never crashes.
final class ShapeErrorTests: XCTestCase {
    func assertError(_ expected: String, _ body: () throws -> Tensor, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertEqual("\(error)", expected, line: line)
        }
    }

    func testBroadcastMismatch() {
        let (a, b) = (Tensor.zeros([2, 3]), Tensor.zeros([4, 3]))
        assertError("shape mismatch: add: shapes [2, 3] and [4, 3] cannot be broadcast together") { try a + b }
        assertError("shape mismatch: multiply: shapes [2, 3] and [4, 3] cannot be broadcast together") { try a * b }
        assertError("shape mismatch: maximum: shapes [2, 3] and [4, 3] cannot be broadcast together") { try Tensor.maximum(a, b) }
    }

    func testMatmulMismatch() {
        assertError("shape mismatch: matmul: inner dimensions differ for shapes [2, 3] and [4, 5]") {
            try Tensor.matmul(.zeros([2, 3]), .zeros([4, 5]))
        }
        assertError("shape mismatch: matmul: shapes [2] and [3] cannot be broadcast together") {
            try Tensor.matmul(.zeros([2, 1, 1]), .zeros([3, 1, 1]))
        }
    }

    func testReshapeAndAxes() {
        let x = Tensor.zeros([2, 3])
        assertError("shape mismatch: reshape: cannot reshape [2, 3] (6 elements) to [4, -1]") { try x.reshaped(to: [4, -1]) }
        assertError("invalid argument: sum: axis 2 is out of range for rank 2") { try x.sum(axes: [2]) }
        assertError("invalid argument: transpose: [0, 0] is not a permutation of the 2 axes of [2, 3]") { try x.transposed([0, 0]) }
        assertError("invalid argument: softmax: axis -3 is out of range for rank 2") { try x.softmax(axis: -3) }
    }

    func testShapeOps() {
        let x = Tensor.zeros([2, 3])
        assertError("shape mismatch: concatenate: shapes [2, 3] and [3, 3] differ off axis 1") {
            try Tensor.concatenate([x, .zeros([3, 3])], axis: 1)
        }
        assertError("invalid argument: split: sizes [1, 1] do not add up to 3 on axis 1 of [2, 3]") { try x.split(sizes: [1, 1], axis: 1)[0] }
        assertError("invalid argument: slice: begin [1, 2] size [2, 1] steps [1, 1] is outside shape [2, 3]") {
            try x.slice(begin: [1, 2], size: [2, 1])
        }
        assertError("invalid argument: gather: index 3 is out of range for axis 1 of size 3") { try x.gather([0, 3], axis: 1) }
        assertError("shape mismatch: broadcast_to: shapes [2, 3] and [3, 3] cannot be broadcast together") { try x.broadcast(to: [3, 3]) }
        assertError("shape mismatch: stack: shapes [2, 3] and [3, 2] differ") { try Tensor.stack([x, .zeros([3, 2])]) }
        assertError("invalid argument: pad: need 2 non-negative (before, after) pairs for shape [2, 3]") { try x.padded([(1, 1)]) }
        assertError("invalid argument: tile: need 2 non-negative multiples for shape [2, 3], got [2]") { try x.tiled([2]) }
        assertError("invalid shape: 5 scalars do not fill shape [2, 3]") { try Tensor(validating: [2, 3], scalars: [1, 2, 3, 4, 5]) }
    }
}
