import Foundation
import XCTest
import Layers
import Tensor
import Video
@testable import Streaming

/// Streaming a clip model (an explicit time axis): the frames of a video go
/// in one at a time, and each clip's output equals the clip forward of the
/// same model on `[clips, time, ...]` within 1e-4·(1 + |y|).
final class ClipStreamingTests: XCTestCase {
    /// A C3D-style model: a TimeDistributed conv/BN/ReLU stem with a residual
    /// `Add`, a `same` Conv3D with BN folded, spatial max pooling, a `valid`
    /// Conv3D, an even-sized `same` Conv3D, global average pooling over time and space, Dense.
    static func c3dStyle(time: Int = 6, size: Int = 16) throws -> Model {
        RandomState.seed(21)
        let x = Input(shape: [time, size, size, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try TimeDistributed(try Conv2D(filters: 8, kernelSize: [3], padding: "same", useBias: false))(h)
        h = try TimeDistributed(try BatchNormalization())(h)
        h = try TimeDistributed(try ReLU())(h)
        let r = try TimeDistributed(try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu"))(h)
        h = try Add()([h, r])[0]
        h = try Conv3D(filters: 8, kernelSize: [3], padding: "same", useBias: false)(h)
        h = try BatchNormalization()(h)
        h = try ReLU()(h)
        h = try MaxPooling3D(poolSize: [1, 2, 2])(h)
        h = try Conv3D(filters: 12, kernelSize: [3], padding: "valid", activation: "relu")(h)
        h = try Conv3D(filters: 8, kernelSize: [2, 1, 1], padding: "same", activation: "relu")(h)
        h = try GlobalAveragePooling3D()(h)
        h = try Dense(units: 5, activation: "softmax")(h)
        let model = try Model(inputs: [x], outputs: [h])
        try StreamingTests.randomize(model, seed: 7)
        return model
    }

    /// `frames` ([N·T, H, W, C]) as N clips, `[N, T, H, W, C]`.
    static func clips(_ frames: Tensor, time: Int) -> Tensor {
        Tensor(shape: [frames.shape[0] / time, time] + Array(frames.shape.dropFirst()), scalars: frames.scalars)
    }

    /// Pushes every frame, then finishes; returns every output the stream gave.
    static func stream(_ s: DeltaStream, _ frames: Tensor) throws -> [[Float]] {
        let per = frames.count / frames.shape[0]
        var outputs: [[Float]] = []
        for t in 0..<frames.shape[0] {
            let frame = Tensor(shape: [1] + Array(frames.shape.dropFirst()), scalars: Array(frames.scalars[(t * per)..<((t + 1) * per)]))
            if let y = try s.push([frame]) { outputs.append(y[0].scalars) }
        }
        return outputs + (try s.finish().map { $0[0].scalars })
    }

    func checkClips(_ model: Model, frames: Tensor, time: Int, options: StreamingOptions = StreamingOptions(),
                    file: StaticString = #filePath, line: UInt = #line) throws -> (StreamStatistics, StreamingPlan) {
        let reference = try model.predictOnBatch([Self.clips(frames, time: time)])[0]
        let plan = try StreamingPlan(model, options: options)
        let s = plan.makeStream()
        var stats = StreamStatistics()
        let per = frames.count / frames.shape[0]
        var outputs: [[Float]] = []
        for t in 0..<frames.shape[0] {
            let frame = Tensor(shape: Array(frames.shape.dropFirst()), scalars: Array(frames.scalars[(t * per)..<((t + 1) * per)]))
            if let y = try s.push([frame]) { outputs.append(y[0].scalars) }
            stats = s.statistics
        }
        outputs += try s.finish().map { $0[0].scalars }
        XCTAssertEqual(outputs.count, reference.shape[0], "one output per clip", file: file, line: line)
        XCTAssertLessThanOrEqual(StreamingTests.deviation(outputs, reference), 1e-4,
                                 "max deviation from the clip forward\n\(plan.description)", file: file, line: line)
        return (stats, plan)
    }

    func testC3DStyleClipsMatchClipForward() throws {
        let model = try StreamingTests.withDeltas(try Self.c3dStyle(), threshold: 0.05, inputStep: 4, clipLength: nil)
        let frames = try StreamingTests.syntheticFrames(count: 24, size: 16, seed: 41)
        let (stats, plan) = try checkClips(model, frames: frames, time: 6)
        XCTAssertEqual(plan.clipLength, 6)
        // A frame for the `same` 3×3×3 convolution, two for the `valid` one, one for the even 2×1×1 `same` one.
        XCTAssertEqual(plan.latency, 1 + 2 + 1)
        XCTAssertTrue(plan.steps.contains { $0.kind == "conv over time, ReLU, delta" && $0.name.contains("+batch_normalization") }, plan.description)
        XCTAssertFalse(plan.steps.contains { $0.kind.contains("layer call") }, plan.description)
        XCTAssertEqual(stats.frames, 24)
        XCTAssertEqual(stats.keyFrames, 1)
        XCTAssertGreaterThan(stats.deltaDensity, 0)
        XCTAssertLessThan(stats.deltaDensity, 1)
        XCTAssertLessThan(stats.macs, stats.denseMACs)
    }

    func testKeyFramesDenseCutoffsAndResetReplay() throws {
        let model = try StreamingTests.withDeltas(try Self.c3dStyle(), threshold: 0.02, inputStep: 2, clipLength: nil)
        let frames = try StreamingTests.syntheticFrames(count: 18, size: 16, seed: 42)
        for options in [StreamingOptions(), StreamingOptions(keyFrameEvery: 5), StreamingOptions(denseCutoff: 2), StreamingOptions(denseCutoff: 0)] {
            _ = try checkClips(model, frames: frames, time: 6, options: options)
        }
        // A finished stream starts over: the same video gives the same floats, here and on another thread.
        let plan = try StreamingPlan(model)
        let s = plan.makeStream()
        let first = try Self.stream(s, frames)
        XCTAssertEqual(try Self.stream(s, frames), first)
        let other = plan.makeStream()
        let onThread = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { onThread.value = (try? Self.stream(other, frames)) ?? []; done.signal() }.start()
        done.wait()
        XCTAssertEqual(onThread.value, first)
    }

    /// Layers that read the whole clip and keep no time axis run once per clip
    /// on the gathered frames: a TimeDistributed CNN with a bidirectional GRU
    /// head (beside an LSTM returning its last output, which steps frame by
    /// frame), and a C3D-style stack (pooling over time in windows of 2
    /// frames, max and average) with a Flatten + Dense head.
    func testRecurrentAndFlattenHeadsMatchClipForward() throws {
        RandomState.seed(23)
        let x = Input(shape: [6, 16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try TimeDistributed(try Conv2D(filters: 8, kernelSize: [3], strides: [2], padding: "same", activation: "relu"))(h)
        h = try TimeDistributed(try Conv2D(filters: 8, kernelSize: [3], strides: [2], padding: "same", activation: "relu"))(h)
        h = try TimeDistributed(try GlobalAveragePooling2D())(h)
        let lstm = try LSTM(units: 8, name: "lstm")(h)
        let gru = try Bidirectional(try GRU(units: 4, name: "gru"), name: "bidirectional")(h)
        let rnn = try Model(inputs: [x], outputs: [try Dense(units: 3)(try Concatenate()([lstm, gru])[0])])
        try StreamingTests.randomize(rnn, seed: 3)

        // C3D's shape: pooling over space, then over time and space in windows of 2 frames.
        RandomState.seed(24)
        let y = Input(shape: [6, 16, 16, 3])
        var c = try Rescaling(scale: 1.0 / 255)(y)
        c = try Conv3D(filters: 6, kernelSize: [3], padding: "same", activation: "relu")(c)
        c = try MaxPooling3D(poolSize: [1, 2, 2])(c)
        c = try Conv3D(filters: 6, kernelSize: [3], padding: "same", activation: "relu")(c)
        c = try MaxPooling3D(poolSize: [2, 2, 2], name: "tpool")(c)
        c = try Conv3D(filters: 4, kernelSize: [3, 3, 3], strides: [1, 2, 2], padding: "same", activation: "relu", name: "late")(c)
        c = try AveragePooling3D(poolSize: [2, 1, 1], padding: "valid", name: "tavg")(c)
        let flat = try Model(inputs: [y], outputs: [try Dense(units: 3, activation: "softmax")(try Flatten(name: "flat")(c))])
        try StreamingTests.randomize(flat, seed: 4)

        let frames = try StreamingTests.syntheticFrames(count: 18, size: 16, seed: 44)
        for (model, gathered) in [(rnn, ["bidirectional"]), (flat, ["flat", "tpool", "tavg"])] {
            let delta = try StreamingTests.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: nil)
            let (stats, plan) = try checkClips(delta, frames: frames, time: 6)
            for name in gathered {
                XCTAssertTrue(plan.steps.contains { $0.name.hasPrefix(name) && ($0.kind.hasPrefix("clip layer call") || $0.kind == "pooling over time") },
                              plan.description)
            }
            XCTAssertLessThan(stats.macs, stats.denseMACs, plan.description)
        }
        // A recurrent step on 8 features: LSTM(8) has 4 gates (8·32 + 8·32 MACs), each direction of GRU(4) 3 gates (8·12 + 4·12).
        let plan = try StreamingPlan(try StreamingTests.withDeltas(rnn, threshold: 0.05, inputStep: 4, clipLength: nil))
        let macs = Dictionary(plan.steps.map { ($0.name, $0.denseMACs) }, uniquingKeysWith: +)
        XCTAssertEqual(macs["lstm"], 8 * 32 + 8 * 32)
        XCTAssertEqual(macs["bidirectional"], 2 * (8 * 12 + 4 * 12))
        XCTAssertEqual(plan.steps.first { $0.name == "lstm" }?.kind, "recurrent step", plan.description)
    }

    /// `ZeroPadding3D` and `Cropping3D` over space only (C3D pads `(0, 1, 1)`
    /// before its last pooling) move each frame's changed elements.
    func testSpatialPaddingAndCroppingOfClips() throws {
        RandomState.seed(27)
        let x = Input(shape: [6, 16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv3D(filters: 6, kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try ZeroPadding3D(padding: [Margin(0, 0), Margin(1, 0), Margin(0, 2)])(h)
        h = try Conv3D(filters: 6, kernelSize: [3, 3, 3], strides: [1, 2, 2], activation: "relu")(h)
        h = try Cropping3D(cropping: [Margin(0, 0), Margin(1, 0), Margin(0, 2)])(h)
        h = try GlobalAveragePooling3D()(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try StreamingTests.randomize(model, seed: 8)
        let delta = try StreamingTests.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: nil)
        let (stats, plan) = try checkClips(delta, frames: try StreamingTests.syntheticFrames(count: 18, size: 16, seed: 46), time: 6)
        XCTAssertEqual(plan.steps.filter { $0.kind == "zero padding" || $0.kind == "cropping" }.count, 2, plan.description)
        XCTAssertFalse(plan.steps.contains { $0.kind.contains("layer call") }, plan.description)
        XCTAssertLessThan(stats.macs, stats.denseMACs, plan.description)
    }

    /// Recurrent layers step once per frame, their state reset at each clip:
    /// a ConvLSTM2D returning its sequence (its joint input and recurrent
    /// convolution) before one returning its last output (strided, `valid`:
    /// two convolutions), and an LSTM, two GRUs (with and without
    /// `reset_after`) and a SimpleRNN whose per-frame outputs reach a TimeDistributed head.
    func testRecurrentSequencesStepFrameByFrame() throws {
        RandomState.seed(25)
        let x = Input(shape: [6, 16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try ConvLSTM2D(filters: 8, kernelSize: [3], padding: "same", returnSequences: true, name: "seq")(h)
        h = try BatchNormalization()(h)
        h = try ConvLSTM2D(filters: 8, kernelSize: [3], strides: [2], padding: "valid", name: "last")(h)
        h = try GlobalAveragePooling2D()(h)
        let conv = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try StreamingTests.randomize(conv, seed: 5)

        RandomState.seed(26)
        let y = Input(shape: [6, 16, 16, 3])
        var f = try Rescaling(scale: 1.0 / 255)(y)
        f = try TimeDistributed(try Conv2D(filters: 8, kernelSize: [3], strides: [4], padding: "same", activation: "relu"))(f)
        f = try TimeDistributed(try Flatten())(f)
        f = try LSTM(units: 8, returnSequences: true, name: "lstm_seq")(f)
        f = try GRU(units: 6, returnSequences: true, name: "gru_seq")(f)
        f = try GRU(units: 6, resetAfter: false, returnSequences: true, name: "gru_v1_seq")(f)
        f = try SimpleRNN(units: 5, returnSequences: true, name: "rnn_seq")(f)
        let perFrame = try Model(inputs: [y], outputs: [try TimeDistributed(try Dense(units: 2))(f)])
        try StreamingTests.randomize(perFrame, seed: 6)

        let frames = try StreamingTests.syntheticFrames(count: 18, size: 16, seed: 45)
        let delta = try StreamingTests.withDeltas(conv, threshold: 0.05, inputStep: 4, clipLength: nil)
        let (_, plan) = try checkClips(delta, frames: frames, time: 6)
        for name in ["seq", "last"] {
            XCTAssertEqual(plan.steps.first { $0.name == name }?.kind, "recurrent step", plan.description)
        }
        // A step of a ConvLSTM2D (4 gates of 8 filters, 3×3) does, per output pixel (16×16 for seq,
        // "same"; 7×7 for last, "valid" with stride 2), 3·3·C·32 MACs on its input (C = 3 for seq,
        // 8 for last) and 3·3·8·32 on its state.
        let macs = Dictionary(plan.steps.map { ($0.name, $0.denseMACs) }, uniquingKeysWith: +)
        XCTAssertEqual(macs["seq"], 256 * (9 * 3 * 32 + 9 * 8 * 32))
        XCTAssertEqual(macs["last"], 49 * (9 * 8 * 32 + 9 * 8 * 32))

        // Per-frame outputs: every frame of every clip, as the clip forward's [clips, time, 2].
        let deltaPerFrame = try StreamingTests.withDeltas(perFrame, threshold: 0.05, inputStep: 4, clipLength: nil)
        let reference = try deltaPerFrame.predictOnBatch([Self.clips(frames, time: 6)])[0]
        let streamPlan = try StreamingPlan(deltaPerFrame)
        let outputs = try Self.stream(streamPlan.makeStream(), frames)
        XCTAssertEqual(outputs.count, 18)
        XCTAssertLessThanOrEqual(StreamingTests.deviation(outputs, try reference.reshaped(to: [18, 2])), 1e-4, streamPlan.description)
        XCTAssertEqual(streamPlan.steps.filter { $0.kind == "recurrent step" }.count, 4, streamPlan.description)
    }

    func testPartialLastClipGivesNoOutput() throws {
        let model = try StreamingTests.withDeltas(try Self.c3dStyle(), threshold: 0.05, inputStep: 4, clipLength: nil)
        let frames = try StreamingTests.syntheticFrames(count: 16, size: 16, seed: 43)
        let outputs = try Self.stream(try StreamingPlan(model).makeStream(), frames)
        XCTAssertEqual(outputs.count, 2)   // 16 frames: two clips of 6, and 4 frames left over
        let whole = Tensor(shape: [12] + Array(frames.shape.dropFirst()), scalars: Array(frames.scalars.prefix(12 * 16 * 16 * 3)))
        let reference = try model.predictOnBatch([Self.clips(whole, time: 6)])[0]
        XCTAssertLessThanOrEqual(StreamingTests.deviation(outputs, reference), 1e-4)
        XCTAssertThrowsError(try StreamingPlan(model).makeStream().process(Tensor(shape: [16, 16, 3], scalars: [Float](repeating: 0, count: 768))))
    }

    func testWhatTheEngineDoesNotStreamOverTimeThrows() throws {
        func plan(_ build: (KerasTensor) throws -> KerasTensor) throws -> StreamingPlan {
            let x = Input(shape: [4, 8, 8, 3])
            let h = try DeltaActivation(thresholdInit: 0.1, clipLength: nil, name: "in_delta")(x)
            return try StreamingPlan(try Model(inputs: [x], outputs: [try build(h)]))
        }
        XCTAssertThrowsError(try plan { try MaxPooling3D(poolSize: [3, 2, 2], strides: [2, 2, 2], name: "tpool")($0) }) { e in
            XCTAssertTrue("\(e)".contains("tpool") && "\(e)".contains("pools over time"), "\(e)")
        }
        XCTAssertThrowsError(try plan { try Conv3D(filters: 2, kernelSize: [3], strides: [2, 1, 1], name: "strided")($0) }) { e in
            XCTAssertTrue("\(e)".contains("strided"), "\(e)")
        }
        XCTAssertThrowsError(try plan { h in
            let c = try Conv3D(filters: 3, kernelSize: [3], padding: "same")(h)
            return try Add(name: "skip")([h, c])[0]
        }) { e in
            XCTAssertTrue("\(e)".contains("skip") && "\(e)".contains("different delays"), "\(e)")
        }
        XCTAssertThrowsError(try plan { try ZeroPadding3D(padding: [Margin(1, 1), Margin(0, 0), Margin(0, 0)], name: "tpad")($0) }) { e in
            XCTAssertTrue("\(e)".contains("tpad") && "\(e)".contains("time axis"), "\(e)")
        }
        XCTAssertThrowsError(try plan { try Reshape(targetShape: [2, 2, 8, 8, 3], name: "fold")($0) }) { e in
            XCTAssertTrue("\(e)".contains("fold") && "\(e)".contains("time axis"), "\(e)")
        }
        // A recurrent layer that reads backwards: its sequence is refused, its last output comes once per clip.
        XCTAssertThrowsError(try plan { try LSTM(units: 2, returnSequences: true, goBackwards: true, name: "back")(try TimeDistributed(try Flatten())($0)) }) { e in
            XCTAssertTrue("\(e)".contains("back") && "\(e)".contains("go_backwards"), "\(e)")
        }
        let back = try plan { try LSTM(units: 2, goBackwards: true, name: "back")(try TimeDistributed(try Flatten())($0)) }
        XCTAssertEqual(back.steps.first { $0.name == "back" }?.kind, "clip layer call (LSTM)", back.description)
        // A per-frame TimeDistributed head needs no pooling: every frame gets its output.
        let p = try plan { try TimeDistributed(try Dense(units: 2))(try TimeDistributed(try Flatten())($0)) }
        XCTAssertEqual(p.outputShapes, [[2]])
        XCTAssertEqual(p.latency, 0)
    }
}

private final class Box: @unchecked Sendable { var value: [[Float]] = [] }
