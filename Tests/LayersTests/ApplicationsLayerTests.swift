import XCTest
import Tensor
import Layers

/// The custom layers of keras.applications against Keras
/// (tools/gen_layer_fixtures_applications.py).
final class ApplicationsLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("applications")
        XCTAssertGreaterThanOrEqual(names.count, 6)
        for name in names { try runLayerCase(try LayerCase(family: "applications", name: name)) }
    }

    func testStochasticDepthDropsWholeSamples() throws {
        RandomState.seed(3)
        let y = try StochasticDepth(dropPathRate: 0.25)(Tensor.ones([400, 2, 3]), training: true)
        var dropped = 0
        for b in 0..<400 {
            let sample = Array(y.scalars[b * 6..<(b + 1) * 6])
            XCTAssertTrue(sample.allSatisfy { $0 == sample[0] } && [0, 1 / 0.75].contains(sample[0]))
            if sample[0] == 0 { dropped += 1 }
        }
        XCTAssertEqual(Float(dropped) / 400, 0.25, accuracy: 0.06)
        XCTAssertEqual(try StochasticDepth(dropPathRate: 0.25)(Tensor.ones([2, 3])), Tensor.ones([2, 3]))
    }

    func testLayerScaleStartsAtInitValues() throws {
        let layer = try LayerScale(initValues: 0.5, projectionDim: 3, name: "ls")
        XCTAssertEqual(try layer(Tensor.ones([1, 3])).scalars, [0.5, 0.5, 0.5])
        XCTAssertEqual(layer.weights.map { $0.name }, ["ls/variable"])
        XCTAssertThrowsError(try layer(Tensor.ones([1, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'ls': expects a last axis of size 3, got shape [1, 4]")
        }
    }

    func testTfKerasRegisteredNameResolves() throws {
        let layer = try LayerRegistry.makeLayer(className: "Custom>CustomScaleLayer",
                                                config: LayerConfig(["name": "block35_1", "scale": 0.17], keras2: true))
        XCTAssertEqual(try layer([Tensor.ones([1, 2]), Tensor.ones([1, 2])])[0].scalars, [1.17, 1.17])
    }
}
