import Foundation
import XCTest
import Tensor
import Layers
import KerasIO

/// Mask propagation against Keras (tools/gen_mask_fixtures.py): models whose
/// masks come from `Masking` or `Embedding(mask_zero=True)` and feed LSTM, GRU
/// and SimpleRNN (sequences, states, backwards, `zero_output_for_mask`),
/// Bidirectional, TimeDistributed, merges, GlobalAveragePooling1D, a nested
/// model and a Sequential. Keras 3 saved each as `.keras`, tf-keras as `.h5`.
/// The loaded model must give Keras's outputs and output masks, and the input
/// and weight gradients of `Σ_j sum(out_j · P_j)`, at the layer harness's
/// tolerances (values 1e-5, gradients 1e-4, absolute plus relative).
final class MaskingTests: XCTestCase {
    static let keras3 = ["lstm_sequences", "lstm_last_state", "lstm_backwards_sequences_state", "gru_backwards_sequences",
                         "gru_backwards_last_state", "simple_rnn_zero_output", "simple_rnn_zero_output_last",
                         "embedding_lstm_state", "embedding_gru_backwards", "bidirectional_concat", "bidirectional_sum_last",
                         "bidirectional_none", "bidirectional_mul_state", "bidirectional_ave_last_state", "time_distributed",
                         "merges", "global_average_pooling", "nested", "sequential"]
    static let keras2 = ["lstm_sequences_keras2", "bidirectional_concat_keras2", "embedding_lstm_state_keras2", "merges_keras2"]

    func testKeras3Models() throws {
        for name in Self.keras3 { try check(name) }
    }

    func testTFKerasModels() throws {
        for name in Self.keras2 { try check(name) }
    }

    /// The masks are not just checked against Keras but do their job: at a
    /// masked step after the first, the LSTM (and so the Dense head) repeats
    /// the previous step's output.
    func testMaskedStepRepeatsPreviousOutput() throws {
        let name = "lstm_sequences"
        let model = try KerasModelFile.load(try url(try XCTUnwrap(try meta(name)["file"]?.stringValue)).path).model
        let (outputs, masks) = try model([try array(name, "in0")], masks: [nil])
        let (y, mask) = (outputs[0], try XCTUnwrap(masks[0]))
        let (batch, time, units) = (y.shape[0], y.shape[1], y.shape[2])
        var repeated = 0
        for b in 0..<batch {
            for t in 1..<time where mask.scalars[b * time + t] == 0 {
                let step = { (t: Int) in Array(y.scalars[(b * time + t) * units..<(b * time + t + 1) * units]) }
                XCTAssertEqual(step(t), step(t - 1), "sample \(b) step \(t)")
                repeated += 1
            }
        }
        XCTAssertGreaterThan(repeated, 3)
    }

    // MARK: Support

    private func url(_ file: String) throws -> URL {
        let stem = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        return try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/masking/\(stem)", withExtension: ext), "missing fixture \(file)")
    }

    private func meta(_ name: String) throws -> JSONValue {
        try JSONValue(parsing: String(contentsOf: try url("\(name).json"), encoding: .utf8))
    }

    private func array(_ name: String, _ part: String) throws -> Tensor {
        try Tensor(npyFile: try url("\(name).\(part).npy"))
    }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let meta = try meta(name)
        let model = try KerasModelFile.load(try url(try XCTUnwrap(meta["file"]?.stringValue)).path).model
        let inputs = try (0..<(try XCTUnwrap(meta["inputs"]?.intValue))).map { try array(name, "in\($0)") }
        let outputCount = try XCTUnwrap(meta["outputs"]?.intValue)
        let expected = try (0..<outputCount).map { try array(name, "out\($0)") }

        // Inference, through the fused path when it applies.
        let predicted = try model.predictOnBatch(inputs)
        XCTAssertEqual(predicted.count, expected.count, "zipped lists differ in length")
        for (j, (y, e)) in zip(predicted, expected).enumerated() {
            assertNear(y, e, tolerance: 1e-5, "\(name): predicted output \(j)", file: file, line: line)
        }

        // Outputs, masks and gradients.
        let tape = GradientTape()
        let differentiable = (meta["differentiable_inputs"]?.arrayValue ?? []).map { $0.boolValue ?? false }
        let watched = inputs.enumerated().map { differentiable[$0.offset] ? tape.watch($0.element) : $0.element }
        let (outputs, masks) = try tape.record { try model(watched, masks: watched.map { _ in nil }) }
        XCTAssertEqual(outputs.count, outputCount, "\(name): output count", file: file, line: line)
        let masked = (meta["masked_outputs"]?.arrayValue ?? []).map { $0.boolValue ?? false }
        var target = Tensor(0)
        for (j, y) in outputs.enumerated() where j < outputCount {
            assertNear(y, expected[j], tolerance: 1e-5, "\(name): output \(j)", file: file, line: line)
            if masked[j] {
                let mask = try XCTUnwrap(masks[j], "\(name): output \(j) has no mask", file: file, line: line)
                XCTAssertEqual(mask.shape, try array(name, "mask\(j)").shape, "\(name): mask \(j) shape", file: file, line: line)
                XCTAssertEqual(mask.scalars, try array(name, "mask\(j)").scalars, "\(name): mask \(j)", file: file, line: line)
            } else {
                XCTAssertNil(masks[j], "\(name): output \(j) should have no mask", file: file, line: line)
            }
            target = try target + (try y * array(name, "proj\(j)")).sum()
        }
        for (i, x) in watched.enumerated() where x.isTracked {
            let g = try tape.gradient(of: target, wrt: [x])[0] ?? Tensor.zeros(x.shape)
            assertNear(g, try array(name, "gin\(i)"), tolerance: 1e-4, "\(name): input gradient \(i)", file: file, line: line)
        }
        let flags = (meta["trainable"]?.arrayValue ?? []).map { $0.boolValue ?? false }
        let weights = model.weights
        XCTAssertEqual(weights.count, flags.count, "\(name): weight count", file: file, line: line)
        for (k, isTrainable) in flags.enumerated() where isTrainable && k < weights.count {
            let g = try tape.gradient(of: target, wrt: [weights[k]])[0] ?? Tensor.zeros(weights[k].shape)
            assertNear(g, try array(name, "gw\(k)"), tolerance: 1e-4, "\(name): gradient of \(weights[k].name)",
                       file: file, line: line)
        }
    }
}

/// Asserts equal shapes and elements within `tolerance·(1 + |expected|)` (NaN matches NaN).
private func assertNear(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(what): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    XCTAssertEqual(actual.scalars.count, expected.scalars.count, "zipped lists differ in length")
    for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated()
    where !(a == e || (a.isNaN && e.isNaN) || abs(a - e) <= tolerance * (1 + abs(e))) {
        XCTFail("\(what): element \(i): \(a) != expected \(e)", file: file, line: line)
        return
    }
}
