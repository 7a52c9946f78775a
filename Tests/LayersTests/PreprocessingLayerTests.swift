import XCTest
import Tensor
import Layers

/// Preprocessing layers against Keras (tools/gen_layer_fixtures_preprocessing.py).
final class PreprocessingLayerTests: XCTestCase {
    func testGoldenCases() throws {
        let names = try LayerCase.names("preprocessing")
        XCTAssertGreaterThanOrEqual(names.count, 47)
        for name in names { try runLayerCase(try LayerCase(family: "preprocessing", name: name)) }
    }

    func testSwiftInitializers() throws {
        let y = try Rescaling(scale: 0.5, offset: 1)(Tensor(shape: [1, 2], scalars: [2, 4]))
        XCTAssertEqual(y.scalars, [2, 3])
        let n = try Normalization(mean: [1, 2], variance: [4, 1])
        XCTAssertEqual(try n(Tensor(shape: [1, 2], scalars: [3, 3])).scalars, [1, 1])
        XCTAssertTrue(n.weights.isEmpty)
        let resized = try Resizing(height: 4, width: 6, interpolation: .nearest)(Tensor.ones([2, 2, 3, 1]))
        XCTAssertEqual(resized.shape, [2, 4, 6, 1])
        XCTAssertEqual(try CenterCrop(height: 1, width: 2).computeOutputShape([nil, 5, 5, 3]), [nil, 1, 2, 3])
    }

    func testUnsupportedOptionsAndBadInputsAreErrors() throws {
        XCTAssertThrowsError(try Resizing(config: LayerConfig(["name": "r", "height": 2, "width": 2, "interpolation": "bicubic"]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'interpolation' must be one of [\"bilinear\", \"nearest\"] "
                           + "(the other TensorFlow methods are not supported), got \"bicubic\"")
        }
        XCTAssertThrowsError(try Resizing(config: LayerConfig(["name": "r", "height": 2, "width": 2, "antialias": true]))) { error in
            XCTAssertEqual("\(error)", "layer 'r': config key 'antialias' must be false (antialiasing is not supported), got true")
        }
        XCTAssertThrowsError(try Normalization(config: LayerConfig(["name": "n", "mean": 1.0]))) { error in
            XCTAssertEqual("\(error)", "layer 'n': config key 'variance' must be given together with 'mean', got nothing")
        }
        XCTAssertThrowsError(try Resizing(height: 2, width: 2, name: "r2")(Tensor.ones([4, 4]))) { error in
            XCTAssertEqual("\(error)", "layer 'r2': expects images of rank 3 or 4, got rank 2")
        }
        XCTAssertThrowsError(try Rescaling(config: LayerConfig(["name": "s", "scale": "big"]))) { error in
            XCTAssertEqual("\(error)", "layer 's': config key 'scale' must be a number or an array of numbers, got \"big\"")
        }
    }

    // MARK: Random augmentation

    /// Every random augmentation case (Keras 3 and tf-keras configs) is the
    /// exact identity at inference, also when rebuilt from its own config.
    func testRandomAugmentationIsTheIdentityAtInference() throws {
        let names = try LayerCase.names("preprocessing").filter { $0.hasPrefix("random_") }
        XCTAssertEqual(names.count, 20)
        var classes = Set<String>()
        for name in names {
            let c = try LayerCase(family: "preprocessing", name: name)
            let className = try XCTUnwrap(c.meta["class_name"]?.stringValue)
            classes.insert(className)
            let config = LayerConfig(try XCTUnwrap(c.meta["config"]?.objectValue), keras2: c.meta["keras2"]?.boolValue ?? false)
            let x = try c.array("in0")
            for layer in [try LayerRegistry.makeLayer(className: className, config: config),
                          try LayerRegistry.makeLayer(className: className,
                                                      config: LayerConfig(try LayerRegistry.makeLayer(className: className, config: config).getConfig(),
                                                                          keras2: config.keras2))] {
                XCTAssertEqual(try layer(x, training: false).scalars.map(\.bitPattern), x.scalars.map(\.bitPattern), name)
                XCTAssertEqual(try layer.computeOutputShapes([[nil] + x.shape.dropFirst().map { Optional($0) }]),
                               [[nil] + x.shape.dropFirst().map { Optional($0) }], name)
            }
        }
        XCTAssertEqual(classes, ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness"])
    }

    /// A batch of `n` distinct images `[n, 3, 4, 2]` with values in `[0, 1)`.
    private func images(_ n: Int, _ shape: [Int] = [3, 4, 2]) -> Tensor {
        var g = SeededGenerator(seed: 5)
        let count = n * shape.reduce(1, *)
        return Tensor(shape: [n] + shape, scalars: (0..<count).map { _ in g.nextUnitFloat() })
    }

    private func sample(_ t: Tensor, _ i: Int) throws -> Tensor {
        try t.slice(begin: [i] + [Int](repeating: 0, count: t.rank - 1), size: [1] + t.shape.dropFirst())
    }

    /// For each sample, which of `candidates` (functions of the input sample) the output sample equals exactly.
    private func matches(_ x: Tensor, _ y: Tensor, _ candidates: [(Tensor) throws -> Tensor]) throws -> [Int] {
        try (0..<x.shape[0]).map { i in
            let (xi, yi) = (try sample(x, i), try sample(y, i))
            let hits = try candidates.indices.filter { try candidates[$0](xi).scalars == yi.scalars }
            XCTAssertEqual(hits.count, 1, "sample \(i) matches exactly one candidate")
            return hits.first ?? -1
        }
    }

    func testRandomFlipFlipsWholeSamplesAboutHalfTheTime() throws {
        RandomState.seed(11)
        let x = images(200)
        let horizontal = try matches(x, try RandomFlip(mode: .horizontal)(x, training: true),
                                     [{ $0 }, { try $0.flipped(axes: [2]) }])
        XCTAssertTrue((70...130).contains(horizontal.filter { $0 == 1 }.count), "\(horizontal.filter { $0 == 1 }.count) of 200 flipped")
        let vertical = try matches(x, try RandomFlip(mode: .vertical)(x, training: true), [{ $0 }, { try $0.flipped(axes: [1]) }])
        XCTAssertTrue((70...130).contains(vertical.filter { $0 == 1 }.count))
        // Keras 3: one draw per image flips both axes together.
        let both = try matches(x, try RandomFlip()(x, training: true), [{ $0 }, { try $0.flipped(axes: [1, 2]) }])
        XCTAssertTrue((70...130).contains(both.filter { $0 == 1 }.count))
        // tf-keras: independent draws per axis, so all four outcomes occur.
        let keras2 = try RandomFlip(config: LayerConfig(["name": "f", "mode": "horizontal_and_vertical"], keras2: true))
        let outcomes = try matches(x, try keras2(x, training: true), [
            { $0 }, { try $0.flipped(axes: [2]) }, { try $0.flipped(axes: [1]) }, { try $0.flipped(axes: [1, 2]) },
        ])
        for k in 0..<4 { XCTAssertTrue((25...75).contains(outcomes.filter { $0 == k }.count), "outcome \(k)") }
        // Channels first: the height and width are the last two axes.
        let cf = try RandomFlip(config: LayerConfig(["name": "cf", "mode": "horizontal", "data_format": "channels_first"]))
        let xf = images(50, [2, 3, 4])
        XCTAssertTrue(try matches(xf, try cf(xf, training: true), [{ $0 }, { try $0.flipped(axes: [3]) }]).contains(1))
        // One image: flipped or not as a whole.
        let one = try images(1, [3, 4, 2]).reshaped(to: [3, 4, 2])
        let flips = try (0..<20).map { _ in try RandomFlip(mode: .horizontal)(one, training: true) }
        XCTAssertTrue(flips.allSatisfy { $0.scalars == one.scalars || $0.scalars == (try? one.flipped(axes: [1]).scalars) })
        XCTAssertTrue(flips.contains { $0.scalars != one.scalars })
    }

    func testRandomAugmentationDrawsFromTheSeededGenerator() throws {
        let x = images(8)
        for layer: Layer in [try RandomFlip(), try RandomContrast(factor: (0.5, 0.5), valueRange: (0, 1)),
                             try RandomBrightness(factor: (-0.5, 0.5), valueRange: (0, 1))] {
            RandomState.seed(3)
            let a = try layer(x, training: true)
            RandomState.seed(3)
            XCTAssertEqual(try layer(x, training: true).scalars, a.scalars, layer.name)
            XCTAssertNotEqual(try layer(x, training: true).scalars, a.scalars, layer.name)
        }
    }

    /// Contrast keeps each image's per-channel mean and scales deviations from
    /// it by one factor per image, in `[1 − lower, 1 + upper]`.
    func testRandomContrastKeepsTheMeanAndScalesDeviations() throws {
        RandomState.seed(4)
        let x = images(40)
        let layer = try RandomContrast(factor: (0.2, 0.5), valueRange: (-100, 100))
        let y = try layer(x, training: true)
        assertClose(try y.mean(axes: [1, 2]), try x.mean(axes: [1, 2]), atol: 1e-5, rtol: 1e-5, "per-image channel means")
        let mean = try x.mean(axes: [1, 2], keepDims: true)
        let ratio = try (y - mean) / (x - mean)
        var factors: [Float] = []
        for i in 0..<40 {
            let r = try sample(ratio, i).scalars
            XCTAssertLessThan(r.max()! - r.min()!, 1e-3, "one factor per image")
            factors.append(r[0])
        }
        XCTAssertGreaterThanOrEqual(factors.min()!, 0.8 - 1e-3)
        XCTAssertLessThanOrEqual(factors.max()!, 1.5 + 1e-3)
        XCTAssertGreaterThan(factors.max()! - factors.min()!, 0.3, "factors spread over the range")
        // tf-keras: one factor for the whole batch, `factor` 0.3 meaning [0.7, 1.3].
        let keras2 = try RandomContrast(config: LayerConfig(["name": "c2", "factor": 0.3], keras2: true))
        XCTAssertTrue(keras2.factor == (0.3, 0.3))
        let y2 = try keras2(try x * 100, training: true)
        let r2 = try ((y2 - (try mean * 100)) / (try (x - mean) * 100)).scalars
        XCTAssertLessThan(r2.max()! - r2.min()!, 1e-3)
        XCTAssertTrue((0.7 - 1e-3 ... 1.3 + 1e-3).contains(r2[0]))
        // Keras 3 reads a number f as [0, f].
        XCTAssertTrue(try RandomContrast(config: LayerConfig(["name": "c3", "factor": 0.3])).factor == (0, 0.3))
    }

    func testRandomContrastAndBrightnessClipToValueRange() throws {
        RandomState.seed(5)
        let x = images(20)
        let contrast = try RandomContrast(factor: (0, 1), valueRange: (0.2, 0.8))(x, training: true).scalars
        XCTAssertTrue(contrast.allSatisfy { (0.2...0.8).contains($0) })
        XCTAssertTrue(contrast.contains(0.2) && contrast.contains(0.8))
        let brightness = try RandomBrightness(factor: (-1, 1), valueRange: (1, 0))(x, training: true).scalars
        XCTAssertTrue(brightness.allSatisfy { (0...1).contains($0) })
        XCTAssertTrue(brightness.contains(0) && brightness.contains(1))
    }

    /// Brightness adds one delta per image, `d · (high − low)` with `d` in `factor`.
    func testRandomBrightnessShiftsEachImageByOneDelta() throws {
        RandomState.seed(6)
        let x = images(40)
        let layer = try RandomBrightness(config: LayerConfig(["name": "b", "factor": 0.25, "value_range": [-10, 10]]))
        XCTAssertTrue(layer.factor == (-0.25, 0.25))
        let d = try layer(x, training: true) - x
        var deltas: [Float] = []
        for i in 0..<40 {
            let s = try sample(d, i).scalars
            XCTAssertLessThan(s.max()! - s.min()!, 1e-5, "one delta per image")
            deltas.append(s[0])
        }
        XCTAssertGreaterThanOrEqual(deltas.min()!, -5 - 1e-4)
        XCTAssertLessThanOrEqual(deltas.max()!, 5 + 1e-4)
        XCTAssertTrue(deltas.contains { $0 < -2 } && deltas.contains { $0 > 2 })
    }

    func testTrainingThroughGeometricAugmentationIsAnError() throws {
        let x = images(2)
        for (className, config) in [("RandomRotation", ["name": "rot", "factor": 0.2] as JSONObject),
                                    ("RandomZoom", ["name": "zoom", "height_factor": 0.2]),
                                    ("RandomTranslation", ["name": "shift", "height_factor": 0.1, "width_factor": 0.1])] {
            let layer = try LayerRegistry.makeLayer(className: className, config: LayerConfig(config))
            XCTAssertEqual(try layer(x, training: false).scalars, x.scalars)
            XCTAssertThrowsError(try layer(x, training: true)) { error in
                XCTAssertEqual("\(error)", "layer '\(layer.name)': \(className): training through this layer is not supported "
                               + "(inference, the identity, is)")
            }
        }
        XCTAssertThrowsError(try RandomFlip(config: LayerConfig(["name": "f", "mode": "diagonal"]))) { error in
            XCTAssertEqual("\(error)", "layer 'f': config key 'mode' must be one of [\"horizontal\", \"vertical\", "
                           + "\"horizontal_and_vertical\"], got \"diagonal\"")
        }
        XCTAssertThrowsError(try RandomContrast(config: LayerConfig(["name": "c", "factor": [0.1, 0.2, 0.3]]))) { error in
            XCTAssertEqual("\(error)", "layer 'c': config key 'factor' must be a number or a list of two numbers, got [0.1, 0.2, 0.3]")
        }
        XCTAssertThrowsError(try RandomFlip()(Tensor.ones([4, 4]), training: true))
    }
}
