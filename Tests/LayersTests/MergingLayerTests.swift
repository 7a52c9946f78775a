import XCTest
import Tensor
import Layers

/// Merging layers against Keras (tools/gen_layer_fixtures_merging.py).
final class MergingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("merging")
        XCTAssertGreaterThanOrEqual(names.count, 22)
        for name in names { try runLayerCase(try LayerCase(family: "merging", name: name)) }
    }

    func testSymbolicOutputShapes() throws {
        XCTAssertEqual(try Add().computeOutputShapes([[nil, 1, 4], [nil, 3, 1]]), [[nil, 3, 4]])
        XCTAssertEqual(try Add().computeOutputShapes([[nil, 4], [nil, 3, 4]]), [[nil, 3, 4]])
        XCTAssertEqual(try Concatenate(axis: 1).computeOutputShapes([[nil, 2, 3], [nil, nil, 3]]), [[nil, nil, 3]])
        XCTAssertEqual(try Dot(axes: [1]).computeOutputShapes([[nil, 4], [nil, 4]]), [[nil, 1]])
        XCTAssertEqual(try Dot(axes: [2, 1]).computeOutputShapes([[nil, 3, 4], [nil, 4, 5]]), [[nil, 3, 5]])
    }

    func testFunctionalModelWithMerges() throws {
        let a = Input(shape: [3]), b = Input(shape: [3])
        let sum = try Add()([a, b])[0]
        let out = try Concatenate()([sum, try Multiply()([a, b])[0]])[0]
        let model = try Model(inputs: [a, b], outputs: [out])
        let y = try model([Tensor(shape: [1, 3], scalars: [1, 2, 3]), Tensor(shape: [1, 3], scalars: [4, 5, 6])])
        XCTAssertEqual(y[0].scalars, [5, 7, 9, 4, 10, 18])
    }

    func testBadInputsAreErrors() throws {
        XCTAssertThrowsError(try Subtract(name: "s")([Tensor.ones([2, 3]), Tensor.ones([2, 3]), Tensor.ones([2, 3])])) { error in
            XCTAssertEqual("\(error)", "layer 's': Subtract expects exactly 2 inputs, got 3")
        }
        XCTAssertThrowsError(try Add(name: "a")([Tensor.ones([2, 3]), Tensor.ones([2, 4])])) { error in
            XCTAssertEqual("\(error)", "layer 'a': inputs of shapes (2, 3), (2, 4) do not broadcast")
        }
        XCTAssertThrowsError(try Add(name: "b")([Tensor.ones([2, 3]), Tensor.ones([3, 3])])) { error in
            XCTAssertEqual("\(error)", "layer 'b': cannot merge inputs with different batch sizes: (2, 3), (3, 3)")
        }
        XCTAssertThrowsError(try Concatenate(name: "c")([Tensor.ones([2, 3]), Tensor.ones([3, 3])])) { error in
            XCTAssertEqual("\(error)", "layer 'c': inputs must match except on the concatenation axis -1, got shapes (2, 3), (3, 3)")
        }
        XCTAssertThrowsError(try Dot(axes: [0], name: "d")([Tensor.ones([2, 3]), Tensor.ones([2, 3])])) { error in
            XCTAssertEqual("\(error)", "layer 'd': cannot take the dot product over the batch axis")
        }
        XCTAssertThrowsError(try Dot(axes: [1], name: "e")([Tensor.ones([2, 3]), Tensor.ones([2, 4])])) { error in
            XCTAssertEqual("\(error)", "layer 'e': axis 1 of (2, 3) (3) differs from axis 1 of (2, 4) (4)")
        }
    }
}
