import XCTest
import HDF5
import Tensor
import Layers
import KerasIO

/// Every format KerasIO writes reads back with the same weights, bit for
/// bit, and the same predictions.
final class RoundTripTests: XCTestCase {
    func testEveryFixtureModelSurvivesEveryFormat() throws {
        let folder = try temporaryFolder(self)
        for name in ModelFixtures.all {
            let original = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            let inputs = try ModelFixtures.inputs(name)
            let expected = try original.predictOnBatch(inputs).map(\.scalars)
            for ext in ["h5", "keras"] {
                let path = folder.appendingPathComponent("\(name).\(ext)").path
                try KerasModelFile.save(original, to: path)
                let loaded = try KerasModelFile.load(path)
                XCTAssertEqual(loaded.format, ext == "h5" ? .legacyModel : .kerasArchive)
                XCTAssertEqual(loaded.model.layers.map(\.name), original.layers.map(\.name), "\(name).\(ext)")
                XCTAssertEqual(weightBits(loaded.model), weightBits(original), "\(name).\(ext)")
                XCTAssertEqual(try loaded.model.predictOnBatch(inputs).map(\.scalars), expected, "\(name).\(ext)")
            }
            let weights = folder.appendingPathComponent("\(name).weights.h5").path
            try KerasModelFile.save(original, to: weights)
            XCTAssertEqual(try KerasFileFormat.detect(weights), .weightsH5)
            let fresh = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            for w in fresh.weights { try w.assign(Tensor.zeros(w.shape)) }
            try KerasModelFile.loadWeights(into: fresh, from: weights)
            XCTAssertEqual(weightBits(fresh), weightBits(original), "\(name).weights.h5")
        }
    }

    /// The datasets of a legacy file, in `layer_names` then `weight_names` order, as bit patterns.
    private func legacyDatasets(_ path: String) throws -> [[UInt32]] {
        let root = try HDF5File(path: path).group("model_weights")
        var out: [[UInt32]] = []
        for layer in try root.attribute("layer_names").readStrings() {
            let group = try root.group(layer)
            for weight in try group.attribute("weight_names").readStrings() {
                out.append(try group.dataset(weight).read(as: Float.self).map(\.bitPattern))
            }
        }
        return out
    }

    func testH5ToKerasToWeightsToH5IsBitExact() throws {
        let folder = try temporaryFolder(self)
        func path(_ file: String) -> String { folder.appendingPathComponent(file).path }
        for name in ["conv_bn_pool_keras2", "video_keras3", "frozen_nested_keras2", "shared_nested_keras3"] {
            let source = try KerasModelFile.load(try ModelFixtures.modelURL(name).path).model
            try KerasModelFile.save(source, to: path("a.h5"))
            try KerasModelFile.save(try KerasModelFile.load(path("a.h5")).model, to: path("b.keras"))
            try KerasModelFile.save(try KerasModelFile.load(path("b.keras")).model, to: path("c.weights.h5"))
            let last = try KerasModelFile.load(path("a.h5")).model
            for w in last.weights { try w.assign(Tensor.zeros(w.shape)) }
            try KerasModelFile.loadWeights(into: last, from: path("c.weights.h5"))
            try KerasModelFile.save(last, to: path("d.h5"))
            let first = try legacyDatasets(path("a.h5"))
            XCTAssertFalse(first.isEmpty, name)
            XCTAssertEqual(try legacyDatasets(path("d.h5")), first, name)
            XCTAssertEqual(weightBits(try KerasModelFile.load(path("d.h5")).model), weightBits(source), name)
        }
    }

    func testTrainingConfigIsKeptInTheFormOfEachFile() throws {
        let folder = try temporaryFolder(self)
        let model = try KerasModelFile.load(try ModelFixtures.modelURL("dense_mlp_keras3").path).model
        let training: JSONValue = ["loss": "mse", "metrics": ["mae"], "weighted_metrics": nil, "loss_weights": nil,
                                   "optimizer_config": ["class_name": "Custom>Adam", "config": [
                                       "name": "Adam", "learning_rate": 0.01, "jit_compile": true, "is_legacy_optimizer": false]]]
        let h5 = folder.appendingPathComponent("m.h5").path, keras = folder.appendingPathComponent("m.keras").path
        try KerasModelFile.save(model, to: h5, trainingConfig: training)
        let legacy = try XCTUnwrap(try KerasModelFile.load(h5).trainingConfig)
        XCTAssertEqual(legacy["loss"], "mean_squared_error")
        XCTAssertEqual(legacy["metrics"], ["mean_absolute_error"])
        XCTAssertEqual(legacy["optimizer_config"], ["class_name": "Adam", "config": ["name": "Adam", "learning_rate": 0.01]])
        // A loaded legacy config converts to a compile_config for .keras, and back.
        try KerasModelFile.save(model, to: keras, trainingConfig: legacy)
        let compile = try XCTUnwrap(try KerasModelFile.load(keras).trainingConfig)
        XCTAssertEqual(compile["optimizer"], ["module": "keras.optimizers", "class_name": "Adam",
                                              "config": ["name": "Adam", "learning_rate": 0.01], "registered_name": nil])
        XCTAssertEqual(compile["loss"], "mean_squared_error")
        XCTAssertEqual(compile["jit_compile"], false)
        try KerasModelFile.save(model, to: h5, trainingConfig: compile)
        XCTAssertEqual(try KerasModelFile.load(h5).trainingConfig, legacy)
    }

    /// An uncompiled model (Keras 3 writes `compile_config: {}`, a legacy file
    /// has no `training_config`) loads with no training config and converts
    /// to every format without one.
    func testUncompiledModelsConvertWithoutATrainingConfig() throws {
        let folder = try temporaryFolder(self)
        for name in ["conv_misc_keras3", "dense_mlp_keras2"] {
            let loaded = try KerasModelFile.load(try ModelFixtures.modelURL(name).path)
            XCTAssertNil(loaded.trainingConfig, name)
            for ext in ["h5", "keras", "weights.h5"] {
                let path = folder.appendingPathComponent("\(name).\(ext)").path
                try KerasModelFile.save(loaded.model, to: path, trainingConfig: loaded.trainingConfig)
                if ext != "weights.h5" { XCTAssertNil(try KerasModelFile.load(path).trainingConfig, "\(name).\(ext)") }
            }
        }
    }
}
