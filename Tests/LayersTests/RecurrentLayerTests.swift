import XCTest
import Tensor
import Layers

/// SimpleRNN, LSTM, GRU, ConvLSTM and RNN-with-cell against Keras 3 and
/// tf-keras (tools/gen_layer_fixtures_recurrent.py).
final class RecurrentLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("recurrent").filter { !isWrapperCase($0) }
        XCTAssertGreaterThanOrEqual(names.count, 35)
        for name in names {
            do { try runLayerCase(try LayerCase(family: "recurrent", name: name)) } catch { XCTFail("recurrent/\(name): \(error)") }
        }
    }

    func testRankTwoInputIsAnError() throws {
        let lstm = try LSTM(units: 3, name: "lstm_probe")
        XCTAssertThrowsError(try lstm(Tensor.zeros([2, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'lstm_probe': expects an input of rank 3 (batch, time, features), got shape (2, 4)")
        }
        let conv = try ConvLSTM2D(filters: 2, kernelSize: [3], name: "conv_probe")
        XCTAssertThrowsError(try conv(Tensor.zeros([2, 3, 2, 2, 1]))) { error in
            XCTAssertEqual("\(error)", "layer 'conv_probe': a kernel of extent 3 does not fit spatial axis 1 of the step shape (2, 2, 1) with 'valid' padding")
        }
        XCTAssertThrowsError(try conv(Tensor.zeros([2, 3, 5, 5]))) { error in
            XCTAssertEqual("\(error)", "layer 'conv_probe': expects an input of rank 5 (batch, time, spatial..., channels), got shape (2, 3, 5, 5)")
        }
    }

    func testWrongFeatureCountAfterBuildIsAnError() throws {
        let gru = try GRU(units: 2, name: "gru_probe")
        _ = try gru(Tensor.zeros([1, 3, 4]))
        XCTAssertThrowsError(try gru(Tensor.zeros([1, 3, 5]))) { error in
            XCTAssertEqual("\(error)", "layer 'gru_probe': expects inputs of shape (1, 3, 4), got [1, 3, 5]")
        }
    }

    func testStatefulIsRejected() {
        let config = LayerConfig(["name": "stateful_lstm", "units": 2, "stateful": true])
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "LSTM", config: config)) { error in
            XCTAssertEqual("\(error)", "layer 'stateful_lstm': stateful=True is not supported: "
                + "pass the previous final states as initial states instead")
        }
    }

    func testBadUnitsAndCellAreErrors() {
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "GRU", config: LayerConfig(["name": "g", "units": 0]))) { error in
            XCTAssertEqual("\(error)", "layer 'g': config key 'units' must be a positive integer, got 0")
        }
        let notACell: JSONObject = ["name": "r", "cell": ["class_name": "Dense", "config": ["name": "d", "units": 2]]]
        XCTAssertThrowsError(try LayerRegistry.makeLayer(className: "RNN", config: LayerConfig(notACell))) { error in
            XCTAssertEqual("\(error)", "layer 'r': cell 'd' (Dense) is not a recurrent cell")
        }
    }

    func testSwiftInitializersWriteLoadableKerasConfigs() throws {
        let lstm = try LSTM(units: 4, returnSequences: true, name: "seq_lstm")
        let c = lstm.getConfig()
        XCTAssertEqual(c["units"], 4)
        XCTAssertEqual(c["return_sequences"], true)
        XCTAssertEqual(c["recurrent_activation"], "sigmoid")
        XCTAssertEqual(c["unit_forget_bias"], true)
        XCTAssertEqual(c["recurrent_initializer"]?["class_name"], "Orthogonal")
        XCTAssertNil(c["cell"])
        let y = try lstm(Tensor.ones([2, 5, 3]))
        XCTAssertEqual(y.shape, [2, 5, 4])
        XCTAssertEqual(lstm.weights.map { $0.name }, ["seq_lstm/lstm_cell/kernel", "seq_lstm/lstm_cell/recurrent_kernel",
                                                      "seq_lstm/lstm_cell/bias"])
        // unit_forget_bias: the forget gate's bias starts at one.
        XCTAssertEqual(lstm.weights[2].value.scalars, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])

        let again = try LayerRegistry.makeLayer(className: "LSTM", config: LayerConfig(c))
        XCTAssertEqual(JSONValue.object(again.getConfig()), JSONValue.object(c))

        let rnn = try RNN(cell: GRUCell(units: 2), returnState: true, name: "generic")
        XCTAssertEqual(rnn.getConfig()["cell"]?["class_name"], "GRUCell")
        let outputs = try rnn([Tensor.ones([1, 3, 2])])
        XCTAssertEqual(outputs.map { $0.shape }, [[1, 2], [1, 2]])
    }

    func testInitialStatesAreUsed() throws {
        let lstm = try LSTM(units: 2, returnState: true)
        let x = Tensor(shape: [1, 2, 1], scalars: [0.5, -1])
        let zero = try lstm([x])
        let h0 = Tensor(shape: [1, 2], scalars: [0.3, -0.2]), c0 = Tensor(shape: [1, 2], scalars: [1, 0.5])
        let given = try lstm([x, h0, c0])
        XCTAssertNotEqual(zero[0], given[0])
        // Feeding the states of the first half of a sequence continues it.
        let first = try lstm([try x.slice(begin: [0, 0, 0], size: [1, 1, 1])])
        let rest = try lstm([try x.slice(begin: [0, 1, 0], size: [1, 1, 1]), first[1], first[2]])
        assertClose(rest[0], zero[0], atol: 1e-6, rtol: 1e-6, "continued sequence")
        XCTAssertThrowsError(try lstm([x, h0]))
    }

    func testDropoutOnlyInTraining() throws {
        RandomState.seed(7)
        let gru = try GRU(units: 3, dropout: 0.5, recurrentDropout: 0.5, returnSequences: true)
        let x = Tensor.randomUniform([4, 6, 5], minval: -1, maxval: 1, generator: &RandomState.generator)
        let inference = try gru(x)
        XCTAssertEqual(try gru(x), inference)
        let trained = try gru(x, training: true)
        XCTAssertNotEqual(trained, inference)
        XCTAssertTrue(trained.scalars.allSatisfy { $0.isFinite })
        // Gradients flow through the masked loop.
        let tape = GradientTape()
        let loss = try tape.record { try gru(x, training: true).sum() }
        let grads = try tape.gradient(of: loss, wrt: gru.weights)
        XCTAssertTrue(grads.allSatisfy { $0 != nil })
    }

    func testSymbolicCallGivesKerasShapes() throws {
        let input = Input(shape: [nil, 6, 6, 2] as Shape)
        let outs = try ConvLSTM2D(filters: 3, kernelSize: [3], padding: "valid", returnSequences: true, returnState: true)([input])
        XCTAssertEqual(outs.map { $0.shape }, [[nil, nil, 4, 4, 3], [nil, 4, 4, 3], [nil, 4, 4, 3]])
    }
}

/// Wrapper fixtures: TimeDistributed and Bidirectional.
func isWrapperCase(_ name: String) -> Bool {
    ["time_distributed", "bidirectional", "k2_time_distributed", "k2_bidirectional"].contains { name.hasPrefix($0) }
}

/// Recurrent layers inside models.
final class RecurrentModelTests: XCTestCase {
    /// The seq2seq pattern: an encoder's final states start a decoder.
    func testEncoderStatesFeedTheDecoder() throws {
        let source = Input(shape: [nil, 3] as Shape), target = Input(shape: [nil, 2] as Shape)
        let encoded = try LSTM(units: 4, returnState: true)([source])
        let decoded = try LSTM(units: 4, returnSequences: true)([target, encoded[1], encoded[2]])
        let head = try TimeDistributed(try Dense(units: 2))(decoded[0])
        let model = try Model(inputs: [source, target], outputs: [head])
        XCTAssertEqual(model.outputShapes, [[nil, nil, 2]])
        let y = try model.predictOnBatch([Tensor.ones([2, 5, 3]), Tensor.ones([2, 4, 2])])
        XCTAssertEqual(y.map { $0.shape }, [[2, 4, 2]])
    }

    func testSequentialStack() throws {
        let model = try Sequential([InputLayer(batchShape: [nil, 6, 3]), GRU(units: 4, returnSequences: true),
                                    Bidirectional(SimpleRNN(units: 2)), Dense(units: 1)])
        XCTAssertEqual(model.outputShapes, [[nil, 1]])
        XCTAssertEqual(try model.predictOnBatch([Tensor.ones([2, 6, 3])])[0].shape, [2, 1])
        XCTAssertEqual(model.weights.count, 3 + 6 + 2)
    }

    /// At inference ConvLSTM2D and LSTM with 8·k units take the fused steps
    /// (ConvLSTM2D with `same` padding its joint input and recurrent
    /// convolution); under a tape the steps are composed and the gates
    /// recorded. Both must give the same sequences.
    func testFusedInferenceStepsMatchTheRecordedPath() throws {
        var seed: UInt64 = 17
        func uniform(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Float(seed >> 40) / Float(1 << 24) * 2 - 1
            })
        }
        let cases: [(Layer, Tensor)] = [
            (try ConvLSTM2D(filters: 8, kernelSize: [3], padding: "same", returnSequences: true), uniform([2, 4, 6, 5, 3])),
            (try ConvLSTM2D(filters: 16, kernelSize: [3], padding: "valid", goBackwards: true), uniform([2, 3, 7, 6, 2])),
            // 16 input channels and 16 filters: the joint step's 32 channels take Winograd.
            (try ConvLSTM2D(filters: 16, kernelSize: [3], padding: "same", returnSequences: true), uniform([2, 3, 8, 8, 16])),
            (try LSTM(units: 8, returnSequences: true), uniform([3, 5, 4])),
        ]
        for (layer, x) in cases {
            let inference = try layer(x)
            let tape = GradientTape()
            let recorded = try tape.record { try layer(x) }
            XCTAssertEqual(inference.shape, recorded.shape, layer.name)
            let worst = zip(inference.scalars, recorded.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, layer.name)
        }
    }
}
