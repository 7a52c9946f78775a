import XCTest
import Tensor
import Layers

/// Dense and Activation against Keras (tools/gen_layer_fixtures_core.py).
final class CoreLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("core")
        XCTAssertGreaterThanOrEqual(names.count, 13)
        for name in names { try runLayerCase(try LayerCase(family: "core", name: name)) }
    }

    func testUnknownLayerNamesTheClassAndHowToRegister() {
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "Lambda", config: LayerConfig(["name": "my_lambda"]))) { error in
            XCTAssertEqual("\(error)", "layer 'my_lambda': unknown layer class 'Lambda'; implement it as a Swift `Layer` subclass and register it with `LayerRegistry.register(\"Lambda\", YourLayer.self)`")
        }
    }

    func testSetWeightsChecksCountAndShapes() throws {
        let d = try Dense(units: 3, name: "probe")
        _ = try d(Tensor.zeros([1, 2]))
        XCTAssertThrowsError(try d.setWeights([Tensor.zeros([2, 3])])) { error in
            XCTAssertEqual("\(error)", "layer 'probe': setWeights expects 2 arrays, got 1")
        }
        XCTAssertThrowsError(try d.setWeights([Tensor.zeros([3, 2]), Tensor.zeros([3])])) { error in
            XCTAssertEqual("\(error)", "layer 'probe': weight 'probe/kernel' has shape [2, 3], got [3, 2]")
        }
    }

    func testBadConfigNamesLayerAndKey() {
        XCTAssertThrowsError(try Dense(config: LayerConfig(["name": "d", "units": "ten"]))) { error in
            XCTAssertEqual("\(error)", "layer 'd': config key 'units' must be an integer, got \"ten\"")
        }
        XCTAssertThrowsError(try Dense(config: LayerConfig(["name": "d", "units": 2, "activation": "nope"]))) { error in
            XCTAssertTrue("\(error)".hasPrefix("layer 'd': unknown activation 'nope'"), "\(error)")
        }
    }

    func testWrongInputShapeIsAnError() throws {
        let d = try Dense(units: 3, name: "dd")
        _ = try d(Tensor.zeros([1, 2]))
        XCTAssertThrowsError(try d(Tensor.zeros([1, 5]))) { error in
            XCTAssertEqual("\(error)", "layer 'dd': expects last input dimension 2, got shape [1, 5]")
        }
    }
}
