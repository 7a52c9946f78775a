import Foundation
import HDF5
import XCTest

/// Reads real legacy `.h5` models saved by Keras 3 and by tf-keras the way a
/// loader does: config from the root, then weights through `layer_names` and
/// each layer's `weight_names`.
final class KerasFileTests: XCTestCase {
    func testKeras3Model() throws {
        try checkModel("keras3_model.h5", firstKernel: "seq/d1/kernel")
    }

    func testTFKerasModel() throws {
        try checkModel("tf_keras_model.h5", firstKernel: "d1/kernel:0")
    }

    func testFileSizeIsTheBytesOnDisk() throws {
        for name in ["keras3_model.h5", "tf_keras_model.h5"] {
            let bytes = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: Fixtures.path(name))[.size] as? NSNumber)
            XCTAssertEqual(try Fixtures.open(name).size, bytes.uint64Value, name)
        }
    }

    private func checkModel(_ name: String, firstKernel: String) throws {
        let expected = try XCTUnwrap(Fixtures.expected().keras_models[name])
        let file = try Fixtures.open(name)

        let config = try file.attribute("model_config")
        XCTAssertEqual(config.stringForm, .variableLength)
        XCTAssertEqual(config.stringEncoding, .ascii)
        let json = try config.readString()
        XCTAssertEqual(json, expected.model_config)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["class_name"] as? String, "Sequential")
        XCTAssertEqual(try file.attribute("keras_version").readString(), expected.keras_version)
        XCTAssertEqual(try file.attribute("keras_version").stringEncoding, .utf8)
        XCTAssertEqual(try file.attribute("backend").readString(), expected.backend)

        let weights = try file.group("model_weights")
        let layerNames = try weights.attribute("layer_names").readStrings()
        XCTAssertEqual(layerNames, expected.layer_names)
        for layerName in layerNames {
            let layer = try weights.group(layerName)
            let expectedLayer = try XCTUnwrap(expected.layers[layerName])
            let weightNames = try layer.attribute("weight_names").readStrings()
            XCTAssertEqual(weightNames, expectedLayer.weight_names)
            for weightName in weightNames {
                let dataset = try layer.dataset(weightName)
                let expectedWeight = try XCTUnwrap(expectedLayer.weights[weightName])
                XCTAssertEqual(dataset.elementType, .float32, weightName)
                XCTAssertEqual(dataset.shape, expectedWeight.shape, weightName)
                XCTAssertEqual(try dataset.read(as: Float.self), expectedWeight.values.map { Float($0) }, weightName)
            }
        }
        XCTAssertEqual(try weights.group(layerNames[0]).attribute("weight_names").readStrings().first, firstKernel)
        // Layers without weights store np.asarray([]): a float64 (0,) array.
        XCTAssertEqual(try weights.group("top_level_model_weights").attribute("weight_names").readStrings(), [])
    }
}
