import XCTest
import Tensor
import Layers

/// Activation layers against Keras (tools/gen_layer_fixtures_activations.py).
final class ActivationLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("activations")
        XCTAssertGreaterThanOrEqual(names.count, 20)
        for name in names { try runLayerCase(try LayerCase(family: "activations", name: name)) }
    }

    func testSwiftInitializersWriteKerasConfigs() throws {
        let relu = try ReLU(maxValue: 6, name: "r")
        XCTAssertEqual(relu.getConfig()["max_value"], 6.0)
        XCTAssertEqual(relu.getConfig()["negative_slope"], 0.0)
        XCTAssertEqual(try LeakyReLU().getConfig()["negative_slope"], 0.3)
        XCTAssertEqual(try Softmax(axis: 1).getConfig()["axis"], 1)
        let y = try ReLU(maxValue: 6)(Tensor(shape: [4], scalars: [-1, 3, 7, 6]))
        XCTAssertEqual(y.scalars, [0, 3, 6, 6])
    }

    func testInvalidConfigsNameLayerAndKey() {
        XCTAssertThrowsError(try ReLU(config: LayerConfig(["name": "r", "max_value": -1.0]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'max_value' must be non-negative or null, got -1.0")
        }
        XCTAssertThrowsError(try LeakyReLU(config: LayerConfig(["name": "l", "alpha": -0.5]))) { error in
            XCTAssertEqual("\(error)", "layer 'l': config key 'alpha' must be non-negative, got -0.5")
        }
    }

    func testPReLURejectsAnInputOfAnotherRank() throws {
        let layer = try PReLU(name: "p")
        _ = try layer(Tensor.zeros([2, 3]))
        XCTAssertThrowsError(try layer(Tensor.zeros([2, 3, 1]))) { error in
            XCTAssertEqual("\(error)", "layer 'p': expects inputs of rank 2, got shape [2, 3, 1]")
        }
    }

    func testSoftmaxAxisOutOfRange() throws {
        XCTAssertThrowsError(try Softmax(axis: 3, name: "s")(Tensor.zeros([2, 3]))) { error in
            XCTAssertEqual("\(error)", "layer 's': axis 3 is out of range for an input of rank 2")
        }
    }
}
