import XCTest
import HDF5
import Tensor
import Layers
import KerasIO

/// The configs KerasIO writes: Keras-2 style for legacy `.h5` (read by
/// tf-keras and Keras 3), Keras 3 style for `.keras`. tests/interop proves
/// that real Keras loads them; these tests pin the forms that make it so.
final class ConfigWriterTests: XCTestCase {
    private func fixtureModel(_ name: String) throws -> Model {
        try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
    }

    /// The layer entry called `name` in a functional or Sequential config.
    private func entry(_ config: JSONValue, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let layers = try XCTUnwrap(config["config"]?["layers"]?.arrayValue, file: file, line: line)
        return try XCTUnwrap(layers.first { $0["name"]?.stringValue == name || $0["config"]?["name"]?.stringValue == name },
                             "no layer \(name)", file: file, line: line)
    }

    func testLegacyConfigUsesTheFormsBothVersionsRead() throws {
        let config = try ModelConfigWriter(style: .legacy).modelConfig(try fixtureModel("nested_multi_input_keras3"))
        XCTAssertEqual(config["class_name"], "Functional")
        XCTAssertNil(config["module"])
        let input = try entry(config, "a")
        XCTAssertEqual(input["config"]?["batch_input_shape"], [nil, 6])
        XCTAssertNil(input["config"]?["batch_shape"])
        XCTAssertEqual(input["config"]?["dtype"], "float32")
        let head = try entry(config, "head1")
        XCTAssertEqual(head["inbound_nodes"], [[["concatenate", 0, 0, [:]]]])
        XCTAssertEqual(head["config"]?["dtype"], "float32")
        XCTAssertEqual(head["config"]?["kernel_initializer"], ["class_name": "GlorotUniform", "config": ["seed": nil]])
        for keras3Only in ["quantization_config", "lora_rank", "lora_alpha"] { XCTAssertNil(head["config"]?[keras3Only], keras3Only) }
        XCTAssertEqual(config["config"]?["output_layers"], [["head1", 0, 0], ["head2", 0, 0]])
    }

    func testLegacyConfigListsNestedModelCallsTwice() throws {
        let config = try ModelConfigWriter(style: .legacy).modelConfig(try fixtureModel("shared_nested_keras3"))
        // The encoder is called on x1 and x2: each call twice, referred to as 2k + 1.
        XCTAssertEqual(try entry(config, "encoder")["inbound_nodes"],
                       [[["x1", 0, 0, [:]]], [["x1", 0, 0, [:]]], [["x2", 0, 0, [:]]], [["x2", 0, 0, [:]]]])
        XCTAssertEqual(try entry(config, "subtract")["inbound_nodes"], [[["encoder", 1, 0, [:]], ["encoder", 3, 0, [:]]]])
        XCTAssertEqual(config["config"]?["output_layers"], [["head", 1, 0]])
        // Inside the nested models, plain Keras 2 forms.
        let encoderLayers = try XCTUnwrap(try entry(config, "encoder")["config"]?["layers"]?.arrayValue)
        XCTAssertEqual(encoderLayers.first?["class_name"], "InputLayer")
    }

    func testKeras3ConfigUsesArgsNodesAndCountsNestedFunctionalOutputs() throws {
        let config = try ModelConfigWriter(style: .keras3).modelConfig(try fixtureModel("shared_nested_keras3"))
        XCTAssertEqual(config["module"], "keras.src.models.functional")
        XCTAssertEqual(config["registered_name"], "Functional")
        XCTAssertEqual(config["build_config"], ["input_shape": nil])
        let subtract = try entry(config, "subtract")
        XCTAssertEqual(subtract["module"], "keras.layers")
        XCTAssertEqual(subtract["registered_name"], .null)
        let args = try XCTUnwrap(subtract["inbound_nodes"]?[0]?["args"]?.arrayValue)
        XCTAssertEqual(args.count, 1, "several inputs are one list argument")
        let history: [JSONValue]? = args[0].arrayValue?.compactMap { $0["config"]?["keras_history"] }
        XCTAssertEqual(history, [["encoder", 0, 0], ["encoder", 1, 0]])
        XCTAssertEqual(subtract["build_config"], ["input_shape": [[nil, 3], [nil, 3]]])
        // One output is a flat triple; Keras 3 counts a nested functional model's own node there.
        XCTAssertEqual(config["config"]?["output_layers"], ["head", 1, 0])
        XCTAssertEqual(config["config"]?["input_layers"], [["x1", 0, 0], ["x2", 0, 0]])
        let dense = try XCTUnwrap(try entry(config, "encoder")["config"]?["layers"]?[1])
        XCTAssertEqual(dense["config"]?["dtype"]?["class_name"], "DTypePolicy")
    }

    func testSpellingsThatDifferBetweenVersionsAreTranslated() throws {
        let mlp = try fixtureModel("dense_mlp_keras3")
        let legacy = try ModelConfigWriter(style: .legacy).modelConfig(mlp)
        let keras3 = try ModelConfigWriter(style: .keras3).modelConfig(mlp)
        XCTAssertEqual(try entry(legacy, "hidden")["config"]?["activation"], "swish")
        XCTAssertEqual(try entry(keras3, "hidden")["config"]?["activation"], "silu")
        XCTAssertEqual(try entry(legacy, "leaky_re_lu")["config"]?["alpha"], 0.2)
        XCTAssertNil(try entry(legacy, "leaky_re_lu")["config"]?["negative_slope"])
        XCTAssertEqual(try entry(keras3, "leaky_re_lu")["config"]?["negative_slope"], 0.2)

        // tf-keras writes `groups` for DepthwiseConv2D and `time_major` for RNNs; Keras 3 rejects both.
        let conv = try fixtureModel("conv_bn_pool_keras2")
        for style in [ConfigStyle.legacy, .keras3] {
            let depthwise = try entry(try ModelConfigWriter(style: style).modelConfig(conv), "depthwise_conv2d")
            XCTAssertNotNil(depthwise["config"]?["depth_multiplier"])
            XCTAssertNil(depthwise["config"]?["groups"])
        }
        let recurrent = try ModelConfigWriter(style: .keras3).modelConfig(try fixtureModel("recurrent_keras2"))
        XCTAssertNil(try entry(recurrent, "lstm")["config"]?["time_major"])
        let bidirectional = try entry(recurrent, "bidirectional")["config"]
        XCTAssertEqual(bidirectional?["layer"]?["config"]?["name"], "forward_lstm_1")
        XCTAssertEqual(bidirectional?["backward_layer"]?["config"]?["go_backwards"], true)
        // The legacy form names the original layer and lets both versions mirror it.
        let legacyBidirectional = try entry(try ModelConfigWriter(style: .legacy).modelConfig(try fixtureModel("recurrent_keras3")),
                                            "bidirectional")["config"]
        XCTAssertEqual(legacyBidirectional?["layer"]?["config"]?["name"], "lstm_1")
        XCTAssertEqual(legacyBidirectional?["layer"]?["module"], "keras.layers")
        XCTAssertNil(legacyBidirectional?["backward_layer"])
    }

    func testAKeyOnlyOneVersionHonoursStaysWhenItChangesTheResult() throws {
        func layerNorm(_ rms: Bool) throws -> JSONValue {
            let ln = try LayerNormalization(config: LayerConfig(["name": "ln", "rms_scaling": .bool(rms)]))
            let model = try Sequential([InputLayer(batchShape: [nil, 3]), ln])
            return try XCTUnwrap(try ModelConfigWriter(style: .legacy).modelConfig(model)["config"]?["layers"]?[1]?["config"])
        }
        XCTAssertNil(try layerNorm(false)["rms_scaling"], "the default means the same to tf-keras")
        XCTAssertEqual(try layerNorm(true)["rms_scaling"], true, "tf-keras must refuse rather than compute something else")
    }

    func testRegisteredCustomLayersAndSlashNames() throws {
        LayerRegistry.register(ScaleBy.registeredName, ScaleBy.self)
        let model = try Sequential([InputLayer(batchShape: [nil, 2]), ScaleBy(offset: 1, name: "scale"),
                                    Dense(units: 1, name: "block1/dense")], name: "custom")
        let legacy = try ModelConfigWriter(style: .legacy).modelConfig(model)
        XCTAssertEqual(try entry(legacy, "scale")["class_name"], "keras_delta>ScaleBy")
        XCTAssertEqual(try entry(legacy, "scale")["config"]?["offset"], 1.0)
        let keras3 = try ModelConfigWriter(style: .keras3).modelConfig(model)
        let scale = try entry(keras3, "scale")
        XCTAssertEqual(scale["module"], .null)
        XCTAssertEqual(scale["class_name"], "ScaleBy")
        XCTAssertEqual(scale["registered_name"], "keras_delta>ScaleBy")
        // Keras 3 rejects `/` in layer names.
        XCTAssertNoThrow(try entry(keras3, "block1_dense"))

        let folder = try temporaryFolder(self)
        for ext in ["h5", "keras"] {
            let path = folder.appendingPathComponent("custom.\(ext)").path
            try KerasModelFile.save(model, to: path)
            let loaded = try KerasModelFile.load(path).model
            XCTAssertTrue(loaded.layers[0] is ScaleBy)
            XCTAssertEqual(loaded.layers.map(\.name), ["scale", "block1_dense"])
            XCTAssertEqual(weightBits(loaded), weightBits(model))
        }
    }

    private func configFixture(_ name: String) throws -> String {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/configs/\(name)", withExtension: "h5")).path
    }

    func testTFKerasHardSigmoidIsRecordedAndRefusedByKeras3Files() throws {
        let folder = try temporaryFolder(self)
        let keras2 = try KerasModelFile.load(try configFixture("nested_keras2"))
        let x = try Tensor(npyFile: try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/configs/nested_keras2.in0", withExtension: "npy")))
        let h5 = folder.appendingPathComponent("k2.h5").path
        try KerasModelFile.save(keras2.model, to: h5)
        XCTAssertEqual(try HDF5File(path: h5).attribute("keras_version").readString(), "2.21.0")
        XCTAssertEqual(try KerasModelFile.load(h5).model.predictOnBatch([x]).map(\.scalars),
                       try keras2.model.predictOnBatch([x]).map(\.scalars))
        let keras = folder.appendingPathComponent("k2.keras").path
        assertKerasIOError(try KerasModelFile.save(keras2.model, to: keras),
                           startsWith: keras + ": layer 'out': uses tf-keras's hard_sigmoid")
        XCTAssertFalse(FileManager.default.fileExists(atPath: keras))

        let keras3 = try KerasModelFile.load(try configFixture("nested_keras3")).model
        let h5b = folder.appendingPathComponent("k3.h5").path
        try KerasModelFile.save(keras3, to: h5b)
        XCTAssertEqual(try HDF5File(path: h5b).attribute("keras_version").readString(), "3.15.1")
    }

    func testLegacyNameListsAreFixedLengthAndChunkedLikeKeras() throws {
        // 40 names of 2000 bytes: 80 000 bytes, more than the 64 512 an attribute may hold.
        let layers = try (0..<40).map { i in try ReLU(name: String(repeating: "r", count: 1996) + String(format: "%04d", i)) }
        let model = try Sequential([InputLayer(batchShape: [nil, 2])] + layers + [Dense(units: 1, name: "d")])
        let path = try temporaryFolder(self).appendingPathComponent("many.h5").path
        try KerasModelFile.save(model, to: path)
        let weights = try HDF5File(path: path).group("model_weights")
        XCTAssertFalse(weights.hasAttribute("layer_names"))
        XCTAssertEqual(try weights.attribute("layer_names0").readStrings().count, 21)
        XCTAssertEqual(try weights.attribute("layer_names1").readStrings().count, 20)
        XCTAssertEqual(try weights.attribute("layer_names0").stringForm, .fixedLength(.nullPadded))
        let dense = try weights.group("d").attribute("weight_names")
        XCTAssertEqual(dense.stringForm, .fixedLength(.nullPadded))
        XCTAssertEqual(try dense.readStrings(), ["d/kernel", "d/bias"])
        let empty = try weights.group(layers[0].name).attribute("weight_names")
        XCTAssertEqual(empty.elementType, .float64)
        XCTAssertEqual(empty.shape, [0])
        XCTAssertEqual(weightBits(try KerasModelFile.load(path).model), weightBits(model))
    }
}
