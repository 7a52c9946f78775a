import XCTest
import Tensor
import Layers

/// TimeDistributed and Bidirectional against Keras 3 and tf-keras
/// (tools/gen_layer_fixtures_recurrent.py).
final class WrapperLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("recurrent").filter(isWrapperCase)
        XCTAssertGreaterThanOrEqual(names.count, 16)
        for name in names {
            do { try runLayerCase(try LayerCase(family: "recurrent", name: name)) } catch { XCTFail("recurrent/\(name): \(error)") }
        }
    }

    func testTimeDistributedWrapsTheGivenLayer() throws {
        let dense = try Dense(units: 3, name: "inner")
        let td = TimeDistributed(dense, name: "td")
        let y = try td(Tensor.ones([2, 4, 5]))
        XCTAssertEqual(y.shape, [2, 4, 3])
        XCTAssertTrue(dense.built)
        XCTAssertEqual(td.weights.map { $0.name }, ["td/inner/kernel", "td/inner/bias"])
        XCTAssertEqual(td.getConfig()["layer"]?["class_name"], "Dense")
        XCTAssertThrowsError(try td(Tensor.ones([2, 5]))) { error in
            XCTAssertEqual("\(error)", "layer 'td': expects one input of rank ≥ 3 (batch, time, ...), got (2, 5)")
        }
    }

    func testBidirectionalNamesAndConfig() throws {
        let bi = try Bidirectional(LSTM(units: 2, returnSequences: true, name: "enc"), mergeMode: "concat", name: "bi")
        XCTAssertEqual(bi.forwardLayer.name, "forward_enc")
        XCTAssertEqual(bi.backwardLayer.name, "backward_enc")
        XCTAssertTrue(bi.backwardLayer.goBackwards)
        let y = try bi(Tensor.ones([2, 3, 4]))
        XCTAssertEqual(y.shape, [2, 3, 4])
        XCTAssertEqual(bi.weights.map { $0.name }.prefix(1), ["bi/forward_enc/lstm_cell/kernel"])
        XCTAssertEqual(bi.weights.count, 6)
        let c = bi.getConfig()
        XCTAssertEqual(c["layer"]?["config"]?["name"], "forward_enc")
        XCTAssertEqual(c["backward_layer"]?["config"]?["go_backwards"], true)
        let again = try LayerRegistry.makeLayer(className: "Bidirectional", config: LayerConfig(c))
        XCTAssertEqual(JSONValue.object(again.getConfig()), JSONValue.object(c))
    }

    func testBidirectionalBadConfigs() throws {
        XCTAssertThrowsError(try Bidirectional(LSTM(units: 2), mergeMode: "max", name: "bad_merge")) { error in
            XCTAssertEqual("\(error)", "layer 'bad_merge': config key 'merge_mode' must be one of [\"concat\", \"sum\", \"mul\", \"ave\"] or null, got \"max\"")
        }
        XCTAssertThrowsError(try Bidirectional(LSTM(units: 2), backwardLayer: LSTM(units: 2), name: "same_direction")) { error in
            XCTAssertEqual("\(error)", "layer 'same_direction': the forward and backward layers must differ in go_backwards")
        }
        XCTAssertThrowsError(try Bidirectional(LSTM(units: 2), backwardLayer: LSTM(units: 2, returnSequences: true, goBackwards: true),
                                               name: "mismatch")) { error in
            XCTAssertEqual("\(error)", "layer 'mismatch': the forward and backward layers must agree in return_sequences, return_state and time_major")
        }
        let notRNN: JSONObject = ["name": "bi_dense", "layer": ["class_name": "Dense", "config": ["name": "d", "units": 2]]]
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "Bidirectional", config: LayerConfig(notRNN))) { error in
            XCTAssertEqual("\(error)", "layer 'bi_dense': 'layer' must be a recurrent layer, got Dense")
        }
    }

    func testBidirectionalSplitsInitialStates() throws {
        let bi = try Bidirectional(GRU(units: 2), mergeMode: nil)
        let x = Tensor.ones([1, 3, 2])
        let zeros = try bi([x, Tensor.zeros([1, 2]), Tensor.zeros([1, 2])])
        XCTAssertEqual(zeros, try bi([x]))
        let shifted = try bi([x, Tensor.zeros([1, 2]), Tensor.ones([1, 2])])
        XCTAssertEqual(shifted[0], zeros[0])
        XCTAssertNotEqual(shifted[1], zeros[1])
        XCTAssertThrowsError(try bi([x, Tensor.zeros([1, 2])]))
    }
}
