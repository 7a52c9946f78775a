import XCTest
import Tensor
import Layers

/// Embedding, Masking and EinsumDense against Keras (tools/gen_layer_fixtures_embedding.py).
final class EmbeddingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("embedding")
        XCTAssertGreaterThanOrEqual(names.count, 16)
        for name in names { try runLayerCase(try LayerCase(family: "embedding", name: name)) }
    }

    func testEmbeddingLooksUpRows() throws {
        let layer = try Embedding(inputDim: 3, outputDim: 2)
        _ = try layer(Tensor.zeros([1, 1]))
        try layer.setWeights([Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])])
        XCTAssertEqual(try layer(Tensor(shape: [1, 3], scalars: [2, 0, 1])).scalars, [20, 21, 0, 1, 10, 11])
        XCTAssertEqual(layer.getConfig()["embeddings_initializer"]?["class_name"], "RandomUniform")
    }

    func testEmbeddingIndexOutOfRangeIsAnError() throws {
        let layer = try Embedding(inputDim: 3, outputDim: 2, name: "emb")
        XCTAssertThrowsError(try layer(Tensor(shape: [1, 2], scalars: [1, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'emb': index 3.0 is out of range for input_dim 3")
        }
        XCTAssertThrowsError(try layer(Tensor(shape: [1], scalars: [-1]))) { error in
            XCTAssertEqual("\(error)", "layer 'emb': index -1.0 is out of range for input_dim 3")
        }
    }

    func testMaskingZeroesFullyMaskedSteps() throws {
        let y = try Masking(maskValue: 2)(Tensor(shape: [1, 3, 2], scalars: [2, 2, 2, 1, 3, 4]))
        XCTAssertEqual(y.scalars, [0, 0, 2, 1, 3, 4])
    }

    func testEinsumDenseShapes() throws {
        let layer = try EinsumDense(equation: "abc,cde->abde", outputShape: [nil, 2, 3], biasAxes: "de")
        XCTAssertEqual(try layer.computeOutputShape([nil, 5, 4]), [nil, 5, 2, 3])
        _ = try layer(Tensor.ones([1, 5, 4]))
        XCTAssertEqual(layer.weights.map { $0.shape }, [[4, 2, 3], [2, 3]])
    }

    func testEinsumDenseBadConfigs() throws {
        XCTAssertThrowsError(try EinsumDense(equation: "ab,bc", outputShape: [3], name: "e")) { error in
            XCTAssertEqual("\(error)", "layer 'e': config key 'equation' must be of the form 'ab,bc->ac', '...b,bc->...c' "
                           + "or 'ab...,bc->ac...', got \"ab,bc\"")
        }
        XCTAssertThrowsError(try EinsumDense(equation: "ab,bc->ac", outputShape: [3], biasAxes: "x", name: "f")(Tensor.ones([2, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'f': bias_axes 'x' must be axes of the output spec 'ac'")
        }
        XCTAssertThrowsError(try EinsumDense(equation: "abc,cd->abd", outputShape: [5, 3], name: "g")(Tensor.ones([2, 4, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'g': input and output shapes differ on shared axis 'b': (2, 4, 4) vs (2, 5, 3)")
        }
    }
}
