import Foundation
import XCTest
import Tensor
import Layers
import Training
@testable import Delta

/// Refinement mechanics on a small model and tiny synthetic clips: resume,
/// the NaN stop, λ warm-up, phases, the teacher path.
final class RefineTests: XCTestCase {
    static let data = "synthetic:mode=appearance,classes=3,clips=8,frames=4,size=16,seed=3"

    private func deltaModel(seed: UInt64 = 1) throws -> (dense: Model, delta: Model) {
        let x = Input(shape: [16, 16, 3], name: "frames")
        var h = try Rescaling(scale: 1.0 / 255, name: "scale")(x)
        h = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", name: "c1")(h)
        h = try BatchNormalization(name: "bn")(h)
        h = try ReLU(name: "relu")(h)
        h = try MaxPooling2D(poolSize: [2, 2], name: "pool")(h)
        h = try Conv2D(filters: 6, kernelSize: [3, 3], activation: "relu", name: "c2")(h)
        h = try GlobalAveragePooling2D(name: "gap")(h)
        let dense = try Model(inputs: [x], outputs: [try Dense(units: 3, name: "logits")(h)], name: "dense")
        try randomizeWeights(dense, seed: seed)
        var options = DeltaizeOptions()
        options.thresholdInit = 0.05
        options.clipLength = 4
        options.sparsityWeight = 0.01
        return (dense, try deltaize(dense, options: options).model)
    }

    private func options(epochs: Int, checkpoints: String? = nil) -> RefineOptions {
        var o = RefineOptions()
        o.phases = [RefinePhase(epochs: epochs, clipLength: 4, clipsPerBatch: 2)]
        o.optimizer = try! SGD(learningRate: 0.01, momentum: 0.9)
        o.warmupSteps = 5
        o.checkpointDirectory = checkpoints
        o.verbose = 0
        return o
    }

    private func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("refine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testStopAndResumeEndsBitIdenticalToAStraightRun() throws {
        let straight = try deltaModel().delta
        let straightResult = try refine(straight, data: Self.data, options: options(epochs: 3))
        XCTAssertEqual(straightResult.history.count, 3)

        let dir = try folder()
        let first = try deltaModel().delta
        _ = try refine(first, data: Self.data, options: options(epochs: 1, checkpoints: dir))
        // A new process would load the saved model; here a fresh copy of the start resumes from the checkpoint.
        let resumed = try deltaModel().delta
        let resumedResult = try refine(resumed, data: Self.data, options: options(epochs: 3, checkpoints: dir))
        XCTAssertEqual(resumed.getWeights(), straight.getWeights(), "resumed weights differ from the straight run's")
        XCTAssertEqual(resumedResult.history.count, 3, "the resumed run carries the whole history")
        XCTAssertEqual(resumedResult.history.map { $0["loss"]! }, straightResult.history.map { $0["loss"]! })
        XCTAssertNotNil(resumedResult.checkpoint)
    }

    func testLogsNameTheDeltaLossAndDensityAndWarmUpRaisesLambda() throws {
        let model = try deltaModel().delta
        let result = try refine(model, data: Self.data, options: options(epochs: 1))
        let logs = try XCTUnwrap(result.history.first)
        for key in ["loss", "task_loss", "delta_loss", "delta_density", "accuracy"] {
            XCTAssertNotNil(logs[key], "no \(key) in \(logs.keys.sorted())")
        }
        XCTAssertEqual(logs["loss"]!, logs["task_loss"]! + logs["delta_loss"]!, accuracy: 1e-4 * Swift.abs(logs["loss"]!))
        XCTAssertTrue((0...1).contains(logs["delta_density"]!))
        // After training the layers carry their full λ again.
        XCTAssertTrue(model.layers.compactMap { $0 as? DeltaActivation }.allSatisfy { $0.sparsityWeight == 0.01 })
    }

    func testWarmUpScalesLambdaByStep() throws {
        let layer = try DeltaActivation(sparsityWeight: 0.2)
        let warmup = SparsityWarmup([layer], targets: [0.2], steps: 4, firstStep: 0, stepsPerEpoch: 4)
        for (epoch, batch, expected) in [(0, 0, 0.0), (0, 1, 0.05), (0, 3, 0.15), (1, 0, 0.2), (2, 1, 0.2)] {
            try warmup.onEpochBegin(epoch, logs: [:])
            try warmup.onTrainBatchBegin(batch, logs: [:])
            // Steps per epoch 4, warm-up over 4 steps: λ = 0.2 · min(1, step / 4).
            XCTAssertEqual(layer.sparsityWeight, expected, accuracy: 1e-12, "epoch \(epoch) batch \(batch)")
        }
    }

    /// Cosine decay over both phases (4 steps each: 8 clips in batches of 2): the learning rate of
    /// step k is 0.01 · ½(1 + cos(π k / 8)), e.g. 0.01, 0.0096194, 0.0085355, …, 0.0003806.
    func testCosineDecayOverAllPhases() throws {
        final class Rates: Callback {
            var seen: [Float] = []
            override func onTrainBatchEnd(_ batch: Int, logs: Logs) throws { seen.append(model!.optimizer!.currentLearningRate) }
        }
        let rates = Rates()
        var o = options(epochs: 1)
        o.phases = [RefinePhase(epochs: 1, clipLength: 4, clipsPerBatch: 2), RefinePhase(epochs: 1, clipLength: 4, clipsPerBatch: 2)]
        o.cosineDecay = true
        o.callbacks = [rates]
        _ = try refine(try deltaModel().delta, data: Self.data, options: o)
        XCTAssertEqual(rates.seen.count, 8)
        for (k, rate) in rates.seen.enumerated() {
            XCTAssertEqual(Double(rate), 0.01 * 0.5 * (1 + cos(Double.pi * Double(k) / 8)), accuracy: 1e-8, "step \(k)")
        }
    }

    /// The paper's second phase trains on 2-frame clips; the refined model keeps its own clip length.
    func testPhasesOfOtherClipLengthsKeepTheModelsClipLength() throws {
        let model = try deltaModel().delta
        var o = options(epochs: 1)
        o.phases = [RefinePhase(epochs: 1, clipLength: 4, clipsPerBatch: 2), RefinePhase(epochs: 1, clipLength: 2, clipsPerBatch: 4)]
        let result = try refine(model, data: Self.data, options: o)
        XCTAssertEqual(result.history.count, 2)
        let deltas = model.executionOrder.compactMap { $0.layer as? DeltaActivation }
        XCTAssertFalse(deltas.isEmpty)
        XCTAssertTrue(deltas.allSatisfy { $0.clipLength == 4 }, "\(deltas.map { $0.clipLength })")
    }

    func testNaNStopsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try folder()
        let model = try deltaModel().delta
        var o = options(epochs: 3, checkpoints: dir)
        o.optimizer = try SGD(learningRate: 1e30)
        let result = try refine(model, data: Self.data, options: o)
        XCTAssertNotNil(result.stopReason, "a diverging run must stop")
        XCTAssertLessThan(result.history.count, 3)
        XCTAssertTrue(model.getWeights().allSatisfy { $0.scalars.allSatisfy { $0.isFinite } }, "weights keep their last finite values")
    }

    func testTeacherRefinementLogsAgreement() throws {
        let (dense, delta) = try deltaModel()
        var o = options(epochs: 1)
        o.teacher = dense
        let result = try refine(delta, data: "synthetic:mode=appearance,classes=3,clips=4,frames=4,size=16", options: o)
        let logs = try XCTUnwrap(result.history.first)
        XCTAssertNotNil(logs["agreement"])
        XCTAssertNil(logs["accuracy"], "label-free runs have no accuracy")
        XCTAssertNotNil(logs["delta_loss"])
    }

    func testRefiningWithoutLabelsOrTeacherIsAnError() throws {
        let dir = try folder()
        let video = URL(fileURLWithPath: dir).appendingPathComponent("v.mp4").path
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=8:duration=1", video]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        XCTAssertThrowsError(try refine(try deltaModel().delta, data: video, options: options(epochs: 1))) {
            XCTAssertTrue("\($0)".contains("carries no labels"), "\($0)")
        }
    }
}
