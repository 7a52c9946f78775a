import XCTest
import Tensor
import Layers
import KerasIO
import Training

/// Models real Keras writes that the model sweep (tools/sweep_keras_models.py)
/// found the loader failing on, saved by Keras 3 and tf-keras with Keras's
/// prediction (tools/gen_regression_fixtures.py): attention layers with their
/// call arguments and masks, initial states as keyword arguments and masks in
/// Keras 3 `.h5` files, and Keras 3 ops / tf functions beyond the first set.
final class RegressionModelTests: XCTestCase {
    private func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/regressions/\(stem)", withExtension: ext), "missing fixture \(file)")
    }

    private func inputs(_ name: String) throws -> [Tensor] {
        let meta = try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
        return try (0..<(meta["inputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).in\($0).npy")) }
    }

    @discardableResult
    private func check(_ name: String) throws -> Model {
        let meta = try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
        let model = try KerasModelFile.load(try url(try XCTUnwrap(meta["file"]?.stringValue)).path).model
        let expected = try (0..<(meta["outputs"]?.intValue ?? 0)).map { try Tensor(npyFile: try url("\(name).out\($0).npy")) }
        assertClose(try model.predictOnBatch(try inputs(name)), expected, name)
        return model
    }

    /// Saves `model` as `file` and checks the file predicts as the model does.
    private func assertRoundTrip(_ model: Model, _ name: String, as file: String) throws {
        let path = try temporaryFolder(self).appendingPathComponent(file).path
        try KerasModelFile.save(model, to: path)
        let again = try KerasModelFile.load(path).model
        let xs = try inputs(name)
        assertClose(try again.predictOnBatch(xs), try model.predictOnBatch(xs), "\(name) saved as \(file)")
    }

    func testAttentionLayersFromKeras3Archive() throws {
        let model = try check("attention_keras3")
        let mha = try XCTUnwrap(try model.layer(named: "mha_causal") as? MultiHeadAttention)
        XCTAssertEqual(mha.callArguments["use_causal_mask"], true, "call arguments are kept")
        try assertRoundTrip(model, "attention_keras3", as: "attention.keras")
        try assertRoundTrip(model, "attention_keras3", as: "attention.h5")
    }

    func testAttentionLayersFromKeras3LegacyH5() throws { try check("attention_keras3_h5") }

    func testAttentionLayersFromTFKeras() throws {
        let model = try check("attention_keras2")
        try assertRoundTrip(model, "attention_keras2", as: "attention.h5")
    }

    func testInitialStatesAndMasksFromKeras3Archive() throws {
        let model = try check("recurrent_keras3")
        try assertRoundTrip(model, "recurrent_keras3", as: "recurrent.keras")
        try assertRoundTrip(model, "recurrent_keras3", as: "recurrent.h5")
    }

    func testMaskComputationsInKeras3LegacyH5() throws { try check("recurrent_keras3_h5") }

    func testInitialStatesFromTFKeras() throws {
        let model = try check("recurrent_keras2")
        try assertRoundTrip(model, "recurrent_keras2", as: "recurrent.keras")
    }

    func testKeras3OpsArchive() throws {
        let model = try check("ops_keras3")
        // `ops.mean(h)` has no batch axis: predict returns its one batch as computed, as Keras does.
        let xs = try inputs("ops_keras3")
        assertClose(try model.predict(x: xs, verbose: 0), try model.predictOnBatch(xs), "ops_keras3 predict")
        try assertRoundTrip(model, "ops_keras3", as: "ops.keras")
    }

    func testKeras3OpsLegacyH5() throws { try check("ops_keras3_h5") }

    func testTFOpsFromTFKeras() throws { try check("ops_keras2") }
}
