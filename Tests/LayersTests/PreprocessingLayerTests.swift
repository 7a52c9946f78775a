import XCTest
import Tensor
import Layers

/// Preprocessing layers against Keras (tools/gen_layer_fixtures_preprocessing.py).
final class PreprocessingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("preprocessing")
        XCTAssertGreaterThanOrEqual(names.count, 27)
        for name in names { try runLayerCase(try LayerCase(family: "preprocessing", name: name)) }
    }

    func testSwiftInitializers() throws {
        let y = try Rescaling(scale: 0.5, offset: 1)(Tensor(shape: [1, 2], scalars: [2, 4]))
        XCTAssertEqual(y.scalars, [2, 3])
        let n = try Normalization(mean: [1, 2], variance: [4, 1])
        XCTAssertEqual(try n(Tensor(shape: [1, 2], scalars: [3, 3])).scalars, [1, 1])
        XCTAssertTrue(n.weights.isEmpty)
        let resized = try Resizing(height: 4, width: 6, interpolation: .nearest)(Tensor.ones([2, 2, 3, 1]))
        XCTAssertEqual(resized.shape, [2, 4, 6, 1])
        XCTAssertEqual(try CenterCrop(height: 1, width: 2).computeOutputShape([nil, 5, 5, 3]), [nil, 1, 2, 3])
    }

    func testUnsupportedOptionsAndBadInputsAreErrors() throws {
        XCTAssertThrowsError(try Resizing(config: LayerConfig(["name": "r", "height": 2, "width": 2, "interpolation": "bicubic"]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'interpolation' must be one of [\"bilinear\", \"nearest\"] "
                           + "(the other TensorFlow methods are not supported), got \"bicubic\"")
        }
        XCTAssertThrowsError(try Resizing(config: LayerConfig(["name": "r", "height": 2, "width": 2, "antialias": true]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'antialias' must be false (antialiasing is not supported), got true")
        }
        XCTAssertThrowsError(try Normalization(config: LayerConfig(["name": "n", "mean": 1.0]))) { error in
            XCTAssertEqual("\(error)", "layer 'n': config key 'variance' must be given together with 'mean', got nothing")
        }
        XCTAssertThrowsError(try Resizing(height: 2, width: 2, name: "r2")(Tensor.ones([4, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'r2': expects images of rank 3 or 4, got rank 2")
        }
        XCTAssertThrowsError(try Rescaling(config: LayerConfig(["name": "s", "scale": "big"]))) { error in
            XCTAssertEqual("\(error)", "layer 's': config key 'scale' must be a number or an array of numbers, got \"big\"")
        }
    }
}
