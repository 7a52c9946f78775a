import XCTest
import Tensor
import Layers

/// The delta layer against values derived by hand from DELTA_SPEC.md § The layer.
///
/// Input: 2 clips × 2 frames (frames as batch, clip_length 2), 2 channels;
/// thresholds [0.5, −0.25], so q = [0.5, 0.25]; λ = 0.5, fan_out = 2.
///
///     x/q   col 0: 0.4, 0.6, 2.5, 1.5  → round (ties to even): 0, 1, 2, 2 → y: 0, 0.5, 1, 1
///           col 1: 2.96, −3.04, 0, 4.4 → 3, −3, 0, 4                      → y: 0.75, −0.75, 0, 1
///     Δ     clip 0: [0.5, −1.5]; clip 1: [0, 1]; mean|Δ| = 3/4; loss = 0.5·2·0.75 = 0.75
///
/// Gradients of sum(y) + loss. The loss sends ±λ·fan_out/4 = ±0.25 to each
/// frame pair along sign(Δ) (0 where Δ = 0), the output path sends 1:
///     dL/dy(loss path) = [[−.25, .25], [.25, −.25], [0, −.25], [0, .25]]; dx = 1 + that (straight-through).
/// Step gradients per column, output path + loss path:
///     lsq   (r − x/q): col 0: (−.4+.4−.5+.5) + (−.25·−.4 + .25·.4) = 0.2
///                      col 1: (.04+.04+0−.4) + (.25·.04 − .25·.04 − .25·0 + .25·−.4) = −0.42
///     paper (−r):      col 0: −5 + −(.25·1) = −5.25;   col 1: −4 + −(.75+.75+0+1) = −6.5
///     hybrid (lsq out, paper loss): col 0: 0 − .25 = −0.25; col 1: −0.32 − 2.5 = −2.82
/// and d threshold = sign(threshold) · d q: column 1's threshold is negative.
final class DeltaActivationTests: XCTestCase {
    let x = Tensor(shape: [4, 2], scalars: [0.2, 0.74, 0.3, -0.76, 1.25, 0, 0.75, 1.1])

    private func layer(_ mode: DeltaActivation.ThresholdGradient) throws -> DeltaActivation {
        let d = try DeltaActivation(thresholdInit: 0.5, sparsityWeight: 0.5, fanOut: 2, clipLength: 2, thresholdGradient: mode)
        try d.buildIfNeeded([[nil, 2]])
        try d.threshold.assign(Tensor(shape: [2], scalars: [0.5, -0.25]))
        return d
    }

    private func gradients(_ mode: DeltaActivation.ThresholdGradient, penalty: DeltaActivation.Penalty = .deltas)
        throws -> (y: Tensor, loss: Float, dx: Tensor, dt: Tensor) {
        let d = try layer(mode)
        d.penalty = penalty
        let tape = GradientTape()
        let xw = tape.watch(x)
        let (y, total) = try tape.record { () throws -> (Tensor, Tensor) in
            let y = try d(xw, training: true)
            return (y, try y.sum() + d.losses[0])
        }
        let dx = try XCTUnwrap(try tape.gradient(of: total, wrt: [xw])[0])
        let dt = try XCTUnwrap(try tape.gradient(of: total, wrt: [d.threshold])[0])
        return (y, d.losses[0].scalar, dx, dt)
    }

    func testForwardQuantizesWithTiesToEven() throws {
        let y = try layer(.lsq)(x, training: false)
        XCTAssertEqual(y.scalars, [0, 0.75, 0.5, -0.75, 1, 0, 1, 1])
    }

    func testLossAndStraightThroughInputGradient() throws {
        let g = try gradients(.lsq)
        XCTAssertEqual(g.loss, 0.75, accuracy: 1e-6)
        let expected: [Float] = [0.75, 1.25, 1.25, 0.75, 1, 0.75, 1, 1.25]
        for (a, e) in zip(g.dx.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    /// The spatial baseline penalises |y|: y = [0, .75, .5, −.75, 1, 0, 1, 1], mean |y| = 5/8,
    /// loss = 0.5·2·5/8 = 0.625, and each x gets 1 + (λ·fan_out/8)·sign(y) = 1 ± 0.125.
    func testActivationPenalty() throws {
        let g = try gradients(.lsq, penalty: .activations)
        XCTAssertEqual(g.loss, 0.625, accuracy: 1e-6)
        let expected: [Float] = [1, 1.125, 1.125, 0.875, 1.125, 1, 1.125, 1.125]
        for (a, e) in zip(g.dx.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testThresholdGradientModes() throws {
        let cases: [(DeltaActivation.ThresholdGradient, [Float])] = [(.lsq, [0.2, 0.42]), (.paper, [-5.25, 6.5]), (.hybrid, [-0.25, 2.82])]
        XCTAssertEqual(cases.count, DeltaActivation.ThresholdGradient.allCases.count)
        for (mode, expected) in cases {
            let dt = try gradients(mode).dt
            XCTAssertEqual(dt.shape, [2])
            for (a, e) in zip(dt.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-5, "\(mode)") }
        }
    }

    func testNoLossAtInferenceOrForSingleFrames() throws {
        let d = try layer(.lsq)
        _ = try d(x, training: false)
        XCTAssertTrue(d.losses.isEmpty)
        let single = try DeltaActivation(clipLength: 1)
        _ = try single(x, training: true)
        XCTAssertTrue(single.losses.isEmpty)
    }

    func testFloorOfTheStep() throws {
        // |threshold| below 1e-6 quantizes to the 1e-6 grid and passes no gradient to the threshold.
        let d = try DeltaActivation(granularity: .layer, clipLength: 2)
        try d.buildIfNeeded([[nil, 2]])
        try d.threshold.assign(Tensor(shape: [1], scalars: [1e-9]))
        let tape = GradientTape()
        let y = try tape.record { try d(x, training: true).sum() }
        XCTAssertEqual(try tape.gradient(of: y, wrt: [d.threshold])[0]?.scalars, [0])
    }

    func testBatchThatSplitsAClipIsAnError() throws {
        let d = try layer(.lsq)
        let three = Tensor(shape: [3, 2], scalars: Array(x.scalars.prefix(6)))
        XCTAssertThrowsError(try d(three, training: true)) { error in
            XCTAssertTrue("\(error)".contains("batch of 3 frames is not a multiple of clip_length 2"), "\(error)")
        }
    }

    func testGranularityShapesAndConfigRoundTrip() throws {
        let shapes: [(DeltaActivation.Granularity, Int?, [Int])] = [
            (.channel, 4, [5]), (.layer, 4, [1]), (.neuron, 4, [3, 5]), (.neuron, nil, [5]), (.channel, nil, [5]),
        ]
        for (grain, clip, expected) in shapes {
            let d = try DeltaActivation(granularity: grain, clipLength: clip)
            let input: Shape = clip == nil ? [nil, 3, 5] : [nil, 3, 5]
            XCTAssertEqual(try d.thresholdShape(input), expected, "\(grain) clip \(String(describing: clip))")
        }
        let d = try DeltaActivation(thresholdInit: 0.3, granularity: .neuron, trainableThreshold: false, sparsityWeight: 0.01,
                                    fanOut: 27, clipLength: 8, thresholdGradient: .hybrid, name: "d")
        let config = d.getConfig()
        XCTAssertEqual(Set(config.keys), ["name", "trainable", "dtype", "threshold_init", "granularity", "trainable_threshold",
                                          "sparsity_weight", "fan_out", "clip_length", "threshold_gradient"])
        let back = try LayerRegistry.makeLayer(className: "DeltaActivation", registeredName: "keras_delta>DeltaActivation",
                                               config: LayerConfig(config)) as! DeltaActivation
        XCTAssertEqual(back.getConfig().serializedSorted, config.serializedSorted)
        XCTAssertTrue(LayerRegistry.type(className: "keras_delta>DeltaActivation") == DeltaActivation.self)
    }
}

private extension JSONObject {
    var serializedSorted: String { keys.sorted().map { "\($0)=\(self[$0]!.serialized())" }.joined(separator: ",") }
}

/// The delta layer against the `keras_delta` Python package in real Keras 3
/// and tf-keras (tools/gen_delta_fixtures.py): output, added loss, and the
/// gradients of the output path (`Σ y·P`) and of the loss alone, with respect
/// to the input and the threshold, in every granularity, time layout and
/// threshold-gradient mode.
final class DeltaActivationFixtureTests: XCTestCase {
    func testEveryKerasCase() throws {
        let names = try LayerCase.names("delta")
        XCTAssertEqual(names.count, 41, "tools/gen_delta_fixtures.py writes 41 cases")
        for name in names { try check(LayerCase(family: "delta", name: name)) }
    }

    private func check(_ c: LayerCase) throws {
        let label = "delta/\(c.name)"
        let config = LayerConfig(try XCTUnwrap(c.meta["config"]?.objectValue), keras2: c.meta["keras2"]?.boolValue ?? false)
        let layer = try XCTUnwrap(try LayerRegistry.makeLayer(className: try XCTUnwrap(c.meta["class_name"]?.stringValue),
                                                              registeredName: c.meta["registered_name"]?.stringValue,
                                                              config: config) as? DeltaActivation, label)
        let x = try c.array("in0"), training = c.meta["training"]?.boolValue ?? false
        try layer.buildIfNeeded([[nil] + x.shape.dropFirst().map { Optional($0) }])
        try layer.setWeights([try c.array("w0")])
        let projection = try c.array("proj0")

        let tape = GradientTape()
        let xw = tape.watch(x)
        let (y, target, loss) = try tape.record { () throws -> (Tensor, Tensor, Tensor?) in
            let y = try layer(xw, training: training)
            return (y, try (y * projection).sum(), layer.losses.isEmpty ? nil : try layer.losses.dropFirst().reduce(layer.losses[0], +))
        }
        assertClose(y, try c.array("out0"), atol: 1e-5, rtol: 1e-5, "\(label): output")
        let expectedLoss = try c.array("loss").scalars[0]
        XCTAssertEqual(loss?.scalar ?? 0, expectedLoss, accuracy: 1e-5 * (1 + Swift.abs(expectedLoss)), "\(label): loss")
        XCTAssertEqual(layer.losses.count, c.meta["loss_count"]?.intValue, "\(label): number of losses")

        let gx = try XCTUnwrap(try tape.gradient(of: target, wrt: [xw])[0], label)
        assertClose(gx, try c.array("gin0"), atol: 1e-5, rtol: 1e-5, "\(label): d(Σ y·P)/dx")
        if layer.trainableThreshold {
            let gt = try tape.gradient(of: target, wrt: [layer.threshold])[0] ?? .zeros(layer.threshold.shape)
            assertClose(gt, try c.array("gw0"), atol: 1e-5, rtol: 1e-5, "\(label): d(Σ y·P)/dthreshold")
        }
        if let loss {
            let gxLoss = try XCTUnwrap(try tape.gradient(of: loss, wrt: [xw])[0], label)
            assertClose(gxLoss, try c.array("ginloss0"), atol: 1e-5, rtol: 1e-5, "\(label): dloss/dx")
            if layer.trainableThreshold {
                let gtLoss = try tape.gradient(of: loss, wrt: [layer.threshold])[0] ?? .zeros(layer.threshold.shape)
                assertClose(gtLoss, try c.array("gwloss0"), atol: 1e-5, rtol: 1e-5, "\(label): dloss/dthreshold")
            }
        } else {
            XCTAssertEqual(try c.array("loss").scalars, [0], "\(label): Keras added a loss")
        }
    }
}
