import Tensor

/// The base of the random image-augmentation layers: inputs
/// `[batch, height, width, channels]` or one image `[height, width, channels]`
/// (channels first with `data_format="channels_first"`), transformed only when
/// training and passed through unchanged at inference, as in Keras. Random
/// draws come from ``RandomState/generator``, so they cannot match Keras's.
public class RandomImageLayer: UnaryLayer {
    public let channelsFirst: Bool
    /// The seed as configured; draws come from ``RandomState/generator``.
    public let seed: Int?
    /// Whether the config was written by tf-keras, which writes no `data_format`
    /// and whose formulas differ in places.
    let keras2: Bool

    public required init(config: LayerConfig) throws {
        channelsFirst = try config.choice("data_format", ["channels_last", "channels_first"], default: "channels_last")
            == "channels_first"
        seed = config.has("seed") ? try config.int("seed") : nil
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        if !keras2 { c["data_format"] = .string(channelsFirst ? "channels_first" : "channels_last") }
        c["seed"] = seed.map { .int($0) } ?? .null
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training else { return x }
        guard x.rank == 3 || x.rank == 4 else {
            throw LayerError.shapeMismatch(layer: name, "expects images of rank 3 or 4, got rank \(x.rank)")
        }
        return try augment(x)
    }

    /// Transforms a batch or one image at training time.
    func augment(_ images: Tensor) throws -> Tensor { preconditionFailure("\(Self.self) must override augment") }

    /// The height and width axes of images of `rank`.
    func spatialAxes(_ rank: Int) -> (height: Int, width: Int) {
        channelsFirst ? (rank - 2, rank - 1) : (rank - 3, rank - 2)
    }

    /// One uniform draw in `[low, high)` per image (one for an unbatched
    /// image), shaped to broadcast against the images.
    func perImageUniform(_ images: Tensor, _ low: Double, _ high: Double) -> Tensor {
        let n = images.rank == 4 ? images.shape[0] : 1
        let values = (0..<n).map { _ in Float(low) + Float(high - low) * RandomState.generator.nextUnitFloat() }
        return Tensor(shape: images.rank == 4 ? [n, 1, 1, 1] : [1, 1, 1], scalars: values)
    }
}

/// A factor config value as `(lower, upper)`: a list of two numbers (sorted),
/// or one number `f`, read as `single(f)`.
func factorRange(_ config: LayerConfig, _ key: String,
                 single: (Double) -> (Double, Double)) throws -> (lower: Double, upper: Double) {
    if let f = config[key]?.doubleValue { return single(f) }
    guard let items = config[key]?.arrayValue, items.count == 2,
          let a = items[0].doubleValue, let b = items[1].doubleValue else {
        throw config.fail(key, "a number or a list of two numbers")
    }
    return (Swift.min(a, b), Swift.max(a, b))
}

/// A `value_range` config value: two numbers, in the order written.
func readValueRange(_ config: LayerConfig) throws -> (Double, Double) {
    guard config.has("value_range") else { return (0, 255) }
    guard let items = config["value_range"]?.arrayValue, items.count == 2,
          let low = items[0].doubleValue, let high = items[1].doubleValue else {
        throw config.fail("value_range", "a list of two numbers")
    }
    return (low, high)
}

/// `keras.layers.RandomFlip`: at training time flips each image left–right
/// (`"horizontal"`), upside down (`"vertical"`) or, with
/// `"horizontal_and_vertical"`, both, each with probability 1/2. Keras 3 draws
/// one flag per image for both axes; tf-keras draws one per axis.
public final class RandomFlip: RandomImageLayer {
    public enum Mode: String, CaseIterable, Sendable {
        case horizontal, vertical
        case horizontalAndVertical = "horizontal_and_vertical"
    }

    public let mode: Mode

    public convenience init(mode: Mode = .horizontalAndVertical, seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["mode": .string(mode.rawValue), "seed": seed.map { .int($0) } ?? .null]))
    }

    public required init(config: LayerConfig) throws {
        let mode = try config.string("mode", default: Mode.horizontalAndVertical.rawValue)
        guard let m = Mode(rawValue: mode) else { throw config.fail("mode", "one of \(Mode.allCases.map { $0.rawValue })") }
        self.mode = m
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["mode"] = .string(mode.rawValue)
        return c
    }

    override func augment(_ images: Tensor) throws -> Tensor {
        let (h, w) = spatialAxes(images.rank)
        switch mode {
        case .horizontal: return try flipSome(images, axes: [w])
        case .vertical: return try flipSome(images, axes: [h])
        case .horizontalAndVertical:
            if keras2 { return try flipSome(try flipSome(images, axes: [w]), axes: [h]) }
            return try flipSome(images, axes: [h, w])
        }
    }

    /// Flips along `axes` each image whose uniform draw is at most 1/2, as Keras does.
    private func flipSome(_ images: Tensor, axes: [Int]) throws -> Tensor {
        let n = images.rank == 4 ? images.shape[0] : 1
        let flips = (0..<n).map { _ in RandomState.generator.nextUnitFloat() <= 0.5 }
        guard flips.contains(true) else { return images }
        let flipped = try images.flipped(axes: axes)
        guard images.rank == 4 else { return flipped }
        return try Tensor.concatenate([images, flipped], axis: 0)
            .gather(flips.enumerated().map { $1 ? n + $0 : $0 }, axis: 0)
    }
}

/// The base of the intensity augmentations: a `factor` range and a
/// `value_range` to clip to, both written back as Keras wrote them.
public class RandomIntensityLayer: RandomImageLayer {
    /// `factor` and `value_range` as written.
    public let factorValue: JSONValue
    public let valueRangeValue: JSONValue?
    public let factor: (lower: Double, upper: Double)
    public let valueRange: (Double, Double)

    public convenience init(factor: (lower: Double, upper: Double), valueRange: (Double, Double) = (0, 255),
                            seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "factor": [.double(factor.lower), .double(factor.upper)],
            "value_range": [.double(valueRange.0), .double(valueRange.1)], "seed": seed.map { .int($0) } ?? .null,
        ]))
    }

    public required init(config: LayerConfig) throws {
        factorValue = config["factor"] ?? .null
        valueRangeValue = config["value_range"]
        factor = try Self.factor(config)
        valueRange = try Self.valueRange(config)
        try super.init(config: config)
    }

    /// The `factor` range this layer reads from `config`.
    class func factor(_ config: LayerConfig) throws -> (lower: Double, upper: Double) {
        preconditionFailure("\(self) must override factor(_:)")
    }

    /// The range outputs are clipped to.
    class func valueRange(_ config: LayerConfig) throws -> (Double, Double) { try readValueRange(config) }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["factor"] = factorValue
        if let valueRangeValue { c["value_range"] = valueRangeValue }
        return c
    }
}

/// `keras.layers.RandomContrast`: at training time
/// `(x − mean) · c + mean`, with `mean` per image and channel over height and
/// width and `c` uniform in `[1 − lower, 1 + upper]` of `factor`, then clipped
/// to `value_range`. Keras 3 draws `c` per image and reads a number `f` as
/// `[0, f]`; tf-keras draws one `c` per batch, reads `f` as `[f, f]` and clips
/// to `[0, 255]`.
public final class RandomContrast: RandomIntensityLayer {
    override class func factor(_ config: LayerConfig) throws -> (lower: Double, upper: Double) {
        let factor = try factorRange(config, "factor") { f in config.keras2 ? (f, f) : (0, Swift.abs(f)) }
        guard factor.lower <= 1 else { throw config.fail("factor", "at most 1 in its lower bound (a non-negative contrast)") }
        return factor
    }

    override class func valueRange(_ config: LayerConfig) throws -> (Double, Double) {
        config.keras2 ? (0, 255) : try readValueRange(config)
    }

    override func augment(_ images: Tensor) throws -> Tensor {
        let (h, w) = spatialAxes(images.rank)
        let (low, high) = (1 - factor.lower, 1 + factor.upper)
        let c = keras2 ? Tensor(shape: [], scalars: [Float(low) + Float(high - low) * RandomState.generator.nextUnitFloat()])
            : perImageUniform(images, low, high)
        let mean = try images.mean(axes: [h, w], keepDims: true)
        return try ((images - mean) * c + mean).clip(Float(valueRange.0), Float(valueRange.1))
    }
}

/// `keras.layers.RandomBrightness`: at training time adds to each image
/// `d · (high − low)` of `value_range` (sorted), with `d` uniform in `factor`
/// (a number `f` means `[−f, f]`), then clips to `value_range`.
public final class RandomBrightness: RandomIntensityLayer {
    override class func factor(_ config: LayerConfig) throws -> (lower: Double, upper: Double) {
        let factor = try factorRange(config, "factor") { f in (-Swift.abs(f), Swift.abs(f)) }
        guard factor.lower >= -1, factor.upper <= 1 else { throw config.fail("factor", "within [-1, 1]") }
        return factor
    }

    override class func valueRange(_ config: LayerConfig) throws -> (Double, Double) {
        let (a, b) = try readValueRange(config)
        return (Swift.min(a, b), Swift.max(a, b))
    }

    override func augment(_ images: Tensor) throws -> Tensor {
        let delta = try perImageUniform(images, factor.lower, factor.upper) * Float(valueRange.1 - valueRange.0)
        return try (images + delta).clip(Float(valueRange.0), Float(valueRange.1))
    }
}

/// The base of the geometric augmentation layers (rotation, zoom,
/// translation): their configs load and inference is the identity; training
/// through them is not supported and throws.
public class RandomGeometricLayer: RandomImageLayer {
    /// `"reflect"`, `"wrap"`, `"constant"` or `"nearest"`.
    public let fillMode: String
    public let fillValue: Double
    public let interpolation: String

    public required init(config: LayerConfig) throws {
        fillMode = try config.choice("fill_mode", ["reflect", "wrap", "constant", "nearest"], default: "reflect")
        fillValue = config.has("fill_value") ? try config.double("fill_value") : 0
        interpolation = try config.string("interpolation", default: "bilinear")
        try super.init(config: config)
    }

    override func augment(_ images: Tensor) throws -> Tensor {
        throw LayerError.badConfig(layer: name, "\(Self.className): training through this layer is not supported "
                                   + "(inference, the identity, is)")
    }
}

/// `keras.layers.RandomRotation`: rotates by a random fraction of a full turn
/// in `factor` at training time (not supported here); the identity at inference.
public final class RandomRotation: RandomGeometricLayer {
    public let factor: (lower: Double, upper: Double)

    public required init(config: LayerConfig) throws {
        factor = try factorRange(config, "factor") { f in (-Swift.abs(f), Swift.abs(f)) }
        try super.init(config: config)
    }
}

/// `keras.layers.RandomZoom`: zooms by random fractions in `height_factor` and
/// `width_factor` (the height's when null) at training time (not supported
/// here); the identity at inference.
public final class RandomZoom: RandomGeometricLayer {
    public let heightFactor: (lower: Double, upper: Double)
    public let widthFactor: (lower: Double, upper: Double)?

    public required init(config: LayerConfig) throws {
        heightFactor = try factorRange(config, "height_factor") { f in (-f, f) }
        widthFactor = config.has("width_factor") ? try factorRange(config, "width_factor") { f in (-f, f) } : nil
        try super.init(config: config)
    }
}

/// `keras.layers.RandomTranslation`: shifts by random fractions of the height
/// and width in `height_factor` and `width_factor` at training time (not
/// supported here); the identity at inference.
public final class RandomTranslation: RandomGeometricLayer {
    public let heightFactor: (lower: Double, upper: Double)
    public let widthFactor: (lower: Double, upper: Double)

    public required init(config: LayerConfig) throws {
        heightFactor = try factorRange(config, "height_factor") { f in (-f, f) }
        widthFactor = try factorRange(config, "width_factor") { f in (-f, f) }
        try super.init(config: config)
    }
}
