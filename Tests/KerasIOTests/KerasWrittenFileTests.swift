import XCTest
import Tensor
import Layers
import KerasIO

/// Files written by real Keras (tools/gen_keras_io_fixtures.py) load and
/// predict what Keras predicted: Keras 3 `.keras` archives and `.weights.h5`,
/// tf-keras `.h5` full models and `save_weights` files.
final class KerasWrittenFileTests: XCTestCase {
    func testKeras3ArchivesPredictLikeKeras() throws {
        for name in ModelFixtures.keras3 {
            let loaded = try KerasModelFile.load(try ModelFixtures.modelURL(name).path)
            XCTAssertEqual(loaded.format, .kerasArchive, name)
            XCTAssertEqual(loaded.kerasVersion, try ModelFixtures.meta(name)["keras_version"]?.stringValue, name)
            assertClose(try loaded.model.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name), name)
        }
    }

    func testTFKerasModelsPredictLikeTFKeras() throws {
        for name in ModelFixtures.keras2 {
            let loaded = try KerasModelFile.load(try ModelFixtures.modelURL(name).path)
            XCTAssertEqual(loaded.format, .legacyModel, name)
            assertClose(try loaded.model.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name), name)
        }
    }

    /// Nested models inlined (`Model.flattened()`) predict what Keras predicted
    /// for the nested originals; a shared nested model stays shared, a frozen one frozen.
    func testFlattenedNestedModelsPredictLikeKeras() throws {
        for name in ["nested_multi_input", "shared_nested", "frozen_nested"].flatMap({ ["\($0)_keras3", "\($0)_keras2"] }) {
            let model = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            XCTAssertTrue(model.layers.contains { $0 is Model }, name)
            let flat = try model.flattened()
            XCTAssertFalse(flat.layers.contains { $0 is Model }, name)
            XCTAssertEqual(Set(flat.layers.map(\.name)).count, flat.layers.count, "\(name): layer names repeat")
            XCTAssertEqual(flat.weights.map { $0.value.scalars }.sorted { $0.lexicographicallyPrecedes($1) },
                           model.weights.map { $0.value.scalars }.sorted { $0.lexicographicallyPrecedes($1) }, "\(name): the same weights, once each")
            XCTAssertEqual(flat.trainableWeights.count, model.trainableWeights.count, name)
            assertClose(try flat.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name), name)
        }
    }

    /// Replaces every weight with zeros, so only loaded weights can restore the prediction.
    private func clear(_ model: Model) throws {
        for w in model.weights { try w.assign(Tensor.zeros(w.shape)) }
    }

    func testKeras3WeightsFilesLoadIntoTheModel() throws {
        for name in ["conv_bn_pool_keras3", "recurrent_keras3", "nested_multi_input_keras3"] {
            let model = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            try clear(model)
            let weights = try ModelFixtures.url(try XCTUnwrap(try ModelFixtures.meta(name)["weights_file"]?.stringValue))
            XCTAssertEqual(try KerasFileFormat.detect(weights.path), .weightsH5)
            try KerasModelFile.loadWeights(into: model, from: weights.path)
            assertClose(try model.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name), name)
        }
    }

    func testTFKerasSaveWeightsFilesLoadByOrderAndByName() throws {
        for name in ["conv_bn_pool_keras2", "recurrent_keras2", "nested_multi_input_keras2"] {
            let weights = try ModelFixtures.url(try XCTUnwrap(try ModelFixtures.meta(name)["weights_file"]?.stringValue))
            XCTAssertEqual(try KerasFileFormat.detect(weights.path), .legacyWeights)
            for byName in [false, true] {
                let model = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
                try clear(model)
                try KerasModelFile.loadWeights(into: model, from: weights.path, byName: byName)
                assertClose(try model.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name),
                            "\(name) by \(byName ? "name" : "order")")
            }
        }
    }

    func testFullModelFileServesAsWeightsFile() throws {
        let name = "video_keras2"
        let path = try ModelFixtures.modelURL(name).path
        let model = try KerasModelFile.load(path).model
        try clear(model)
        try KerasModelFile.loadWeights(into: model, from: path)
        assertClose(try model.predictOnBatch(try ModelFixtures.inputs(name)), try ModelFixtures.outputs(name), name)
    }

    func testByNameSkipsUnknownLayersAndSkipMismatchKeepsWeights() throws {
        let name = "dense_mlp_keras2"
        let path = try ModelFixtures.modelURL(name).path
        // A model sharing one layer name ("probs") with the file, with another shape.
        let model = try Sequential([InputLayer(batchShape: [nil, 8]), Dense(units: 5, name: "probs"), Dense(units: 2, name: "other")])
        let before = weightBits(model)
        assertKerasIOError(try KerasModelFile.loadWeights(into: model, from: path, byName: true),
                           startsWith: path + ": /model_weights/probs/", contains: "has shape [8, 5], the file has [6, 4]")
        try KerasModelFile.loadWeights(into: model, from: path, byName: true, skipMismatch: true)
        XCTAssertEqual(weightBits(model), before)
        assertKerasIOError(try KerasModelFile.loadWeights(into: model, from: path, byName: false),
                           startsWith: path + ": /model_weights: the file has weights for 3 layers, the model has 2")
    }
}
