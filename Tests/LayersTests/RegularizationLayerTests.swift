import XCTest
import Tensor
import Layers

/// Regularization layers: the identity at inference against Keras
/// (tools/gen_layer_fixtures_regularization.py), and the training-time noise
/// statistically, since TensorFlow's random numbers cannot be reproduced.
final class RegularizationLayerTests: XCTestCase {
    override func setUp() { RandomState.seed(42) }

    func testGoldenCases() throws {
        let names = try LayerCase.names("regularization")
        XCTAssertGreaterThanOrEqual(names.count, 17)
        for name in names { try runLayerCase(try LayerCase(family: "regularization", name: name)) }
    }

    func testDropoutKeepsTheMeanAndScalesKeptUnits() throws {
        let y = try Dropout(rate: 0.3)(Tensor.ones([200, 100]), training: true)
        let kept = y.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        XCTAssertEqual(Float(kept.count) / Float(y.count), 0.7, accuracy: 0.02)
        XCTAssertEqual(y.scalars.reduce(0, +) / Float(y.count), 1, accuracy: 0.03)
    }

    func testDropoutGradientIsTheScaledMask() throws {
        let tape = GradientTape()
        let x = tape.watch(Tensor.ones([50, 20]))
        let y = try Dropout(rate: 0.5)(x, training: true)
        let g = try XCTUnwrap(try tape.gradient(of: try y.sum(), wrt: [x])[0])
        XCTAssertEqual(g.scalars, y.scalars)
    }

    func testDropoutNoiseShapeSharesTheMask() throws {
        let y = try Dropout(rate: 0.5, noiseShape: [nil, 1, 8])(Tensor.ones([4, 5, 8]), training: true)
        for b in 0..<4 {
            let rows = (0..<5).map { t in Array(y.scalars[(b * 5 + t) * 8..<(b * 5 + t + 1) * 8]) }
            XCTAssertTrue(rows.allSatisfy { $0 == rows[0] })
        }
    }

    func testRateOneDropsEverything() throws {
        XCTAssertEqual(try Dropout(rate: 1)(Tensor.ones([3, 4]), training: true).scalars, [Float](repeating: 0, count: 12))
    }

    func testSpatialDropoutDropsWholeChannels() throws {
        for (layer, shape, channelsLast) in [
            (try SpatialDropout1D(rate: 0.5) as BaseDropout, [8, 6, 5], true),
            (try SpatialDropout2D(rate: 0.5), [8, 3, 4, 5], true),
            (try SpatialDropout2D(rate: 0.5, dataFormat: "channels_first"), [8, 5, 3, 4], false),
            (try SpatialDropout3D(rate: 0.5), [4, 2, 2, 3, 5], true),
        ] {
            let y = try layer(Tensor.ones(shape), training: true)
            let channels = channelsLast ? shape.last! : shape[1]
            let positions = shape.dropFirst().reduce(1, *) / channels
            var zeroChannels = 0
            for b in 0..<shape[0] {
                for c in 0..<channels {
                    let values = (0..<positions).map { p -> Float in
                        let i: Int = channelsLast ? (b * positions + p) * channels + c : (b * channels + c) * positions + p
                        return y.scalars[i]
                    }
                    XCTAssertTrue(values.allSatisfy { $0 == values[0] } && [0, 2].contains(values[0]), "\(layer.name): \(values)")
                    if values[0] == 0 { zeroChannels += 1 }
                }
            }
            XCTAssertGreaterThan(zeroChannels, 0, layer.name)
            XCTAssertLessThan(zeroChannels, shape[0] * channels, layer.name)
        }
    }

    func testGaussianNoiseAddsNoiseOfTheGivenStddev() throws {
        let y = try GaussianNoise(stddev: 0.5)(Tensor.ones([100, 100]), training: true)
        let (mean, std) = moments(y.scalars)
        XCTAssertEqual(mean, 1, accuracy: 0.02)
        XCTAssertEqual(std, 0.5, accuracy: 0.02)
    }

    func testGaussianDropoutMultipliesByUnitMeanNoise() throws {
        let y = try GaussianDropout(rate: 0.2)(Tensor(repeating: 2, shape: [100, 100]), training: true)
        let (mean, std) = moments(y.scalars)
        XCTAssertEqual(mean, 2, accuracy: 0.03)
        XCTAssertEqual(std, 2 * (0.2 / 0.8).squareRoot(), accuracy: 0.03)
    }

    func testAlphaDropoutKeepsZeroMeanUnitVariance() throws {
        let x = Tensor.randomNormal([200, 100], generator: &RandomState.generator)
        let y = try AlphaDropout(rate: 0.2)(x, training: true)
        let (mean, std) = moments(y.scalars)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(std, 1, accuracy: 0.03)
        // Dropped units all take the same value a·α′ + b.
        let alphaP = -1.6732632423543772 * 1.0507009873554805
        let a = 1 / ((0.8 * (1 + 0.2 * alphaP * alphaP)).squareRoot())
        let dropped = Float(a * alphaP - a * alphaP * 0.2)
        let count = y.scalars.filter { abs($0 - dropped) < 1e-5 }.count
        XCTAssertEqual(Float(count) / Float(y.count), 0.2, accuracy: 0.02)
    }

    func testTheSeedMakesDrawsReproducible() throws {
        let layer = try Dropout(rate: 0.5)
        RandomState.seed(7)
        let a = try layer(Tensor.ones([10, 10]), training: true)
        RandomState.seed(7)
        let b = try layer(Tensor.ones([10, 10]), training: true)
        XCTAssertEqual(a, b)
    }

    func testActivityRegularizationAddsItsLossPerSample() throws {
        let layer = try ActivityRegularization(l1: 0.5, l2: 0.25)
        _ = try layer(Tensor(shape: [2, 2], scalars: [1, -2, 3, 0]))
        XCTAssertEqual(layer.losses[0].scalar, (0.5 * 6 + 0.25 * 14) / 2, accuracy: 1e-6)
        XCTAssertNil(layer.getConfig()["activity_regularizer"])
    }

    func testBadConfigsAndInputs() throws {
        XCTAssertThrowsError(try Dropout(rate: 1.5, name: "d")) { error in
            XCTAssertEqual("\(error)", "layer 'd': config key 'rate' must be a number between 0 and 1, got 1.5")
        }
        XCTAssertThrowsError(try SpatialDropout2D(rate: 0.5, name: "s")(Tensor.ones([2, 3, 4]), training: true)) { error in
            XCTAssertEqual("\(error)", "layer 's': expects an input of rank 4, got shape (2, 3, 4)")
        }
        XCTAssertThrowsError(try Dropout(rate: 0.5, noiseShape: [nil, 3], name: "n")(Tensor.ones([2, 4]), training: true)) { error in
            XCTAssertEqual("\(error)", "layer 'n': noise_shape (None, 3) does not broadcast to input shape [2, 4]")
        }
    }

    private func moments(_ v: [Float]) -> (Float, Float) {
        let mean = v.reduce(0, +) / Float(v.count)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(v.count)
        return (mean, variance.squareRoot())
    }
}
