import Foundation
import Layers
import Tensor
@testable import Training
import TestSupport
import XCTest

/// Training parity with Keras 3 (tools/gen_training_fixtures.py, `gen_parity`):
/// Keras compiled each model, fitted it for 3 epochs with `shuffle=False` and a
/// partial last batch, and saved the final weights and history. Swift starts
/// from the same initial weights, fits the same way, and must end on the same
/// weights: per element `|swift − keras| ≤ 1e-4 · max(|keras|, 1e-2)`, and the
/// same per-epoch history within the same bound.
final class TrainingParityTests: XCTestCase {
    static let relativeTolerance: Float = 1e-4
    static let floor: Float = 1e-2

    /// `|a − b| / max(|b|, floor)` per element, counting those over the tolerance.
    static func compare(_ a: [Float], _ b: [Float]) -> ElementComparison {
        .relative(a, b, floor: floor, tolerance: relativeTolerance)
    }

    func testMLP() throws { try runModel("mlp") }
    func testConvNetWithBatchNorm() throws { try runModel("convbn") }
    func testLSTM() throws { try runModel("rnn") }
    func testResidualFunctional() throws { try runModel("residual") }

    /// Masked sequence models (tools/gen_mask_fixtures.py): the output mask
    /// weights the loss (a mean over unmasked steps) and the metrics.
    func testMaskedLSTM() throws {
        try runCase("masking/masked_lstm", "fit", try Fixture.json("masking/masked_lstm/model.json"))
    }

    func testMaskedEmbeddingGRU() throws {
        try runCase("masking/embedding_gru", "fit", try Fixture.json("masking/embedding_gru/model.json"))
    }

    /// Runs every case of one model; prints one line per case with its worst error.
    private func runModel(_ name: String) throws {
        let meta = try Fixture.json("parity/\(name)/model.json")
        // A class the registry lost is a failure, not a skip.
        let missing = missingLayerClasses(try XCTUnwrap(meta["config"]))
        XCTAssertEqual(missing, [], "\(name): no Swift layer registered for \(missing)")
        let dir = try Fixture.url("parity/\(name)")
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") && $0 != "model.json" }.map { String($0.dropLast(5)) }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 18)
        for c in cases { try runCase("parity/\(name)", c, meta) }
    }

    /// Fits the model of `folder` (`parity/<model>`, `masking/<model>`) as in case `caseName`.
    private func runCase(_ folder: String, _ caseName: String, _ meta: JSONValue) throws {
        let label = "\(folder)/\(caseName)"
        let spec = try Fixture.json("\(folder)/\(caseName).json")
        NameScope.reset()
        let model = try buildFunctional(spec["model_config"] ?? XCTUnwrap(meta["config"]))
        let initPath = spec["model_config"] != nil ? "\(folder)/\(caseName).init.npy" : "\(folder)/init.npy"
        let layout = try XCTUnwrap(meta["weights"]?.arrayValue)
        try loadWeights(model, layout, try Fixture.npy(initPath).scalars, label)

        let lossJSON = try XCTUnwrap(spec["loss"])
        let loss: LossConvertible
        if let name = lossJSON.stringValue { loss = name } else { loss = try Losses.deserialize(lossJSON) }
        let metrics = try (spec["metrics"]?.arrayValue ?? []).map { json -> MetricConvertible in
            if let name = json.stringValue { return name }
            return try Metrics.deserialize(json)
        }
        try model.compile(optimizer: try Optimizers.deserialize(try XCTUnwrap(spec["optimizer"])), loss: loss, metrics: metrics)

        let fit = try XCTUnwrap(spec["fit"])
        let x = try Fixture.npy("\(folder)/x.npy"), y = try Fixture.npy("\(folder)/y.npy")
        let classWeight = fit["class_weight"]?.objectValue.map { o in
            Dictionary(uniqueKeysWithValues: o.map { (Int($0.key)!, Float($0.value.doubleValue!)) })
        }
        let sampleWeight = caseName == "feature_sample_weight" ? try Fixture.npy("\(folder)/sample_weight.npy") : nil
        let history = try model.fit(x: x, y: y, batchSize: fit["batch_size"]?.intValue, epochs: 3, shuffle: false,
                                    validationSplit: fit["validation_split"]?.doubleValue ?? 0, classWeight: classWeight,
                                    sampleWeight: sampleWeight, verbose: 0)

        let expected = try Fixture.npy("\(folder)/\(caseName).npy").scalars
        let actual = try flatWeights(model, layout)
        let weights = Self.compare(actual, expected)
        var historyWorst: Float = 0
        let kerasHistory = try XCTUnwrap(spec["history"]?.objectValue)
        XCTAssertEqual(Set(history.history.keys), Set(kerasHistory.keys), "\(label): history keys")
        for (key, values) in kerasHistory {
            let keras = try XCTUnwrap(values.arrayValue).map { Float($0.doubleValue!) }
            let swift = (history.history[key] ?? []).map { Float($0) }
            let comparison = Self.compare(swift, keras)
            historyWorst = Swift.max(historyWorst, comparison.worst)
            XCTAssertTrue(comparison.passes, "\(label): history of \(key) differs from Keras: \(comparison)")
        }
        print(String(format: "parity %-40@ weights %.2e  history %.2e", label as NSString, weights.worst, historyWorst))
        XCTAssertTrue(weights.passes, "\(label): final weights differ from Keras: \(weights)")
    }

    /// Sets each layer's weights from the flat vector in `model.weights` order.
    private func loadWeights(_ model: Model, _ layout: [JSONValue], _ flat: [Float], _ label: String) throws {
        var offset = 0
        var byLayer: [(String, [Tensor])] = []
        for w in layout {
            let shape = w["shape"]!.arrayValue!.map { $0.intValue! }
            let n = shape.reduce(1, *)
            let t = Tensor(shape: shape, scalars: Array(flat[offset..<(offset + n)]))
            offset += n
            let layer = w["layer"]!.stringValue!
            if byLayer.last?.0 == layer { byLayer[byLayer.count - 1].1.append(t) } else { byLayer.append((layer, [t])) }
        }
        XCTAssertEqual(offset, flat.count, "\(label): weight layout")
        for (name, values) in byLayer { try model.layer(named: name).setWeights(values) }
    }

    /// The model's weights, flat, in the fixture's layout order.
    private func flatWeights(_ model: Model, _ layout: [JSONValue]) throws -> [Float] {
        var seen: [String] = []
        for w in layout where seen.last != w["layer"]!.stringValue! { seen.append(w["layer"]!.stringValue!) }
        return try seen.flatMap { try model.layer(named: $0).weights.flatMap { $0.value.scalars } }
    }
}
