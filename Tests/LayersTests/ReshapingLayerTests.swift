import XCTest
import Tensor
import Layers

/// Reshaping layers against Keras (tools/gen_layer_fixtures_reshaping.py),
/// plus the Swift initializers and bad input.
final class ReshapingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("reshaping")
        XCTAssertGreaterThanOrEqual(names.count, 33)
        for name in names { try runLayerCase(try LayerCase(family: "reshaping", name: name)) }
    }

    func testSwiftInitializersWriteKerasConfigs() throws {
        let pad = try ZeroPadding2D(padding: [Margin(1, 2)], name: "zp")
        XCTAssertEqual(pad.getConfig()["padding"], [[1, 2], [1, 2]])
        XCTAssertEqual(try pad(Tensor.ones([1, 2, 2, 1])).shape, [1, 5, 5, 1])
        let crop = try Cropping1D(name: "cr")
        XCTAssertEqual(crop.getConfig()["cropping"], [1, 1])
        XCTAssertNil(crop.getConfig()["data_format"], "Keras's Cropping1D has no data_format")
        XCTAssertEqual(try Cropping2D().margins, [Margin(0, 0), Margin(0, 0)])
        XCTAssertEqual(try UpSampling1D(size: 3).getConfig()["size"], 3)
        XCTAssertEqual(try UpSampling3D(size: [2]).getConfig()["size"], [2, 2, 2])
        XCTAssertEqual(try Reshape(targetShape: [-1, 2]).computeOutputShape([nil, 3, 4]), [nil, 6, 2])
        XCTAssertEqual(try Reshape(targetShape: [-1, 2]).computeOutputShape([nil, nil, 4]), [nil, nil, 2])
        XCTAssertEqual(try Flatten().computeOutputShape([nil, 3, nil]), [nil, nil])
        XCTAssertEqual(try Permute(dims: [2, 3, 1]).computeOutputShape([nil, 2, 3, 4]), [nil, 3, 4, 2])
    }

    func testBadConfigs() {
        XCTAssertThrowsError(try Reshape(targetShape: [-1, -1], name: "r")) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'target_shape' must be positive integers with at most one -1, got [-1, -1]")
        }
        XCTAssertThrowsError(try Permute(dims: [0, 1], name: "p")) { error in
            XCTAssertEqual("\(error)", "layer 'p': config key 'dims' must be a permutation of 1...2, got [0, 1]")
        }
        XCTAssertThrowsError(try RepeatVector(n: 0, name: "rv")) { error in
            XCTAssertEqual("\(error)", "layer 'rv': config key 'n' must be a positive integer, got 0")
        }
        XCTAssertThrowsError(try UpSampling2D(interpolation: "bicubic", name: "u")) { error in
            XCTAssertEqual("\(error)", "layer 'u': interpolation 'bicubic' is not supported; use 'nearest' or 'bilinear'")
        }
        XCTAssertThrowsError(try ZeroPadding2D(padding: [Margin(-1, 0)], name: "z")) { error in
            XCTAssertEqual("\(error)", "layer 'z': config key 'padding' must be an integer or 2 integers or (before, after) "
                           + "pairs, non-negative, got [[-1, 0], [-1, 0]]")
        }
        XCTAssertThrowsError(try LayerRegistry.makeLayer(
            className: "UpSampling3D", config: LayerConfig(["name": "cf", "data_format": "channels_first"]))) { error in
            XCTAssertEqual("\(error)", "layer 'cf': data_format 'channels_first' is not supported; only 'channels_last' is")
        }
    }

    func testBadInputs() throws {
        XCTAssertThrowsError(try Reshape(targetShape: [4, -1], name: "r")(Tensor.zeros([2, 3, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': cannot reshape an input of shape (2, 3, 3) (9 values per sample) to target_shape [4, -1]")
        }
        XCTAssertThrowsError(try RepeatVector(n: 2, name: "rv")(Tensor.zeros([2, 3, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'rv': expects an input of rank 2, got shape (2, 3, 3)")
        }
        XCTAssertThrowsError(try Cropping2D(cropping: [Margin(2, 1), Margin(0, 0)], name: "c")(Tensor.zeros([1, 3, 3, 1]))) { error in
            XCTAssertEqual("\(error)", "layer 'c': cropping 2+1 leaves nothing of spatial axis 1 in input shape (1, 3, 3, 1)")
        }
        XCTAssertThrowsError(try UpSampling1D(name: "u")(Tensor.zeros([2, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 'u': expects an input of rank 3, got shape (2, 3)")
        }
    }
}
