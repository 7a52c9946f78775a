import Foundation
import KerasIO
import Layers
import Tensor
import Training
import XCTest
@testable import Delta

/// Refine-step parity with Keras 3 and the keras_delta layer
/// (tools/gen_refine_fixtures.py): a deltaized per-frame CNN (clip length 4)
/// saved by Keras as .keras and .h5, trained for 3 steps of SGD(momentum 0.9)
/// on batches of 2 clips × 4 frames in order, once per threshold-gradient mode
/// with per-frame labels, and once label-free from the dense teacher
/// (τ²·KL at τ = 2, hybrid gradients). Swift loads each file, compiles and
/// fits as `refine` does (its task loss and teacher loss function), and must
/// match every weight and threshold after every step:
/// `|swift − keras| ≤ 1e-4 · max(|keras|, 1e-2)`, and Keras's logged
/// running loss (and accuracy) within the same bound.
final class RefineParityTests: XCTestCase {
    static let relativeTolerance: Float = 1e-4
    static let floor: Float = 1e-2

    func testLSQ() throws { try runCase("lsq") }
    func testPaper() throws { try runCase("paper") }
    func testHybrid() throws { try runCase("hybrid") }
    func testTeacherDistillation() throws { try runCase("teacher") }

    /// The largest `|a − b| / max(|b|, floor)` over all elements.
    static func worstRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), floor) }.max() ?? 0
    }

    private func runCase(_ name: String) throws {
        for file in ["model.keras", "model.h5"] { try runCase(name, file: file) }
    }

    private func runCase(_ name: String, file: String) throws {
        let label = "refine/\(name)/\(file)"
        let spec = try Self.json("\(name)/case.json")
        let layout = try XCTUnwrap(spec["layout"]?.arrayValue)
        let model = try KerasModelFile.load(try Self.url("\(name)/\(file)").path).model
        let deltas = model.layers.compactMap { $0 as? DeltaActivation }
        XCTAssertEqual(deltas.map { $0.name }, ["frames_delta", "relu1_delta", "conv2_delta"], label)
        let mode = try XCTUnwrap(spec["threshold_gradient"]?.stringValue)
        XCTAssertTrue(deltas.allSatisfy { $0.thresholdGradient.rawValue == mode && $0.clipLength == 4 }, "\(label): delta config")

        let teacher = spec["loss"]?.stringValue == "teacher_kl" ? try KerasModelFile.load(try Self.url("teacher.keras").path).model : nil
        XCTAssertFalse(teacher?.layers.contains { $0 is DeltaActivation } ?? false, "\(label): the teacher is dense")
        let classOutput = taskLoss(model)
        try model.compile(optimizer: try Optimizers.deserialize(try XCTUnwrap(spec["optimizer"])), loss: classOutput,
                          metrics: teacher == nil ? ["accuracy"] : [])
        let temperature = try XCTUnwrap(spec["temperature"]?.doubleValue)
        let loss = lossFunction(teacher: teacher, distance: .klDivergence(temperature: temperature), labelWeight: 0,
                                useLabels: teacher == nil, taskLoss: classOutput)
        XCTAssertEqual(loss == nil, teacher == nil, label)

        let x = try Tensor(npyFile: try Self.url("x.npy")), y = try Tensor(npyFile: try Self.url("y.npy"))
        let source = try ArrayBatchSource(x: x, y: teacher == nil ? y : nil,
                                          batchSize: try XCTUnwrap(spec["batch_size"]?.intValue), shuffle: false)
        let recorder = StepRecorder(model, layers: layerOrder(layout))
        try model.fit(source, epochs: 1, callbacks: [recorder], verbose: 0, loss: loss)

        let kerasLogs = try XCTUnwrap(spec["logs"]?.arrayValue)
        XCTAssertEqual(recorder.weights.count, kerasLogs.count, "\(label): steps")
        let initial = try flatWeights(try KerasModelFile.load(try Self.url("\(name)/\(file)").path).model, layerOrder(layout))
        for step in 0..<Swift.min(recorder.weights.count, kerasLogs.count) {
            let expected = try Tensor(npyFile: try Self.url("\(name)/step\(step + 1).npy")).scalars
            XCTAssertEqual(recorder.weights[step].count, expected.count, "\(label): weight layout")
            let weightError = Self.worstRelativeError(recorder.weights[step], expected)
            // The fixture is only worth checking if the step moved the weights far beyond the tolerance.
            if step == 0 { XCTAssertGreaterThan(Self.worstRelativeError(initial, expected), 100 * Self.relativeTolerance, label) }
            var logError: Float = 0
            for (key, value) in try XCTUnwrap(kerasLogs[step].objectValue) {
                guard let swift = recorder.logs[step][key] else {
                    XCTFail("\(label): step \(step + 1) logs no '\(key)'")
                    continue
                }
                logError = Swift.max(logError, Self.worstRelativeError([Float(swift)], [Float(try XCTUnwrap(value.doubleValue))]))
            }
            print(String(format: "refine parity %-24@ step %d  weights %.2e  logs %.2e", label as NSString, step + 1, weightError, logError))
            XCTAssertLessThanOrEqual(weightError, Self.relativeTolerance, "\(label): weights after step \(step + 1) differ from Keras")
            XCTAssertLessThanOrEqual(logError, Self.relativeTolerance, "\(label): logs after step \(step + 1) differ from Keras")
            if weightError > Self.relativeTolerance { reportWorst(recorder.weights[step], expected, layout, label) }
        }
    }

    /// Names the weight holding the worst element, to make a failure readable.
    private func reportWorst(_ actual: [Float], _ expected: [Float], _ layout: [JSONValue], _ label: String) {
        var offset = 0
        for w in layout {
            let n = (w["shape"]?.arrayValue ?? []).map { $0.intValue ?? 1 }.reduce(1, *)
            let e = Self.worstRelativeError(Array(actual[offset..<(offset + n)]), Array(expected[offset..<(offset + n)]))
            if e > Self.relativeTolerance {
                print("  \(label): \(w["layer"]?.stringValue ?? "?")/\(w["name"]?.stringValue ?? "?") worst \(e)")
            }
            offset += n
        }
    }

    private func layerOrder(_ layout: [JSONValue]) -> [String] {
        var names: [String] = []
        for w in layout where names.last != w["layer"]?.stringValue { names.append(w["layer"]?.stringValue ?? "?") }
        return names
    }

    fileprivate static func url(_ path: String) throws -> URL {
        guard let root = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/refine") else {
            throw TensorError.io("no Fixtures resource bundle")
        }
        let u = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: u.path) else {
            throw TensorError.io("missing fixture refine/\(path): run tools/gen_refine_fixtures.py")
        }
        return u
    }

    private static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: String(contentsOf: try url(path), encoding: .utf8))
    }
}

/// The model's weights, flat, layer by layer in `layers` order.
private func flatWeights(_ model: Model, _ layers: [String]) throws -> [Float] {
    try layers.flatMap { try model.layer(named: $0).weights.flatMap { $0.value.scalars } }
}

/// Records the weights and the logs after every training batch.
private final class StepRecorder: Callback {
    let trained: Model
    let layers: [String]
    var weights: [[Float]] = []
    var logs: [Logs] = []

    init(_ model: Model, layers: [String]) {
        (self.trained, self.layers) = (model, layers)
        super.init()
    }

    override func onTrainBatchEnd(_ batch: Int, logs: Logs) throws {
        weights.append(try flatWeights(trained, layers))
        self.logs.append(logs)
    }
}
