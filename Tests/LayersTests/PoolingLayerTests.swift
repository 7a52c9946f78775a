import XCTest
import Tensor
import Layers

/// Pooling layers against Keras (tools/gen_layer_fixtures_pooling.py), plus
/// the Swift initializers and bad input.
final class PoolingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("pooling")
        XCTAssertGreaterThanOrEqual(names.count, 28)
        for name in names { try runLayerCase(try LayerCase(family: "pooling", name: name)) }
    }

    func testSwiftInitializerDefaultsStridesToPoolSize() throws {
        let pool = try AveragePooling2D(poolSize: [3, 2], padding: "same", name: "ap")
        XCTAssertEqual(pool.strides, [3, 2])
        XCTAssertEqual(try pool(Tensor.ones([1, 7, 5, 2])).shape, [1, 3, 3, 2])
        XCTAssertEqual(pool.getConfig()["strides"], [3, 2])
        XCTAssertEqual(pool.getConfig()["pool_size"], [3, 2])
        XCTAssertEqual(try GlobalMaxPooling3D(keepdims: true).computeOutputShape([nil, 2, 3, nil, 4]), [nil, 1, 1, 1, 4])
        XCTAssertEqual(try MaxPooling1D().computeOutputShape([nil, nil, 4]), [nil, nil, 4])
    }

    func testAliasesResolve() throws {
        let layer = try LayerRegistry.makeLayer(className: "GlobalAvgPool2D", config: LayerConfig(["name": "g"]))
        XCTAssertTrue(layer is GlobalAveragePooling2D)
    }

    func testWrongRank() throws {
        XCTAssertThrowsError(try MaxPooling2D(name: "mp")(Tensor.zeros([1, 4, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'mp': expects an input of rank 4, got shape (1, 4, 4)")
        }
        XCTAssertThrowsError(try GlobalAveragePooling1D(name: "gap")(Tensor.zeros([1, 4, 4, 2]))) { error in
            XCTAssertEqual("\(error)", "layer 'gap': expects an input of rank 3, got shape (1, 4, 4, 2)")
        }
    }

    func testBadConfig() {
        XCTAssertThrowsError(try MaxPooling1D(padding: "causal", name: "c")) { error in
            XCTAssertEqual("\(error)", "layer 'c': config key 'padding' must be one of [\"valid\", \"same\"], got \"causal\"")
        }
        XCTAssertThrowsError(try LayerRegistry.makeLayer(
            className: "GlobalMaxPooling2D", config: LayerConfig(["name": "cf", "data_format": "channels_first"]))) { error in
            XCTAssertEqual("\(error)", "layer 'cf': data_format 'channels_first' is not supported; only 'channels_last' is")
        }
        XCTAssertThrowsError(try MaxPooling2D(poolSize: [0, 2], name: "z")) { error in
            XCTAssertEqual("\(error)", "layer 'z': config key 'pool_size' must be positive integers, got [0, 2]")
        }
    }

    func testPoolLargerThanInput() throws {
        XCTAssertThrowsError(try MaxPooling2D(poolSize: [3], name: "big")(Tensor.zeros([1, 2, 5, 1]))) { error in
            XCTAssertEqual("\(error)", "layer 'big': a window of size 3 does not fit spatial axis 1 of the input (1, 2, 5, 1) "
                           + "with 'valid' padding")
        }
    }
}
