import XCTest
import Tensor
import Layers

/// Normalization layers against Keras (tools/gen_layer_fixtures_normalization.py),
/// including the moving statistics after a training call.
final class NormalizationLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("normalization")
        XCTAssertGreaterThanOrEqual(names.count, 33)
        for name in names { try runLayerCase(try LayerCase(family: "normalization", name: name)) }
    }

    /// Training cases record Keras's weights after the call as `post<k>`.
    func testMovingStatisticsAfterATrainingCall() throws {
        let names = try LayerCase.names("normalization").filter { try LayerCase(family: "normalization", name: $0).has("post0") }
        XCTAssertGreaterThanOrEqual(names.count, 8)
        for name in names {
            let c = try LayerCase(family: "normalization", name: name)
            let config = LayerConfig(try XCTUnwrap(c.meta["config"]?.objectValue), keras2: c.meta["keras2"]?.boolValue ?? false)
            let layer = try LayerRegistry.makeLayer(className: "BatchNormalization", config: config)
            let x = try c.array("in0")
            try layer.buildIfNeeded([x.shape.map { Optional($0) }])
            try layer.setWeights(try (0..<layer.weights.count).map { try c.array("w\($0)") })
            _ = try layer(x, training: true)
            for (k, w) in layer.getWeights().enumerated() {
                assertClose(w, try c.array("post\(k)"), atol: 1e-5, rtol: 1e-5, "\(name): weight \(k) after training")
            }
        }
    }

    func testInferenceUsesTheMovingStatistics() throws {
        let bn = try BatchNormalization(momentum: 0, epsilon: 0)
        let x = Tensor(shape: [4, 1], scalars: [1, 2, 3, 6])
        _ = try bn(x, training: true)
        XCTAssertEqual(bn.movingMean.value.scalars, [3])
        XCTAssertEqual(bn.movingVariance.value.scalars, [3.5])
        let y = try bn(Tensor(shape: [1, 1], scalars: [3 + Float(3.5).squareRoot()]), training: false)
        XCTAssertEqual(y.scalar, 1, accuracy: 1e-6)
    }

    func testSwiftInitializersWriteKerasConfigs() throws {
        let bn = try BatchNormalization(axis: 1, momentum: 0.9)
        _ = try bn(Tensor.zeros([2, 3, 4]))
        XCTAssertEqual(bn.weights.map { $0.shape }, [[3], [3], [3], [3]])
        XCTAssertEqual(bn.getConfig()["axis"], 1)
        XCTAssertEqual(bn.getConfig()["renorm"], false)
        let gn = try GroupNormalization(groups: -1)
        _ = try gn(Tensor.zeros([1, 2, 6]))
        XCTAssertEqual(gn.getConfig()["groups"], 6)
        XCTAssertEqual(try LayerNormalization(axis: [-1]).getConfig()["axis"], [-1])
    }

    func testUnsupportedOptionsAndBadInputsAreErrors() throws {
        XCTAssertThrowsError(try BatchNormalization(config: LayerConfig(["name": "bn", "renorm": true]))) { error in
            XCTAssertEqual("\(error)", "layer 'bn': config key 'renorm' must be false (batch renormalization is not supported), got true")
        }
        let bn = try BatchNormalization(name: "bn2")
        _ = try bn(Tensor.zeros([2, 3]))
        XCTAssertThrowsError(try bn(Tensor.zeros([2, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'bn2': expects inputs of rank 2 with 3 channels on axis -1, got shape [2, 4]")
        }
        XCTAssertThrowsError(try GroupNormalization(groups: 4, name: "gn")(Tensor.zeros([2, 6]))) { error in
            XCTAssertEqual("\(error)", "layer 'gn': 4 groups do not evenly divide the 6 channels on axis -1")
        }
        XCTAssertThrowsError(try LayerNormalization(axis: [2], name: "ln")(Tensor.zeros([2, 6]))) { error in
            XCTAssertEqual("\(error)", "layer 'ln': axis 2 is out of range for an input of rank 2")
        }
    }
}
