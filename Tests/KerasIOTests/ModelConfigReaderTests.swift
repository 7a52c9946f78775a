import XCTest
import Tensor
import Layers
import KerasIO

/// Model configs written by Keras 3 and tf-keras rebuild into models that
/// predict what Keras predicted (tools/gen_keras_io_fixtures.py).
final class ModelConfigReaderTests: XCTestCase {
    func url(_ file: String, _ ext: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/configs/\(file)", withExtension: ext), "missing fixture \(file).\(ext)")
    }

    func allLayers(_ model: Model) -> [Layer] {
        model.layers.flatMap { l -> [Layer] in (l as? Model).map { [l] + allLayers($0) } ?? [l] }
    }

    func check(_ name: String) throws {
        let meta = try JSONValue(parsing: String(contentsOf: try url(name, "json"), encoding: .utf8))
        let keras2 = meta["keras_version"]?.stringValue?.hasPrefix("2.") ?? true
        let model = try XCTUnwrap(try ModelConfigReader(keras2: keras2).makeLayer(try XCTUnwrap(meta["model_config"])) as? Model)
        let counts = try XCTUnwrap(meta["layer_weights"]?.objectValue)
        for layer in allLayers(model) where !(layer is Model) {
            let n = counts[layer.name]?.intValue ?? 0
            try layer.setWeights(try (0..<n).map { try Tensor(npyFile: try url("\(name).\(layer.name).w\($0)", "npy")) })
        }
        let inputs = try (0..<(meta["inputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).in\($0)", "npy")) }
        let outputs = try model.predictOnBatch(inputs)
        XCTAssertEqual(outputs.count, meta["outputs"]?.intValue)
        for (j, y) in outputs.enumerated() {
            let expected = try Tensor(npyFile: try url("\(name).out\(j)", "npy"))
            XCTAssertEqual(y.shape, expected.shape, name)
            XCTAssertEqual(y.scalars.count, expected.scalars.count, "zipped lists differ in length")
            for (a, e) in zip(y.scalars, expected.scalars) {
                XCTAssertEqual(a, e, accuracy: 1e-5 + 1e-5 * abs(e), "\(name) output \(j)")
            }
        }
    }

    func testNestedModelsKeras3() throws { try check("nested_keras3") }
    func testNestedModelsKeras2NodeIndexOne() throws { try check("nested_keras2") }
    func testMultipleInputsAndOutputsKeras3() throws { try check("multi_io_keras3") }
    func testMultipleInputsAndOutputsKeras2() throws { try check("multi_io_keras2") }
    func testSequentialWithoutInputLayerKeras3() throws { try check("sequential_without_input_keras3") }
    func testSequentialWithoutInputLayerKeras2() throws { try check("sequential_without_input_keras2") }

    func testUnknownLayerAndDanglingReferenceAreClearErrors() throws {
        let lambda: JSONValue = ["class_name": "Functional", "config": [
            "name": "m", "layers": [
                ["class_name": "InputLayer", "config": ["batch_input_shape": [nil, 2], "name": "in"], "name": "in", "inbound_nodes": []],
                ["class_name": "Lambda", "config": ["name": "lam"], "name": "lam", "inbound_nodes": [[["in", 0, 0, [:]]]]],
            ], "input_layers": [["in", 0, 0]], "output_layers": [["lam", 0, 0]]]]
        XCTAssertThrowsError(try ModelConfigReader(keras2: true).makeLayer(lambda)) { error in
            XCTAssertTrue("\(error)".hasPrefix("layer 'lam': unknown layer class 'Lambda'"), "\(error)")
        }
        let dangling: JSONValue = ["class_name": "Functional", "config": [
            "name": "m", "layers": [
                ["class_name": "InputLayer", "config": ["batch_input_shape": [nil, 2], "name": "in"], "name": "in", "inbound_nodes": []],
                ["class_name": "Dense", "config": ["name": "d", "units": 2], "name": "d", "inbound_nodes": [[["ghost", 0, 0, [:]]]]],
            ], "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]]]
        XCTAssertThrowsError(try ModelConfigReader(keras2: true).makeLayer(dangling)) { error in
            XCTAssertEqual("\(error)", "layer 'd': input refers to unknown layer 'ghost'")
        }
    }
}
