import Foundation
import XCTest
import Layers
import Tensor
import Video
@testable import Streaming

/// Streaming exactness: every frame's streamed output equals the clip forward
/// of the same model (frames as the batch, `predictOnBatch`) within
/// 1e-4·(1 + |y|) (DELTA_SPEC.md § Streaming delta inference).
///
/// The expected values come from the model itself: the clip forward is the
/// dense reference, so the test fails on any wrong delta update, fold or
/// change mask.
final class StreamingTests: XCTestCase {
    // MARK: Models built in Swift with non-trivial weights

    /// Random biases and batch-norm statistics on top of the seeded Glorot kernels.
    static func randomize(_ model: Model, seed: UInt64) throws {
        var g = SeededGenerator(seed: seed)
        func uniform(_ n: Int, _ lo: Float, _ hi: Float) -> [Float] {
            (0..<n).map { _ in lo + (hi - lo) * Float(Double(g.next() >> 11) / Double(1 << 53)) }
        }
        for layer in model.layers {
            if let bn = (layer as? TimeDistributed)?.layer as? BatchNormalization ?? layer as? BatchNormalization {
                let c = bn.movingMean.shape[0]
                try bn.setWeights([Tensor(shape: [c], scalars: uniform(c, 0.6, 1.4)),   // gamma
                                   Tensor(shape: [c], scalars: uniform(c, -0.2, 0.2)),  // beta
                                   Tensor(shape: [c], scalars: uniform(c, -0.2, 0.2)),  // moving mean
                                   Tensor(shape: [c], scalars: uniform(c, 0.5, 1.5))])  // moving variance
            } else {
                let ws = layer.getWeights()
                guard !ws.isEmpty else { continue }
                try layer.setWeights(ws.map { w in w.rank == 1 ? Tensor(shape: w.shape, scalars: uniform(w.count, -0.2, 0.2)) : w })
            }
        }
    }

    /// A small ResNet-style model: conv/BN/ReLU stem, a residual block with
    /// an `Add`, max pooling, a strided conv, global average pooling and a dense head.
    static func resnetStyle(size: Int = 16) throws -> Model {
        RandomState.seed(11)
        let x = Input(shape: [size, size, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv2D(filters: 8, kernelSize: [3], padding: "same", useBias: false)(h)
        h = try BatchNormalization()(h)
        h = try ReLU()(h)
        var r = try Conv2D(filters: 8, kernelSize: [3], padding: "same")(h)
        r = try BatchNormalization()(r)
        r = try ReLU()(r)
        r = try Conv2D(filters: 8, kernelSize: [3], padding: "same")(r)
        r = try BatchNormalization()(r)
        h = try ReLU()(try Add()([h, r])[0])
        h = try MaxPooling2D(poolSize: [2])(h)
        h = try Conv2D(filters: 16, kernelSize: [3], strides: [2], padding: "same", activation: "relu")(h)
        h = try GlobalAveragePooling2D()(h)
        h = try Dense(units: 5)(h)
        let model = try Model(inputs: [x], outputs: [h])
        try randomize(model, seed: 5)
        return model
    }

    /// A MobileNetV2-style model: expand 1×1 / depthwise 3×3 / ReLU6 / linear
    /// 1×1 bottleneck with a residual `Add`, a strided depthwise block, average pooling, Flatten and Dense.
    static func mobilenetStyle(size: Int = 16) throws -> Model {
        RandomState.seed(12)
        let x = Input(shape: [size, size, 3])
        var h = try Rescaling(scale: 1.0 / 127.5, offset: -1)(x)
        h = try Conv2D(filters: 8, kernelSize: [3], strides: [2], padding: "same", useBias: false)(h)
        h = try BatchNormalization()(h)
        h = try ReLU(maxValue: 6)(h)
        var r = try Conv2D(filters: 16, kernelSize: [1], useBias: false)(h)
        r = try BatchNormalization()(r)
        r = try ReLU(maxValue: 6)(r)
        r = try DepthwiseConv2D(kernelSize: [3], padding: "same", useBias: false)(r)
        r = try BatchNormalization()(r)
        r = try ReLU(maxValue: 6)(r)
        r = try Conv2D(filters: 8, kernelSize: [1], useBias: false)(r)
        r = try BatchNormalization()(r)
        h = try Add()([h, r])[0]
        h = try DepthwiseConv2D(kernelSize: [3], strides: [2], padding: "same", depthMultiplier: 2, activation: "relu6")(h)
        h = try Conv2D(filters: 12, kernelSize: [1])(h)
        h = try AveragePooling2D(poolSize: [2])(h)
        h = try Flatten()(h)
        h = try Dense(units: 4, activation: "softmax")(h)
        let model = try Model(inputs: [x], outputs: [h])
        try randomize(model, seed: 6)
        return model
    }

    // MARK: Helpers

    /// Puts delta layers after every non-linearity and on the input, with
    /// the given step (`inputStep` in pixel units for the input's delta layer).
    static func withDeltas(_ model: Model, threshold: Float, inputStep: Float, clipLength: Int?) throws -> Model {
        var layers: [String: DeltaActivation] = [:]
        let delta = try model.clone(weights: .copy) { layer, args, node in
            var args = args
            for (i, t) in node.inputs.enumerated() where t.layer is InputLayer {
                let d = try layers[t.layer.name] ?? DeltaActivation(thresholdInit: Double(inputStep), clipLength: clipLength,
                                                                    name: "\(t.layer.name)_delta")
                layers[t.layer.name] = d
                args[i] = try d(args[i])
            }
            var outs = try layer(args)
            // Over an explicit time axis, only outputs that keep it ([batch, time, ...]) get one.
            if node.layer.hasNonLinearOutput && !(node.layer is Dense) && (clipLength != nil || node.outputShapes[0].count >= 3) {
                outs[0] = try DeltaActivation(thresholdInit: Double(threshold), clipLength: clipLength, name: "\(layer.name)_delta")(outs[0])
            }
            return outs
        }
        return delta
    }

    /// `Input(16×16×3) → Rescaling(1/255) → body → GlobalAveragePooling2D → Dense(3)`,
    /// its layers made after `RandomState.seed(seed)`, its biases and statistics
    /// randomized with `weightSeed`, with delta layers (clips of 12).
    static func smallDeltaModel(seed: UInt64, weightSeed: UInt64, threshold: Float = 0.05, inputStep: Float = 4,
                                _ body: (KerasTensor) throws -> KerasTensor) throws -> Model {
        RandomState.seed(seed)
        let x = Input(shape: [16, 16, 3])
        let h = try GlobalAveragePooling2D()(try body(try Rescaling(scale: 1.0 / 255)(x)))
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try randomize(model, seed: weightSeed)
        return try withDeltas(model, threshold: threshold, inputStep: inputStep, clipLength: 12)
    }

    static func syntheticFrames(count: Int, size: Int, seed: UInt64 = 3) throws -> Tensor {
        let set = try SyntheticActionSet(.init(mode: .appearance, classCount: 4, clipCount: 4, frameCount: count, size: size, seed: seed))
        return set.clip(at: 1).clip.tensor()
    }

    /// 12 frames of 16×16×3 random pixels, `[12, 16, 16, 3]`: frame `t` draws
    /// new pixels in the rows and columns `region(t)` and keeps the others.
    static func randomPixelFrames(seed: UInt64, _ region: (Int) -> (Range<Int>, Range<Int>)) -> Tensor {
        var random = SeededRandom(seed: seed)
        var frame = (0..<(16 * 16 * 3)).map { _ in Float(Int.random(in: 0..<256, using: &random)) }
        var frames: [Float] = []
        for t in 0..<12 {
            let (rows, columns) = region(t)
            for y in rows { for x in columns { for c in 0..<3 { frame[(y * 16 + x) * 3 + c] = Float(Int.random(in: 0..<256, using: &random)) } } }
            frames += frame
        }
        return Tensor(shape: [12, 16, 16, 3], scalars: frames)
    }

    /// Sequences for the 1-D models: rows 4 and 5 of each 16×16×3 frame as 24 steps of 4 values, `[T, 24, 4]`.
    static func sequenceRows(_ frames: Tensor) -> Tensor {
        let t = frames.shape[0], per = frames.count / t, start = 4 * 48
        return Tensor(shape: [t, 24, 4], scalars: (0..<t).flatMap { Array(frames.scalars[($0 * per + start)..<($0 * per + start + 96)]) })
    }

    /// Streams `frames` ([T, ...]) one at a time; returns each frame's first output.
    static func stream(_ stream: DeltaStream, _ frames: Tensor) throws -> [[Float]] {
        let per = frames.count / frames.shape[0]
        return try (0..<frames.shape[0]).map { t in
            let frame = Tensor(shape: [1] + Array(frames.shape.dropFirst()), scalars: Array(frames.scalars[(t * per)..<((t + 1) * per)]))
            return try stream.process([frame])[0].scalars
        }
    }

    /// The largest |streamed − reference| / (1 + |reference|) over all frames.
    static func deviation(_ streamed: [[Float]], _ reference: Tensor) -> Float {
        let per = reference.count / reference.shape[0]
        var worst: Float = 0
        for (t, s) in streamed.enumerated() {
            for (j, v) in s.enumerated() {
                let r = reference.scalars[t * per + j]
                let d = abs(v - r) / (1 + abs(r))
                worst = d.isNaN ? .infinity : max(worst, d)   // NaN on either side is a failure
            }
        }
        return worst
    }

    func checkExact(_ model: Model, frames: Tensor, options: StreamingOptions = StreamingOptions(),
                    file: StaticString = #filePath, line: UInt = #line) throws -> StreamStatistics {
        let reference = try model.predictOnBatch([frames])[0]
        let plan = try StreamingPlan(model, options: options)
        let s = plan.makeStream()
        let streamed = try Self.stream(s, frames)
        let dev = Self.deviation(streamed, reference)
        XCTAssertLessThanOrEqual(dev, 1e-4, "max deviation from the clip forward\n\(plan.description)", file: file, line: line)
        return s.statistics
    }

    /// ``checkExact(_:frames:options:file:line:)`` at the default dense cutoff and with none
    /// (every later frame through the scatter kernels), each doing fewer MACs than dense.
    func checkSparseAndExact(_ model: Model, frames: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        for cutoff in [0.5, 2] {
            let stats = try checkExact(model, frames: frames, options: StreamingOptions(denseCutoff: cutoff), file: file, line: line)
            XCTAssertLessThan(stats.macs, stats.denseMACs, file: file, line: line)
        }
    }

    /// ``checkSparseAndExact(_:frames:file:line:)``, and a plan with a step
    /// for every layer (none called on the whole frame).
    func checkStepsSparseAndExact(_ model: Model, frames: Tensor, file: StaticString = #filePath, line: UInt = #line) throws {
        try checkSparseAndExact(model, frames: frames, file: file, line: line)
        let plan = try StreamingPlan(model)
        XCTAssertFalse(plan.steps.contains { $0.kind.contains("layer call") }, plan.description, file: file, line: line)
    }

    // MARK: Tests

    func testResNetStyleMatchesClipForwardOnSyntheticFrames() throws {
        let frames = try Self.syntheticFrames(count: 16, size: 16)
        let model = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.05, inputStep: 4, clipLength: 16)
        let stats = try checkExact(model, frames: frames)
        XCTAssertEqual(stats.frames, 16)
        XCTAssertEqual(stats.keyFrames, 1)
        // Only the first frame is dense: later frames must do fewer MACs.
        XCTAssertLessThan(stats.macs, stats.denseMACs)
        XCTAssertGreaterThan(stats.deltaDensity, 0)
        XCTAssertLessThan(stats.deltaDensity, 1)
    }

    func testMobileNetStyleMatchesClipForwardOnSyntheticFrames() throws {
        let frames = try Self.syntheticFrames(count: 16, size: 16, seed: 9)
        let model = try Self.withDeltas(try Self.mobilenetStyle(), threshold: 0.05, inputStep: 4, clipLength: 8)
        let stats = try checkExact(model, frames: frames)
        XCTAssertLessThan(stats.macs, stats.denseMACs)
    }

    /// Pooling over 32 channels, where a position often changes in a few
    /// channels only (recomputed channel by channel) and sometimes in many
    /// (the whole window): overlapping 3×3 max windows with strides 2, then
    /// 2×2 average windows.
    func testPoolingRecomputesChangedChannelsAndWholeWindows() throws {
        let delta = try Self.smallDeltaModel(seed: 14, weightSeed: 9, threshold: 0.3, inputStep: 12) { x in
            var h = try Conv2D(filters: 32, kernelSize: [3], padding: "same", activation: "relu")(x)
            h = try MaxPooling2D(poolSize: [3], strides: [2], padding: "same")(h)
            h = try Conv2D(filters: 32, kernelSize: [1], activation: "relu")(h)
            h = try AveragePooling2D(poolSize: [2])(h)
            return h
        }
        try checkSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 6))
    }

    /// MobileNetV2's asymmetric `ZeroPadding2D` before a strided valid
    /// convolution, a `Cropping2D`, and a 1-D model's `ZeroPadding1D` and
    /// `Cropping1D`: each moves only the changed elements.
    func testPaddingAndCroppingMoveOnlyChangedElements() throws {
        RandomState.seed(15)
        let x = Input(shape: [16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try ZeroPadding2D(padding: [Margin(0, 1), Margin(0, 1)])(h)
        h = try DepthwiseConv2D(kernelSize: [3], strides: [2], activation: "relu")(h)
        h = try ZeroPadding2D(padding: [Margin(2, 1), Margin(1, 3)])(h)
        h = try Cropping2D(cropping: [Margin(1, 2), Margin(0, 3)])(h)
        h = try Conv2D(filters: 8, kernelSize: [3], activation: "relu")(h)
        h = try GlobalAveragePooling2D()(h)
        let image = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try Self.randomize(image, seed: 10)

        let s = Input(shape: [24, 4])
        var g = try Conv1D(filters: 8, kernelSize: [3], padding: "same", activation: "relu")(s)
        g = try ZeroPadding1D(padding: [Margin(2, 1)])(g)
        g = try Cropping1D(cropping: [Margin(1, 3)])(g)
        g = try Conv1D(filters: 8, kernelSize: [3], activation: "relu")(g)
        g = try GlobalAveragePooling1D()(g)
        let sequence = try Model(inputs: [s], outputs: [try Dense(units: 3)(g)])
        try Self.randomize(sequence, seed: 11)
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 7)
        let rows = Self.sequenceRows(frames)
        // The top-left pixel blinks: its changes move through element 0 of the first padding, and the cropping keeps them.
        var blinking = frames.scalars
        for t in 0..<12 { for k in 0..<3 { blinking[t * 768 + k] = t % 2 == 0 ? 0 : 255 } }

        for (model, input) in [(image, Tensor(shape: frames.shape, scalars: blinking)), (sequence, rows)] {
            let delta = try Self.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: 12)
            try checkStepsSparseAndExact(delta, frames: input)
        }
    }

    /// `CenterCrop` of a larger frame (an odd margin: Keras cuts the floor of
    /// half before), `Permute` (the spatial axes swapped; the channels moved
    /// first and back) and `Concatenate` along the rows and along the columns
    /// move each changed element to its place: no layer is called on the whole frame.
    func testCenterCropPermuteAndConcatenateOnAnyAxisMoveChangedElements() throws {
        RandomState.seed(31)
        let x = Input(shape: [16, 16, 3])
        var h = try CenterCrop(height: 14, width: 11)(x)
        h = try Rescaling(scale: 1.0 / 255)(h)
        h = try Conv2D(filters: 6, kernelSize: [3], padding: "same", activation: "relu")(h)
        let a = try Permute(dims: [2, 1, 3])(h)                                  // [11, 14, 6]
        let b = try Permute(dims: [3, 2, 1])(try Permute(dims: [3, 2, 1])(a))     // through [6, 14, 11]
        var g = try Concatenate(axis: 1)([a, b])[0]                               // [22, 14, 6]
        g = try Concatenate(axis: -2)([g, try Conv2D(filters: 6, kernelSize: [1], activation: "relu")(g)])[0]   // [22, 28, 6]
        g = try Conv2D(filters: 6, kernelSize: [3], strides: [2], activation: "relu")(g)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(try GlobalAveragePooling2D()(g))])
        try Self.randomize(model, seed: 21)
        let delta = try Self.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: 12)
        try checkStepsSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 17))
        let kinds = try StreamingPlan(delta).steps.map(\.kind)
        XCTAssertEqual(kinds.filter { $0 == "permute" }.count, 3, "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "concatenate" }.count, 2, "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "cropping" }.count, 1, "\(kinds)")
    }

    /// Bilinear `Resizing` (to 20 rows; the columns keep their size, which the
    /// layer copies) and bilinear `UpSampling2D` by 2 × 3 recompute the output
    /// positions whose interpolation reads a changed input position.
    func testBilinearResizingAndUpSamplingRecomputeTheOutputsAChangeReaches() throws {
        RandomState.seed(32)
        let x = Input(shape: [16, 16, 3])
        var h = try Resizing(height: 20, width: 16)(x)
        h = try Rescaling(scale: 1.0 / 255)(h)
        h = try Conv2D(filters: 10, kernelSize: [3], strides: [2], activation: "relu")(h)   // eight lanes and two
        h = try UpSampling2D(size: [2, 3], interpolation: "bilinear")(h)
        h = try Conv2D(filters: 6, kernelSize: [3], strides: [2], activation: "relu")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(try GlobalAveragePooling2D()(h))])
        try Self.randomize(model, seed: 22)
        let delta = try Self.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: 12)
        try checkStepsSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 18))
        XCTAssertEqual(try StreamingPlan(delta).steps.filter { $0.kind == "bilinear resize" }.count, 2)
    }

    /// Nearest `Resizing` after a crop to the target's aspect ratio (16×16 →
    /// rows 3..<12 → 12×20), bilinear `Resizing` after such a crop, and
    /// `CenterCrop` of a frame smaller than its target (Keras crops it to the
    /// aspect ratio and resizes it bilinearly) recompute only the outputs a change reaches.
    func testNearestAndAspectCroppedResizingRecomputeTheOutputsAChangeReaches() throws {
        RandomState.seed(33)
        let x = Input(shape: [16, 16, 3])
        var h = try Resizing(height: 12, width: 20, interpolation: .nearest, cropToAspectRatio: true)(x)
        h = try Rescaling(scale: 1.0 / 255)(h)
        h = try Conv2D(filters: 10, kernelSize: [3], activation: "relu")(h)                       // [10, 18, 10]
        h = try Resizing(height: 7, width: 9, cropToAspectRatio: true)(h)                           // box (0, 3, 10, 12)
        h = try Conv2D(filters: 9, kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try CenterCrop(height: 9, width: 6)(h)                                                  // box (0, 2, 7, 4)
        h = try Conv2D(filters: 6, kernelSize: [3], strides: [2], activation: "relu")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(try GlobalAveragePooling2D()(h))])
        try Self.randomize(model, seed: 23)
        let delta = try Self.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: 12)
        try checkStepsSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 19))
        let kinds = try StreamingPlan(delta).steps.map(\.kind)
        XCTAssertEqual(kinds.filter { $0 == "nearest resize" }.count, 1, "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == "bilinear resize" }.count, 2, "\(kinds)")
    }

    /// The 1-D layers and merges no other test streams: Conv1D, LeakyReLU,
    /// a dilated DepthwiseConv1D, PReLU (α per step), SeparableConv1D and MaxPooling1D, and
    /// Subtract, Maximum, Minimum and Average of two branches, concatenated.
    func testSequenceLayersAndMergesMatchClipForward() throws {
        RandomState.seed(28)
        let s = Input(shape: [24, 4])
        let h = try LeakyReLU(negativeSlope: 0.2)(try Conv1D(filters: 8, kernelSize: [3], padding: "same")(s))
        let a = try DepthwiseConv1D(kernelSize: [3], padding: "same", dilationRate: [2], activation: "relu")(h)
        let b = try PReLU(sharedAxes: [2], name: "prelu")(try Conv1D(filters: 8, kernelSize: [1])(h))
        let merged = try Concatenate()([try Subtract()([a, b])[0], try Maximum()([a, b])[0], try Minimum()([a, b])[0],
                                        try Average()([a, b])[0]])[0]
        var g = try SeparableConv1D(filters: 8, kernelSize: [3], activation: "relu")(merged)
        g = try GlobalAveragePooling1D()(try MaxPooling1D(poolSize: [2])(g))
        let model = try Model(inputs: [s], outputs: [try Dense(units: 3)(g)])
        try Self.randomize(model, seed: 19)
        // α per step, shared over the channels: broadcast along the frame's last axis.
        try model.layer(named: "prelu").setWeights([Tensor(shape: [24, 1], scalars: (0..<24).map { 0.02 * Float($0) - 0.1 })])
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 13)
        let rows = Self.sequenceRows(frames)
        try checkStepsSparseAndExact(try Self.withDeltas(model, threshold: 0.1, inputStep: 16, clipLength: 12), frames: rows)
    }

    /// Nearest-neighbour `UpSampling1D/2D` copies each changed element to its
    /// block; `GlobalMaxPooling1D/2D` recomputes the channels with a changed input.
    func testUpSamplingAndGlobalMaxPooling() throws {
        RandomState.seed(29)
        let x = Input(shape: [16, 16, 3])
        var h = try Conv2D(filters: 6, kernelSize: [3], strides: [2], activation: "relu")(try Rescaling(scale: 1.0 / 255)(x))
        h = try UpSampling2D(size: [2, 3])(h)
        h = try Conv2D(filters: 6, kernelSize: [3], strides: [2], activation: "relu")(h)
        let image = try Model(inputs: [x], outputs: [try Dense(units: 3)(try GlobalMaxPooling2D()(h))])
        try Self.randomize(image, seed: 20)
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 14)

        let s = Input(shape: [24, 4])
        var g = try Conv1D(filters: 6, kernelSize: [3], activation: "relu")(s)
        g = try Conv1D(filters: 6, kernelSize: [3], activation: "relu")(try UpSampling1D(size: 3)(g))
        let sequence = try Model(inputs: [s], outputs: [try Dense(units: 3)(try GlobalMaxPooling1D()(g))])
        try Self.randomize(sequence, seed: 21)
        let rows = Self.sequenceRows(frames)

        for (model, input) in [(image, frames), (sequence, rows)] {
            let delta = try Self.withDeltas(model, threshold: 0.1, inputStep: 16, clipLength: 12)
            try checkStepsSparseAndExact(delta, frames: input)
            let kinds = try StreamingPlan(delta).steps.map(\.kind)
            XCTAssertTrue(kinds.contains("up-sampling") && kinds.contains("global max pooling"), "\(kinds)")
        }
    }

    /// Random augmentation layers are the identity at inference: no step, the
    /// next layer reads their input's changes.
    func testAugmentationLayersAreSkipped() throws {
        let model = try Self.smallDeltaModel(seed: 30, weightSeed: 22, inputStep: 24) { x in
            var h = try RandomFlip(seed: 1, name: "flip")(x)
            h = try RandomContrast(factor: (0.2, 0.2), name: "contrast")(h)
            return try Conv2D(filters: 6, kernelSize: [3], activation: "relu")(h)
        }
        try checkStepsSparseAndExact(model, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 15))
        let names = try StreamingPlan(model).steps.map(\.name)
        XCTAssertFalse(names.contains { $0.contains("flip") || $0.contains("contrast") }, "\(names)")
    }

    /// EfficientNet's squeeze-and-excitation: a per-channel gate `[1, 1, C]`
    /// multiplies every position (`Multiply` with broadcasting), and an `Add`
    /// broadcasts another; a changed gate channel recomputes that channel only.
    /// Then Inception-ResNet's scaled residual add.
    func testBroadcastGateMultipliesChangedChannels() throws {
        let delta = try Self.smallDeltaModel(seed: 16, weightSeed: 12, threshold: 0.01, inputStep: 2) { x in
            var h = try Conv2D(filters: 16, kernelSize: [3], padding: "same", activation: "relu")(x)
            var se = try GlobalAveragePooling2D()(h)
            se = try Reshape(targetShape: [1, 1, 16])(se)
            se = try Conv2D(filters: 4, kernelSize: [1], activation: "relu")(se)
            let gate = try Conv2D(filters: 16, kernelSize: [1], activation: "sigmoid")(se)
            h = try Multiply()([h, gate])[0]
            h = try Add()([h, try Conv2D(filters: 16, kernelSize: [1])(se)])[0]
            // Inception-ResNet's residual: x₀ + x₁·scale.
            h = try CustomScaleLayer(scale: 0.17)([h, try Conv2D(filters: 16, kernelSize: [1], activation: "relu")(h)])[0]
            h = try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu")(h)
            return h
        }
        try checkStepsSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 8))
    }

    /// A merge recomputes the lanes of eight channels a change reaches: a
    /// full input's changed element its own lane, a broadcast gate's changed
    /// channel its lane at every position. 12 channels, so that each position
    /// ends in a partial lane; frames that change one pixel or a small patch
    /// move the squeeze-and-excitation gate in a few channels at a time.
    func testMergesRecomputeTheLanesAChangeReaches() throws {
        // The feature map is the output, so that one stale element fails the comparison.
        RandomState.seed(34)
        let x = Input(shape: [16, 16, 3])
        let h = try Conv2D(filters: 12, kernelSize: [3], padding: "same", activation: "relu")(try Rescaling(scale: 1.0 / 255)(x))
        var se = try Reshape(targetShape: [1, 1, 12])(try GlobalAveragePooling2D()(h))
        se = try Conv2D(filters: 12, kernelSize: [1], activation: "sigmoid")(se)
        let excited = try Multiply(name: "excite")([h, se])[0]
        let sum = try Add(name: "add")([excited, try Conv2D(filters: 12, kernelSize: [1], name: "side")(h)])[0]
        let model = try Model(inputs: [x], outputs: [sum])
        try Self.randomize(model, seed: 23)
        let delta = try Self.withDeltas(model, threshold: 2e-3, inputStep: 2, clipLength: 12)
        let frames = Self.randomPixelFrames(seed: 6) { t in
            // One pixel, or a 2×3 patch, somewhere new in each frame.
            let y0 = (t * 5) % 14, x0 = (t * 7) % 13
            return t % 2 == 0 ? (y0..<(y0 + 1), x0..<(x0 + 1)) : (y0..<(y0 + 2), x0..<(x0 + 3))
        }
        try checkStepsSparseAndExact(delta, frames: frames)
    }

    /// Activations on eight lanes (swish, hard swish, tanh, sigmoid, exact GELU),
    /// fused into a convolution's or a merge's epilogue, on 13×13
    /// positions of 12 channels (so the vector loops end in partial lanes), over
    /// frames where all, half, one pixel or three quarters of the picture
    /// change: the element-wise, merge and delta steps then take both their
    /// sparse paths and the one that recomputes a mostly changed frame in vectors.
    func testLaneActivationsAndLargeChangesMatchClipForward() throws {
        // The feature map is the output, so that one stale element fails the comparison.
        RandomState.seed(31)
        let x = Input(shape: [16, 16, 3])
        let features: KerasTensor = try {
            var h = try Conv2D(filters: 12, kernelSize: [4], activation: "swish", name: "swish_conv")(try Rescaling(scale: 1.0 / 255)(x))
            var g = try Conv2D(filters: 12, kernelSize: [3], padding: "same", useBias: false, name: "conv")(h)
            g = try BatchNormalization(name: "bn")(g)
            g = try ActivationLayer("hard_swish", name: "hard_swish")(g)
            h = try Add(name: "add")([h, g])[0]
            h = try ActivationLayer("tanh", name: "tanh")(h)
            var se = try GlobalAveragePooling2D()(h)
            se = try Reshape(targetShape: [1, 1, 12])(se)
            let gate = try Conv2D(filters: 12, kernelSize: [1], activation: "sigmoid", name: "gate")(se)
            h = try Multiply(name: "excite")([h, gate])[0]
            return try Dense(units: 12, activation: "gelu", name: "mlp")(h)
        }()
        let model = try Model(inputs: [x], outputs: [features])
        try Self.randomize(model, seed: 19)
        // Steps of 1e-4: at 1e-2 a value that rounds across a step in one forward
        // and not in the other (float sums in another order) moves the output by 1.5e-3.
        let delta = try Self.withDeltas(model, threshold: 1e-4, inputStep: 2, clipLength: 12)
        let frames = Self.randomPixelFrames(seed: 5) { t in
            // Rows changed in frame t: all, the top half, one pixel, the top three quarters.
            [(0..<16, 0..<16), (0..<8, 0..<16), (5..<6, 9..<10), (0..<12, 0..<16)][t % 4]
        }
        try checkStepsSparseAndExact(delta, frames: frames)
        let steps = try StreamingPlan(delta).steps.map(\.name)
        XCTAssertTrue(steps.contains("swish_conv+swish_conv_delta"), "\(steps)")
        XCTAssertTrue(steps.contains("conv+bn+hard_swish+hard_swish_delta"), "\(steps)")
        XCTAssertTrue(steps.contains("add+tanh+tanh_delta"), "\(steps)")
    }

    /// Pre-activation chains (DenseNet's and ResNetV2's): a batch normalization
    /// after a concatenation or a sum cannot fold into a convolution, so it
    /// runs as a per-channel map, and it takes over its rectifier and delta
    /// layer: one pass that maps, clamps, quantizes and compares. Coarse steps
    /// (0.05) and frames with small changes take the sparse path.
    func testNormalizationChainsFuseIntoOneStep() throws {
        let delta = try Self.smallDeltaModel(seed: 33, weightSeed: 21, threshold: 0.05, inputStep: 2) { x in
            let a = try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu", name: "conv_a")(x)
            let b = try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu", name: "conv_b")(a)
            var h = try Concatenate(name: "concat")([a, b])[0]
            h = try BatchNormalization(name: "bn")(h)
            h = try ReLU(name: "relu")(h)
            h = try Conv2D(filters: 16, kernelSize: [3], padding: "same", activation: "relu", name: "conv_c")(h)
            h = try Add(name: "sum")([h, try Conv2D(filters: 16, kernelSize: [1], name: "shortcut")(a)])[0]
            h = try BatchNormalization(name: "post_bn")(h)
            return try ActivationLayer("swish", name: "post_act")(h)
        }
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 12)
        try checkStepsSparseAndExact(delta, frames: frames)
        let steps = try StreamingPlan(delta).steps.map(\.name)
        XCTAssertTrue(steps.contains("bn+relu+relu_delta"), "\(steps)")
        XCTAssertTrue(steps.contains("post_bn+post_act+post_act_delta"), "\(steps)")
    }

    /// Grouped convolutions: RegNet's (groups of 8 channels, one strided) and
    /// ConvNeXt's 7×7 with one channel a group, which streams as a depthwise step.
    func testGroupedConvolutionsMatchClipForward() throws {
        let delta = try Self.smallDeltaModel(seed: 17, weightSeed: 13) { x in
            var h = try Conv2D(filters: 32, kernelSize: [3], padding: "same", activation: "relu")(x)
            h = try Conv2D(filters: 32, kernelSize: [3], padding: "same", groups: 4, useBias: false)(h)
            h = try BatchNormalization()(h)
            h = try ReLU()(h)
            h = try Conv2D(filters: 48, kernelSize: [3], strides: [2], padding: "same", groups: 4, activation: "relu")(h)
            h = try Conv2D(filters: 48, kernelSize: [7], padding: "same", groups: 48, activation: "relu")(h)
            return h
        }
        try checkSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 9))
        let kinds = try StreamingPlan(delta).steps.map(\.kind)
        XCTAssertEqual(kinds.filter { $0.hasPrefix("grouped conv") }.count, 2, "\(kinds)")
        XCTAssertTrue(kinds.contains { $0.hasPrefix("depthwise conv") }, "\(kinds)")
    }

    /// A ConvNeXt block: input Normalization, 7×7 depthwise (one channel a
    /// group), layer normalization over the channels, a pointwise MLP (Dense
    /// on the channels, GELU), LayerScale and a residual add; delta layers
    /// after the normalizations and the GELU, and an inverted Normalization.
    func testConvNeXtBlockMatchesClipForward() throws {
        RandomState.seed(18)
        func delta(_ t: KerasTensor, _ name: String) throws -> KerasTensor {
            try DeltaActivation(thresholdInit: 0.05, clipLength: 12, name: name)(t)
        }
        let x = Input(shape: [32, 32, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Normalization(axis: [-1], mean: [0.4, 0.5, 0.6], variance: [0.05, 0.06, 0.07])(h)
        h = try delta(h, "input_delta")
        h = try Conv2D(filters: 16, kernelSize: [2], strides: [2])(h)
        h = try LayerNormalization(epsilon: 1e-6)(h)
        h = try Normalization(axis: [-1], mean: (0..<16).map { Double($0) / 20 }, variance: (0..<16).map { 0.5 + Double($0) / 10 },
                              invert: true)(h)
        h = try delta(h, "stem_delta")
        var r = try Conv2D(filters: 16, kernelSize: [7], padding: "same", groups: 16)(h)
        r = try delta(try LayerNormalization(epsilon: 1e-6)(r), "norm_delta")
        r = try delta(try Dense(units: 32, activation: "gelu")(r), "gelu_delta")
        r = try Dense(units: 16)(r)
        r = try LayerScale(initValues: 0.5, projectionDim: 16)(r)
        h = try Add()([h, r])[0]
        h = try GlobalAveragePooling2D()(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try Self.randomize(model, seed: 14)
        for case let d as DeltaActivation in model.layers {
            try d.setWeights(d.getWeights().map { Tensor(repeating: 0.05, shape: $0.shape) })
        }
        try checkStepsSparseAndExact(model, frames: try Self.syntheticFrames(count: 12, size: 32, seed: 10))
    }

    /// Keras 3's `LayerNormalization(rms_scaling=True)`: `x·rsqrt(variance + ε)·γ`
    /// over the channels, recomputed at the positions that changed.
    func testRMSLayerNormalizationRecomputesChangedPositions() throws {
        let model = try Self.smallDeltaModel(seed: 23, weightSeed: 17) { x in
            var h = try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu")(x)
            h = try LayerNormalization(epsilon: 1e-3, rmsScaling: true)(h)
            return try Conv2D(filters: 8, kernelSize: [3], activation: "relu")(h)
        }
        try checkStepsSparseAndExact(model, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 11))
        XCTAssertTrue(try StreamingPlan(model).steps.contains { $0.kind == "layer normalization" })
    }

    /// `Normalization(axis=None)`: one mean and variance for every element, as a per-channel step.
    func testScalarNormalizationStreams() throws {
        let model = try Self.smallDeltaModel(seed: 24, weightSeed: 18, inputStep: 24) { x in
            let h = try Normalization(axis: [], name: "scalar_norm")(x)
            return try Conv2D(filters: 8, kernelSize: [3], activation: "relu")(h)
        }
        // The mean, variance and count weights that `adapt` fills in.
        let norm = try model.layer(named: "scalar_norm")
        try norm.setWeights(zip(norm.getWeights(), [0.45, 0.08, 100] as [Float]).map { Tensor(repeating: $1, shape: $0.shape) })
        try checkStepsSparseAndExact(model, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 12))
        XCTAssertTrue(try StreamingPlan(model).steps.contains { $0.kind == "normalization" })
    }

    /// Softmax over the channels, as a `Softmax` layer on every position of a
    /// feature map and as an `Activation("softmax")` head after `Flatten`:
    /// recomputed at the positions whose input changed.
    func testSoftmaxRecomputesChangedPositions() throws {
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 9)
        let spatial = try Self.smallDeltaModel(seed: 21, weightSeed: 15) { x in
            let h = try Softmax()(try Conv2D(filters: 8, kernelSize: [3], padding: "same", activation: "relu")(x))
            return try Conv2D(filters: 8, kernelSize: [3], activation: "relu")(h)
        }
        try checkStepsSparseAndExact(spatial, frames: frames)
        XCTAssertEqual(try StreamingPlan(spatial).steps.filter { $0.kind == "softmax" }.count, 1)

        RandomState.seed(22)
        let x = Input(shape: [16, 16, 3])
        var h = try Conv2D(filters: 8, kernelSize: [3], strides: [2], activation: "relu")(try Rescaling(scale: 1.0 / 255)(x))
        h = try Conv2D(filters: 2, kernelSize: [3], strides: [2])(h)
        h = try ActivationLayer("softmax")(try Flatten()(h))
        let head = try Model(inputs: [x], outputs: [h])
        try Self.randomize(head, seed: 16)
        let deltaHead = try Self.withDeltas(head, threshold: 0.05, inputStep: 4, clipLength: 12)
        try checkStepsSparseAndExact(deltaHead, frames: frames)
        XCTAssertEqual(try StreamingPlan(deltaHead).steps.filter { $0.kind == "softmax" }.count, 1)
    }

    /// Xception-style separable convolutions (one with a depth multiplier and
    /// strides, one with a batch normalization folded into its pointwise part)
    /// stream as a depthwise step and a pointwise step.
    func testSeparableConvolutionsMatchClipForward() throws {
        RandomState.seed(13)
        let x = Input(shape: [16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try SeparableConv2D(filters: 8, kernelSize: [3], strides: [2], padding: "same", depthMultiplier: 2, activation: "relu")(h)
        h = try SeparableConv2D(filters: 12, kernelSize: [3], padding: "same", useBias: false, name: "sep")(h)
        h = try BatchNormalization(name: "sep_bn")(h)
        h = try ReLU()(h)
        h = try GlobalAveragePooling2D()(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3)(h)])
        try Self.randomize(model, seed: 8)
        let delta = try Self.withDeltas(model, threshold: 0.02, inputStep: 2, clipLength: 8)
        try checkSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 5))
        let steps = try StreamingPlan(delta).steps
        XCTAssertTrue(steps.contains { $0.name == "sep/depthwise" && $0.kind == "depthwise conv" })
        XCTAssertTrue(steps.contains { $0.name.hasPrefix("sep+sep_bn") && $0.kind.hasPrefix("conv") }, "\(steps.map(\.name))")
        XCTAssertFalse(steps.contains { $0.kind.contains("layer") }, "a separable convolution fell back to a layer call")
    }

    /// An encoder-decoder (segmentation-style): strided convolutions down, then
    /// `Conv2DTranspose` up (`same` with strides 2, `valid` with an output
    /// padding and a dilation) and a `Conv1DTranspose` over the rows; per-pixel outputs.
    func testTransposedConvolutionsMatchClipForward() throws {
        RandomState.seed(17)
        let x = Input(shape: [16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv2D(filters: 8, kernelSize: [3], strides: [2], padding: "same", activation: "relu")(h)
        h = try Conv2D(filters: 12, kernelSize: [3], strides: [2], padding: "same", activation: "relu")(h)
        h = try Conv2DTranspose(filters: 8, kernelSize: [3], strides: [2], padding: "same", name: "up1")(h)
        h = try BatchNormalization()(h)
        h = try ReLU()(h)
        h = try Conv2DTranspose(filters: 6, kernelSize: [2], strides: [2], padding: "valid", outputPadding: [1],
                                activation: "relu", name: "up2")(h)
        h = try Conv2DTranspose(filters: 4, kernelSize: [3], padding: "same", dilationRate: [2], name: "up3")(h)
        h = try Reshape(targetShape: [17 * 17, 4])(h)
        h = try Conv1DTranspose(filters: 2, kernelSize: [3], strides: [1], padding: "same", activation: "relu", name: "up4")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3, activation: "softmax")(h)])
        try Self.randomize(model, seed: 9)
        let delta = try Self.withDeltas(model, threshold: 0.02, inputStep: 2, clipLength: 8)
        try checkSparseAndExact(delta, frames: try Self.syntheticFrames(count: 12, size: 16, seed: 6))
        let plan = try StreamingPlan(delta)
        for name in ["up1", "up2", "up3", "up4"] {
            XCTAssertTrue(plan.steps.contains { $0.name.hasPrefix(name) && $0.kind.hasPrefix("transposed conv") }, plan.description)
        }
        XCTAssertFalse(plan.steps.contains { $0.kind.contains("layer call") }, plan.description)
    }

    func testEverySparseStepRunsSparseWithoutDenseCutoff() throws {
        // With the cutoff above 1 no linear step falls back to a dense GEMM, so the scatter kernels carry every later frame.
        let frames = try Self.syntheticFrames(count: 8, size: 16, seed: 4)
        let model = try Self.withDeltas(try Self.mobilenetStyle(), threshold: 0.02, inputStep: 1, clipLength: 8)
        _ = try checkExact(model, frames: frames, options: StreamingOptions(denseCutoff: 2))
        let resnet = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.02, inputStep: 1, clipLength: 8)
        _ = try checkExact(resnet, frames: frames, options: StreamingOptions(denseCutoff: 2))
    }

    func testOnePixelChangeStaysSparse() throws {
        // The second frame differs from the first in one pixel: every step must
        // pass on only what changed (no output marked as changed everywhere,
        // which would make every later step recompute the whole frame).
        let model = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.05, inputStep: 4, clipLength: 2)
        let first = Array(try Self.syntheticFrames(count: 2, size: 16).scalars.prefix(16 * 16 * 3))
        var second = first
        second[100] += 40
        let stats = try checkExact(model, frames: Tensor(shape: [2, 16, 16, 3], scalars: first + second))
        XCTAssertGreaterThan(stats.deltaNonZero, 0)
        XCTAssertEqual(stats.denseOutputs, 0)
        XCTAssertLessThan(stats.deltaMACs * 20, stats.denseMACsAfterFirst)
    }

    func testPlanFoldsBatchNormAndReportsDenseFallback() throws {
        // No input delta layer: the first convolution sees every pixel change and runs dense.
        let base = try Self.resnetStyle()
        var layers = 0
        let model = try base.clone(weights: .copy) { layer, args, node in
            var outs = try layer(args)
            if node.layer.hasNonLinearOutput && !(node.layer is Dense) {
                layers += 1
                outs[0] = try DeltaActivation(thresholdInit: 0.05, clipLength: 8, name: "\(layer.name)_delta")(outs[0])
            }
            return outs
        }
        let plan = try StreamingPlan(model)
        let names = plan.steps.map { $0.name }
        XCTAssertFalse(plan.steps.contains { $0.kind == "batch normalization" }, plan.description)
        XCTAssertTrue(names.contains { $0.contains("+batch_normalization") }, plan.description)
        let fallback = plan.steps.filter { $0.denseFallback }.map { $0.name }
        XCTAssertEqual(fallback.count, 1, plan.description)
        XCTAssertTrue(plan.description.contains("dense fallback"))
        // Every delta layer is a step of its own or fused into the linear step before it ("conv, ReLU, delta").
        XCTAssertEqual(plan.steps.map { $0.kind.components(separatedBy: ", ").filter { $0 == "delta" }.count }.reduce(0, +), layers)
        XCTAssertTrue(plan.steps.contains { $0.kind.hasSuffix(", delta") }, plan.description)
        _ = try checkExact(model, frames: try Self.syntheticFrames(count: 8, size: 16))
    }

    func testRealFFmpegVideoMatchesClipForward() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("streaming-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("testsrc.mp4")
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        ffmpeg.arguments = ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1.6",
                            "-pix_fmt", "yuv420p", file.path]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        XCTAssertEqual(ffmpeg.terminationStatus, 0)
        let clip = try VideoReader.readClip(.file(file), options: VideoReadOptions(size: (width: 16, height: 16)))
        XCTAssertEqual(clip.frameCount, 16)
        let frames = clip.tensor()
        let resnet = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.05, inputStep: 4, clipLength: 16)
        _ = try checkExact(resnet, frames: frames)
        let mobilenet = try Self.withDeltas(try Self.mobilenetStyle(), threshold: 0.05, inputStep: 4, clipLength: 16)
        _ = try checkExact(mobilenet, frames: frames)
    }

    func testKeyFramesBoundDriftOver1000Frames() throws {
        // 1,000 frames: a synthetic clip played forward and backward, repeated.
        let clip = try Self.syntheticFrames(count: 25, size: 16, seed: 21)
        let per = clip.count / 25
        var scalars: [Float] = []
        for t in 0..<1000 {
            let cycle = t % 48, k = cycle < 25 ? cycle : 48 - cycle
            scalars += clip.scalars[(k * per)..<((k + 1) * per)]
        }
        let frames = Tensor(shape: [1000, 16, 16, 3], scalars: scalars)
        let model = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.05, inputStep: 4, clipLength: 1000)
        let stats = try checkExact(model, frames: frames, options: StreamingOptions(keyFrameEvery: 50))
        XCTAssertEqual(stats.keyFrames, 20)
    }

    func testTwoStreamsOnTwoThreadsMatchSingleThread() throws {
        let model = try Self.withDeltas(try Self.mobilenetStyle(), threshold: 0.05, inputStep: 4, clipLength: 8)
        let plan = try StreamingPlan(model, options: StreamingOptions(keyFrameEvery: 7))
        let a = try Self.syntheticFrames(count: 24, size: 16, seed: 31)
        let b = try Self.syntheticFrames(count: 24, size: 16, seed: 32)
        let alone = [try Self.stream(plan.makeStream(), a), try Self.stream(plan.makeStream(), b)]
        let results = Results()
        let streams = [plan.makeStream(), plan.makeStream()]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = Result { try Self.stream(streams[i], i == 0 ? a : b) }
            results.set(i, r)
        }
        for i in 0..<2 {
            XCTAssertEqual(try results.get(i).get(), alone[i], "stream \(i)")
        }
        XCTAssertNotEqual(alone[0], alone[1])
        // A reset stream replays a video exactly.
        streams[0].reset()
        XCTAssertEqual(try Self.stream(streams[0], a), alone[0])
    }

    func testWorkSplitOverTheCoresGivesTheSameFloats() throws {
        // Wide enough that the scatters' output channels and the epilogues' groups split:
        // 32–64 filters, depthwise channels (multiplier 1 and 2) and dense units.
        RandomState.seed(13)
        let x = Input(shape: [16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv2D(filters: 32, kernelSize: [3], padding: "same", useBias: false)(h)
        h = try BatchNormalization()(h)
        h = try ReLU()(h)
        h = try Conv2D(filters: 64, kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try DepthwiseConv2D(kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try Conv2D(filters: 40, kernelSize: [1], activation: "relu")(h)
        h = try DepthwiseConv2D(kernelSize: [3], padding: "same", depthMultiplier: 2, activation: "relu")(h)
        h = try GlobalAveragePooling2D()(h)
        h = try Dense(units: 48, activation: "relu")(h)
        h = try Dense(units: 5)(h)
        let dense = try Model(inputs: [x], outputs: [h])
        try Self.randomize(dense, seed: 7)
        let model = try Self.withDeltas(dense, threshold: 0.05, inputStep: 4, clipLength: 12)
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 41)
        let plan = try StreamingPlan(model, options: StreamingOptions(keyFrameEvery: 5))
        let unsplit = plan.makeStream(), split = plan.makeStream()
        unsplit.maximumParts = 1
        split.maximumParts = 2
        split.minimumWorkPerPart = 1
        let one = try Self.stream(unsplit, frames), two = try Self.stream(split, frames)
        XCTAssertEqual(two, one)
        XCTAssertEqual(split.statistics, unsplit.statistics)
        XCTAssertLessThanOrEqual(Self.deviation(two, try model.predictOnBatch([frames])[0]), 1e-4)
        XCTAssertLessThan(split.statistics.macs, split.statistics.denseMACs)
    }

    /// The position-by-position path of 1×1 convolutions and Dense layers
    /// gives the floats of the scatter and the epilogue over touched groups,
    /// on one core and split over two: rectified, swish, GELU and linear
    /// outputs, with and without a fused delta layer (the steps per channel
    /// after a batch normalization, and per element).
    func testPositionwiseStepsGiveTheFloatsOfTheScatter() throws {
        RandomState.seed(34)
        let x = Input(shape: [16, 16, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try Conv2D(filters: 24, kernelSize: [3], padding: "same", activation: "relu")(h)
        h = try Conv2D(filters: 40, kernelSize: [1], activation: "swish")(h)
        h = try BatchNormalization()(try Conv2D(filters: 36, kernelSize: [1], useBias: false)(h))
        h = try ReLU()(h)
        let a = try Conv2D(filters: 20, kernelSize: [1])(h)                       // linear: no delta layer after it
        h = try Dense(units: 20, activation: "gelu")(h)
        h = try Add()([a, h])[0]
        h = try Conv2D(filters: 12, kernelSize: [3], strides: [2], activation: "relu")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 4)(try GlobalAveragePooling2D()(h))])
        try Self.randomize(model, seed: 24)
        let delta = try Self.withDeltas(model, threshold: 0.05, inputStep: 4, clipLength: 12)
        let frames = try Self.syntheticFrames(count: 12, size: 16, seed: 42)
        let plan = try StreamingPlan(delta, options: StreamingOptions(keyFrameEvery: 6))
        let positionwise = plan.kernels.compactMap { $0 as? LinearStep }.filter { $0.positionwiseKernel != nil }
        XCTAssertGreaterThanOrEqual(positionwise.count, 4, plan.description)
        for parts in [1, 2] {
            func run(positionwise on: Bool) throws -> ([[Float]], StreamStatistics) {
                for step in positionwise { step.runsPositionwise = on }
                let stream = plan.makeStream()
                stream.maximumParts = parts
                stream.minimumWorkPerPart = 1
                return (try Self.stream(stream, frames), stream.statistics)
            }
            let (scattered, scatterStatistics) = try run(positionwise: false)
            let (byPosition, statistics) = try run(positionwise: true)
            XCTAssertEqual(byPosition, scattered, "\(parts) part(s)")
            XCTAssertEqual(statistics, scatterStatistics, "\(parts) part(s)")
            XCTAssertLessThan(statistics.macs, statistics.denseMACs)
        }
    }

    func testBadArgumentsThrow() throws {
        let model = try Self.withDeltas(try Self.resnetStyle(), threshold: 0.05, inputStep: 4, clipLength: 8)
        XCTAssertThrowsError(try StreamingPlan(model, options: StreamingOptions(keyFrameEvery: -1))) { e in
            XCTAssertTrue("\(e)".contains("keyFrameEvery"), "\(e)")
        }
        // Delta layers that see frames as the batch and others over an explicit time axis do not mix.
        let x = Input(shape: [4, 6])
        let h = try DeltaActivation(thresholdInit: 0.1, clipLength: nil, name: "timed")(x)
        let y = try Dense(units: 3)(try DeltaActivation(thresholdInit: 0.1, clipLength: 8, name: "batched")(h))
        XCTAssertThrowsError(try StreamingPlan(try Model(inputs: [x], outputs: [y]))) { e in
            XCTAssertTrue("\(e)".contains("batched") && "\(e)".contains("explicit time axis"), "\(e)")
        }
        let s = try StreamingPlan(model).makeStream()
        XCTAssertThrowsError(try s.process([Tensor(shape: [1, 8, 8, 3], scalars: [Float](repeating: 0, count: 192))])) { e in
            XCTAssertTrue("\(e)".contains("frames"), "\(e)")
        }
    }
}

private final class Results: @unchecked Sendable {
    private var values: [Int: Result<[[Float]], Error>] = [:]
    private let lock = NSLock()
    func set(_ i: Int, _ r: Result<[[Float]], Error>) { lock.lock(); values[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<[[Float]], Error> { lock.lock(); defer { lock.unlock() }; return values[i]! }
}
