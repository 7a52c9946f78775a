import XCTest
import Tensor
@testable import Layers
import KerasIO
import Delta
import Streaming

final class DeltaizeTests: XCTestCase {
    /// frames → Rescaling → conv1(3×3, 8) → BN → ReLU → MaxPool(2) → conv2(3×3, 16, relu) → GAP → Dense(4)
    private func frameModel() throws -> Model {
        let x = Input(shape: [8, 8, 3], name: "frames")
        var h = try Rescaling(scale: 1.0 / 255, name: "scale")(x)
        h = try Conv2D(filters: 8, kernelSize: [3, 3], padding: "same", name: "conv1")(h)
        h = try BatchNormalization(name: "bn1")(h)
        h = try ReLU(name: "relu1")(h)
        h = try MaxPooling2D(poolSize: [2, 2], name: "pool")(h)
        h = try Conv2D(filters: 16, kernelSize: [3, 3], padding: "same", activation: "relu", name: "conv2")(h)
        h = try GlobalAveragePooling2D(name: "gap")(h)
        let y = try Dense(units: 4, name: "logits")(h)
        let model = try Model(inputs: [x], outputs: [y], name: "frame_model")
        try randomizeWeights(model, seed: 21)
        return model
    }

    /// Where the delta layers go, by the spec's rules (DELTA_SPEC.md § deltaize):
    /// - the input: it reaches conv1 through Rescaling: 3·3·8 = 72;
    /// - relu1: it reaches conv2 through the 2×2 pool, which keeps 1 element in 4: 3·3·16 / 4 = 36;
    /// - conv2 (a relu activation): it reaches the Dense through global pooling over 4×4: 4 units / 16 = 0.25.
    /// The Dense's linear output reaches nothing.
    func testPlacementsAndFanOutsOfASmallModel() throws {
        let result = try deltaize(try frameModel())
        XCTAssertEqual(result.placements.map { $0.after }, ["frames", "relu1", "conv2"])
        XCTAssertEqual(result.placements.map { $0.fanOut }, [72, 36, 0.25])
        XCTAssertEqual(result.placements.map { $0.name }, ["frames_delta", "relu1_delta", "conv2_delta"])
        XCTAssertEqual(result.placements[1].feeds, ["conv2"])
        let deltas = result.model.layers.compactMap { $0 as? DeltaActivation }
        XCTAssertEqual(deltas.map { $0.fanOut }, [72, 36, 0.25])
        XCTAssertTrue(deltas.allSatisfy { $0.clipLength == 8 && $0.thresholdGradient == .lsq })
    }

    /// Resizing, CenterCrop and up-sampling pass deltas on like a pooling
    /// layer, scaled by their output pixels per input pixel (hand-derived):
    /// - the 32×32 input reaches conv1 (3·3·8 = 72) through a bilinear
    ///   resizing to 16×16 (¼) and a 12×12 center crop (144 / 256):
    ///   72 · ¼ · 144/256 = 10.125;
    /// - relu1 reaches conv2 (3·3·4 = 36) through a 2×2 up-sampling (4): 144.
    func testResizingCroppingAndUpSamplingPassDeltas() throws {
        let x = Input(shape: [32, 32, 3], name: "frames")
        var h = try Resizing(height: 16, width: 16, name: "resize")(x)
        h = try CenterCrop(height: 12, width: 12, name: "crop")(h)
        h = try Conv2D(filters: 8, kernelSize: [3, 3], padding: "same", name: "conv1")(h)
        h = try ReLU(name: "relu1")(h)
        h = try UpSampling2D(size: [2, 2], interpolation: "bilinear", name: "up")(h)
        h = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", name: "conv2")(h)
        let model = try Model(inputs: [x], outputs: [h], name: "resizing_model")
        let result = try deltaize(model)
        XCTAssertEqual(result.placements.map(\.after), ["frames", "relu1"])
        XCTAssertEqual(result.placements.map(\.fanOut), [10.125, 144])
    }

    /// frames → conv1(3×3, 8, relu) → [conv2(1×1, 8) → bn2] + conv1 → add;
    /// add → GAP → Dense(8, sigmoid) → Reshape → × add → excite → MaxPool(2)
    /// → conv3(3×3, 8) → LayerNormalization → Dense(4).
    private func blockModel() throws -> Model {
        let x = Input(shape: [8, 8, 4], name: "frames")
        let a = try Conv2D(filters: 8, kernelSize: [3, 3], padding: "same", activation: "relu", name: "conv1")(x)
        var h = try Conv2D(filters: 8, kernelSize: [1, 1], name: "conv2")(a)
        h = try BatchNormalization(name: "bn2")(h)
        let sum = try Add(name: "add")([h, a])[0]
        var gate = try GlobalAveragePooling2D(name: "gap")(sum)
        gate = try Dense(units: 8, activation: "sigmoid", name: "gate")(gate)
        gate = try Reshape(targetShape: [1, 1, 8], name: "reshape")(gate)
        h = try Multiply(name: "excite")([sum, gate])[0]
        h = try MaxPooling2D(poolSize: [2, 2], name: "pool")(h)
        h = try Conv2D(filters: 8, kernelSize: [3, 3], padding: "same", name: "conv3")(h)
        h = try LayerNormalization(name: "norm")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 4, name: "logits")(h)], name: "block_model")
        try randomizeWeights(model, seed: 22)
        return model
    }

    /// By the spec's rules only the input (3·3·8 = 72) and conv1's relu go (it
    /// feeds conv2, 8; the Add is no MAC layer). `.macInputs` also quantizes,
    /// derived by hand:
    /// - the residual sum `add`: it feeds the gate's Dense through global
    ///   pooling over 8×8, 8 / 64 = 0.125 (the Multiply is no MAC layer);
    ///   `gap` then reads a quantized tensor and gets none;
    /// - the gated product at the end of its pass-through chain, after `pool`:
    ///   conv3, 3·3·8 = 72;
    /// - the layer normalization: the Dense, 4.
    /// Not conv2, which only bn2 reads (the fold stays possible), nor bn2 and
    /// conv3, which reach no MAC layer but through the Add or the normalization,
    /// nor the sigmoid gate, whose product is quantized after the pool instead.
    func testMACInputPlacementQuantizesSumsGatesAndNormalizations() throws {
        let model = try blockModel()
        XCTAssertEqual(try deltaize(model).placements.map(\.after), ["frames", "conv1"])
        var options = DeltaizeOptions()
        options.placement = .macInputs
        options.thresholdInit = 1e-6
        let result = try deltaize(model, options: options)
        XCTAssertEqual(result.placements.map(\.after), ["frames", "conv1", "add", "pool", "norm"])
        XCTAssertEqual(result.placements.map(\.fanOut), [72, 8, 0.125, 72, 4])
        XCTAssertEqual(result.placements.map(\.feeds), [["conv1"], ["conv2"], ["gate"], ["conv3"], ["logits"]])
        // Each MAC layer reads a delta layer's output, directly or through pass-throughs (gap).
        let order = result.model.executionOrder
        for name in ["conv1", "conv2", "gate", "conv3", "logits"] {
            var source = try XCTUnwrap(order.first { $0.layer.name == name })
            repeat {
                let id = source.inputs[0].id
                source = try XCTUnwrap(order.first { $0.outputIDs.contains(id) })
            } while source.layer.passesDeltas
            XCTAssertTrue(source.layer is DeltaActivation, "\(name) reads \(source.layer.name)")
        }
        // With a tiny step the delta model predicts what the original does.
        let x = Tensor(shape: [8, 8, 8, 4], scalars: (0..<2048).map { Float(($0 * 37) % 101) / 50 - 1 })
        assertNear(try result.model.predictOnBatch([x])[0], try model.predictOnBatch([x])[0], tolerance: 1e-4, "delta model")
        XCTAssertThrowsError(try deltaize(result.model, options: options))
    }

    /// `.macInputs` splits a `SeparableConv2D` into its depthwise half
    /// (`sep_depthwise`, no bias) and a 1×1 `Conv2D` with its name, bias and
    /// activation, and quantizes the tensor between them. Fan-outs by hand:
    /// the input feeds conv's 3·3·4 = 36; conv's relu the depthwise half,
    /// 3·3·2 / (2·2) = 4.5; the depthwise half the 1×1 convolution, 6; sep's
    /// relu the Dense through pooling over 4×4, 3 / 16 = 0.1875. The other
    /// placement keeps the layer whole.
    func testMACInputPlacementSplitsSeparableConvolutions() throws {
        RandomState.seed(9)
        let x = Input(shape: [8, 8, 3], name: "frames")
        var h = try Conv2D(filters: 4, kernelSize: [3], padding: "same", activation: "relu", name: "conv")(x)
        h = try SeparableConv2D(filters: 6, kernelSize: [3], strides: [2], padding: "same", depthMultiplier: 2,
                                activation: "relu", name: "sep")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3, name: "logits")(try GlobalAveragePooling2D()(h))])
        let sep = try XCTUnwrap(model.layer(named: "sep") as? SeparableConv2D)
        try sep.setWeights(Array(sep.getWeights()[..<2]) + [Tensor(shape: [6], scalars: [0.3, -0.2, 0.1, -0.4, 0.25, 0.05])])
        XCTAssertTrue(try deltaize(model).model.layer(named: "sep") is SeparableConv2D)
        var options = DeltaizeOptions()
        options.placement = .macInputs
        options.thresholdInit = 1e-6
        let result = try deltaize(model, options: options)
        XCTAssertEqual(result.placements.map(\.after), ["frames", "conv", "sep_depthwise", "sep"])
        XCTAssertEqual(result.placements.map(\.fanOut), [36, 4.5, 6, 0.1875])
        let depthwise = try XCTUnwrap(result.model.layer(named: "sep_depthwise") as? DepthwiseConv2D)
        let pointwise = try XCTUnwrap(result.model.layer(named: "sep") as? Conv2D)
        XCTAssertEqual(depthwise.getWeights(), [sep.getWeights()[0]])
        XCTAssertEqual(pointwise.getWeights(), Array(sep.getWeights()[1...]))
        XCTAssertEqual([depthwise.strides, depthwise.dilationRate, pointwise.strides, pointwise.kernelSize], [[2, 2], [1, 1], [1, 1], [1, 1]])
        XCTAssertEqual([depthwise.activation.name, pointwise.activation.name], ["linear", "relu"])
        XCTAssertFalse(depthwise.useBias)
        // With a tiny step the split model predicts what the original does.
        let frames = Tensor(shape: [8, 8, 8, 3], scalars: (0..<1536).map { Float(($0 * 37) % 101) / 50 - 1 })
        assertNear(try result.model.predictOnBatch([frames])[0], try model.predictOnBatch([frames])[0], tolerance: 1e-4, "split model")
    }

    /// `.macInputs` splits a `SeparableConv1D` the same way, into a
    /// `DepthwiseConv1D` and a one-tap `Conv1D`, which stream; a causal one
    /// stays whole (Keras's depthwise convolutions take no causal padding).
    /// Placements: the input (read by the depthwise half), the depthwise half
    /// (read by the one-tap convolution), sep's relu (read by the causal
    /// layer), and the end of the causal layer's linear output's pass-through
    /// chain (the pooling), which the Dense reads.
    func testMACInputPlacementSplitsSeparableConvolutions1D() throws {
        RandomState.seed(4)
        let x = Input(shape: [12, 3], name: "frames")
        var h = try SeparableConv1D(filters: 5, kernelSize: [3], strides: [2], padding: "same", depthMultiplier: 2,
                                    activation: "relu", name: "sep")(x)
        h = try SeparableConv1D(filters: 4, kernelSize: [2], padding: "causal", name: "causal")(h)
        let model = try Model(inputs: [x], outputs: [try Dense(units: 3, name: "logits")(try GlobalAveragePooling1D(name: "gap")(h))])
        try randomizeWeights(model, seed: 4)
        let sep = try XCTUnwrap(model.layer(named: "sep") as? SeparableConv1D)
        var options = DeltaizeOptions()
        options.placement = .macInputs
        options.thresholdInit = 1e-6
        options.clipLength = 6
        let result = try deltaize(model, options: options)
        XCTAssertEqual(result.placements.map(\.after), ["frames", "sep_depthwise", "sep", "gap"])
        let depthwise = try XCTUnwrap(result.model.layer(named: "sep_depthwise") as? DepthwiseConv1D)
        let pointwise = try XCTUnwrap(result.model.layer(named: "sep") as? Conv1D)
        XCTAssertTrue(try result.model.layer(named: "causal") is SeparableConv1D)
        XCTAssertEqual(depthwise.getWeights(), [sep.getWeights()[0]])
        XCTAssertEqual(pointwise.getWeights(), Array(sep.getWeights()[1...]))
        XCTAssertEqual([depthwise.strides, depthwise.kernelSize, pointwise.strides, pointwise.kernelSize], [[2], [3], [1], [1]])
        XCTAssertEqual([depthwise.padding, pointwise.padding], [.same, .valid])
        XCTAssertEqual([depthwise.activation.name, pointwise.activation.name], ["linear", "relu"])
        XCTAssertFalse(depthwise.useBias)
        // With a tiny step the split model predicts what the original does, and it streams frame by frame.
        let frames = Tensor(shape: [6, 12, 3], scalars: (0..<216).map { Float(($0 * 37) % 101) / 50 - 1 })
        let expected = try result.model.predictOnBatch([frames])[0]
        assertNear(expected, try model.predictOnBatch([frames])[0], tolerance: 1e-4, "split model")
        let plan = try StreamingPlan(result.model)
        XCTAssertEqual(plan.steps.filter { $0.kind.contains("layer call") }.map(\.name), [])
        let stream = plan.makeStream()
        for t in 0..<6 {
            let streamed = try stream.process([ApplicationStreamingTests.frame(frames, t)])[0]
            assertNear(streamed, ApplicationStreamingTests.frame(expected, t), tolerance: 1e-4, "frame \(t)")
        }
    }

    /// `sparsity --baseline` measures the dense model over the MAC layers the
    /// delta model's layers feed: its delta layers sit where they sit in the
    /// delta model, for either placement (the names of the previous test's
    /// derivation), with the dense model's own tiny step.
    func testBaselineModelFollowsTheDeltaModelsPlacement() throws {
        let model = try blockModel()
        for (placement, expected) in [(DeltaizeOptions.Placement.nonLinearities, ["frames_delta", "conv1_delta"]),
                                      (.macInputs, ["frames_delta", "conv1_delta", "add_delta", "pool_delta", "norm_delta"])] {
            var options = DeltaizeOptions()
            options.placement = placement
            let delta = try deltaize(model, options: options).model
            let baseline = try baselineModel(model, like: delta)
            let deltas = baseline.executionOrder.compactMap { $0.layer as? DeltaActivation }
            XCTAssertEqual(deltas.map(\.name), expected, placement.rawValue)
            XCTAssertTrue(deltas.allSatisfy { $0.stepValues.allSatisfy { $0 == DeltaActivation.stepFloor } }, placement.rawValue)
        }
    }

    func testTinyThresholdPredictsTheOriginalAndWeightsAreUntouched() throws {
        let model = try frameModel()
        let before = model.getWeights()
        var options = DeltaizeOptions()
        options.thresholdInit = 1e-5
        options.clipLength = 2
        let delta = try deltaize(model, options: options).model
        let x = seededTensor([4, 8, 8, 3], seed: 2, in: 0...255)
        let expected = try model.predictOnBatch([x])[0]
        assertNear(try delta.predictOnBatch([x])[0], expected, tolerance: 1e-4, "tiny threshold")
        XCTAssertEqual(model.getWeights(), before, "the original's weights changed")
        let copied = delta.layers.filter { !($0 is DeltaActivation) }.flatMap { $0.getWeights() }
        XCTAssertEqual(copied, before, "the delta model's weights are not the original's")
    }

    /// A pretrained base nested in a Sequential, as in transfer learning: its
    /// layers are inlined, so the delta layers go inside it too.
    func testNestedBaseIsInlined() throws {
        let x = Input(shape: [8, 8, 3], name: "image")
        var h = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", name: "conv")(x)
        h = try ReLU(name: "relu")(h)
        h = try Conv2D(filters: 6, kernelSize: [3, 3], padding: "same", activation: "relu", name: "conv_b")(h)
        let base = try Model(inputs: [x], outputs: [h], name: "base")
        let model = try Sequential([InputLayer(batchShape: [nil, 8, 8, 3], name: "frames"), base,
                                    GlobalAveragePooling2D(name: "gap"), Dense(units: 3, name: "logits")], name: "transfer")
        try randomizeWeights(model, seed: 5)
        var options = DeltaizeOptions()
        options.thresholdInit = 1e-5
        let result = try deltaize(model, options: options)
        XCTAssertEqual(result.inlinedModels, ["base"])
        XCTAssertEqual(result.placements.map { $0.after }, ["frames", "relu", "conv_b"])
        XCTAssertEqual(result.placements.map { $0.fanOut }, [3 * 3 * 4, 3 * 3 * 6, 3.0 / 64])
        XCTAssertFalse(result.model.layers.contains { $0 is Model })
        let input = seededTensor([2, 8, 8, 3], seed: 3, in: 0...1)
        assertNear(try result.model.predictOnBatch([input])[0], try model.predictOnBatch([input])[0], tolerance: 1e-4, "tiny threshold")
        XCTAssertEqual(result.model.layers.filter { !($0 is DeltaActivation) }.flatMap { $0.getWeights() }, model.getWeights())
    }

    func testOptionsReachTheLayers() throws {
        var options = DeltaizeOptions()
        options.thresholdInit = 0.3
        options.thresholdOverrides = ["relu1": 0.7, "conv2_delta": 0.9]
        options.sparsityWeight = 0.01
        options.inputDelta = false
        options.thresholdGradient = .hybrid
        options.clipLength = 4
        let result = try deltaize(try frameModel(), options: options)
        let deltas = result.model.layers.compactMap { $0 as? DeltaActivation }
        XCTAssertEqual(deltas.map { $0.name }, ["relu1_delta", "conv2_delta"])
        XCTAssertEqual(deltas.map { $0.threshold.value.scalars[0] }, [0.7, 0.9])
        XCTAssertTrue(deltas.allSatisfy { $0.sparsityWeight == 0.01 && $0.thresholdGradient == .hybrid && $0.clipLength == 4 })
        XCTAssertThrowsError(try deltaize(result.model)) { XCTAssertTrue("\($0)".contains("already holds DeltaActivation")) }
    }

    /// The time layout follows the input: an image model with a recurrent layer
    /// over its rows (a CRNN) still takes one frame per batch entry, and a
    /// sequence of feature vectors read by a GRU has its time axis.
    func testTimeLayoutFollowsTheInput() throws {
        let image = Input(shape: [6, 6, 3], name: "image")
        var h = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", activation: "relu", name: "c")(image)
        h = try Reshape(targetShape: [6, 24], name: "rows")(h)
        let crnn = try Model(inputs: [image], outputs: [try Dense(units: 2, name: "out")(try LSTM(units: 5, name: "lstm")(h))])
        XCTAssertFalse(hasExplicitTimeAxis(crnn))
        XCTAssertTrue(try deltaize(crnn).model.layers.compactMap { $0 as? DeltaActivation }.allSatisfy { $0.clipLength == 8 })

        let features = Input(shape: [5, 7], name: "features")
        let sequence = try Model(inputs: [features], outputs: [try Dense(units: 2, name: "out")(try GRU(units: 3, name: "gru")(features))])
        XCTAssertTrue(hasExplicitTimeAxis(sequence))
        let signal = Input(shape: [16, 2], name: "signal")
        let conv1d = try Model(inputs: [signal], outputs: [try Conv1D(filters: 3, kernelSize: [3], name: "c1")(signal)])
        XCTAssertFalse(hasExplicitTimeAxis(conv1d))
    }

    /// A video model with an explicit time axis gets delta layers with
    /// `clip_length` null, only where the time axis is still there.
    func testExplicitTimeModel() throws {
        let x = Input(shape: [4, 6, 6, 3], name: "clip")
        var h = try TimeDistributed(try Conv2D(filters: 4, kernelSize: [3, 3], activation: "relu", name: "c"), name: "td")(x)
        h = try TimeDistributed(try GlobalAveragePooling2D(name: "g"), name: "tdg")(h)
        h = try LSTM(units: 5, name: "lstm")(h)
        let y = try Dense(units: 2, name: "out")(h)
        let model = try Model(inputs: [x], outputs: [y])
        try randomizeWeights(model, seed: 4)
        let result = try deltaize(model)
        // The input feeds the TimeDistributed conv (3·3·4 = 36); the conv's relu output goes through
        // global pooling into the LSTM, which is no MAC layer; the LSTM's output [batch, 5] has no time axis.
        XCTAssertEqual(result.placements.map { $0.after }, ["clip"])
        XCTAssertEqual(result.placements.map { $0.fanOut }, [36])
        XCTAssertNil(result.model.layers.compactMap { $0 as? DeltaActivation }.first?.clipLength)
    }

    func testRoundTripThroughEveryFormat() throws {
        var options = DeltaizeOptions()
        options.thresholdInit = 0.05
        options.clipLength = 2
        let delta = try deltaize(try frameModel(), options: options).model
        for d in delta.layers.compactMap({ $0 as? DeltaActivation }) {
            try d.threshold.assign(seededTensor(d.threshold.shape, seed: 3, in: 0.01...0.2))
        }
        let x = seededTensor([4, 8, 8, 3], seed: 5, in: 0...255)
        let expected = try delta.predictOnBatch([x])[0]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deltaize-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for ext in ["h5", "keras"] {
            let path = folder.appendingPathComponent("d.\(ext)").path
            try KerasModelFile.save(delta, to: path)
            let loaded = try KerasModelFile.load(path).model
            XCTAssertEqual(try loaded.predictOnBatch([x])[0], expected, ext)
            let configs = loaded.layers.compactMap { $0 as? DeltaActivation }.map { $0.getConfig()["fan_out"]! }
            XCTAssertEqual(configs, [72, 36, 0.25].map { JSONValue.double($0) }, ext)
        }
        let weights = folder.appendingPathComponent("d.weights.h5").path
        try KerasModelFile.save(delta, to: weights)
        let other = try deltaize(try frameModel(), options: options).model
        try KerasModelFile.loadWeights(into: other, from: weights)
        XCTAssertEqual(try other.predictOnBatch([x])[0], expected, "weights.h5")
    }

    /// At inference a delta layer after a rectifier is quantized inside the
    /// convolution's epilogue: bit for bit what the separate layers compute.
    func testDeltaQuantizesInsideTheFusedEpilogue() throws {
        var options = DeltaizeOptions()
        options.thresholdInit = 0.02
        options.clipLength = 2
        let delta = try deltaize(try frameModel(), options: options).model
        let fusedDeltas = delta.inferenceFusion.values.compactMap { $0.delta?.name }.sorted()
        XCTAssertEqual(fusedDeltas, ["conv2_delta", "relu1_delta"])
        let x = seededTensor([4, 8, 8, 3], seed: 8, in: 0...255)
        let separate = try withoutGradient {
            try delta.runThroughGraph([x]) { node, args, _ in try node.layer(args, training: false) }
        }
        XCTAssertEqual(try delta.predictOnBatch([x])[0], separate[0])
    }
}
