import Tensor

/// 1 with probability `1 − rate`, else 0, drawn from ``RandomState/generator``
/// (`uniform ≥ rate`, as `tf.nn.dropout` keeps units).
func keepMask(_ shape: [Int], rate: Double) -> Tensor {
    let r = Float(rate)
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<n).map { _ in RandomState.generator.nextUnitFloat() >= r ? 1 : 0 })
}

/// The base of the dropout layers: `rate`, `noise_shape` and `seed`, and the
/// training-time masking. Units sharing a position along axes where the mask
/// shape is 1 are dropped together.
public class BaseDropout: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let rate: Double
    /// The mask shape; `nil` entries take the input's size (`nil` for the whole input).
    public let noiseShape: Shape?
    /// The seed as configured; draws come from ``RandomState/generator``.
    public let seed: Int?
    /// Whether the config was written by tf-keras, whose key sets differ for some subclasses.
    let keras2: Bool

    /// The config of the Swift initializers.
    static func values(rate: Double, noiseShape: Shape?, seed: Int?) -> JSONObject {
        ["rate": .double(rate), "noise_shape": noiseShape.map { JSONValue(shape: $0) } ?? .null, "seed": seed.map { .int($0) } ?? .null]
    }

    public required init(config: LayerConfig) throws {
        rate = try config.double("rate")
        guard (0...1).contains(rate) else { throw config.fail("rate", "a number between 0 and 1") }
        noiseShape = config.has("noise_shape") ? try config.shape("noise_shape") : nil
        if let noiseShape, noiseShape.contains(0) { throw config.fail("noise_shape", "positive sizes or nulls") }
        seed = config.has("seed") ? try config.int("seed") : nil
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["rate"] = .double(rate)
        c["noise_shape"] = noiseShape.map { JSONValue(shape: $0) } ?? .null
        c["seed"] = seed.map { .int($0) } ?? .null
        return c
    }

    /// The shape of the keep mask for an input of `shape`.
    func maskShape(for shape: [Int]) throws -> [Int] {
        guard let noiseShape else { return shape }
        guard noiseShape.count == shape.count else {
            throw LayerError.shapeMismatch(layer: name, "noise_shape \(formatShape(noiseShape)) does not match the rank of input shape \(shape)")
        }
        return try zip(noiseShape, shape).map { n, d in
            guard let n else { return d }
            guard n == 1 || n == d else {
                throw LayerError.shapeMismatch(layer: name, "noise_shape \(formatShape(noiseShape)) does not broadcast to input shape \(shape)")
            }
            return n
        }
    }

    /// Applies a 0/1 keep mask (of ``maskShape(for:)``) to `x`; `rate` 1 drops everything.
    func drop(_ x: Tensor, keep: Tensor) throws -> Tensor {
        rate < 1 ? try x * (keep / Float(1 - rate)) : x * 0
    }

    public final override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return x }
        return try drop(x, keep: keepMask(try maskShape(for: x.shape), rate: rate))
    }
}

/// `keras.layers.Dropout`: at training time zeroes units with probability
/// `rate` and scales the kept ones by `1 / (1 − rate)`; the identity at inference.
///
/// ```swift
/// let dropout = try Dropout(rate: 0.5)
/// let y = try dropout(x, training: true)
/// ```
public final class Dropout: BaseDropout {
    public convenience init(rate: Double, noiseShape: Shape? = nil, seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, Self.values(rate: rate, noiseShape: noiseShape, seed: seed)))
    }
}

/// The base of `SpatialDropout1D/2D/3D`: drops whole channels, one mask value
/// per sample and channel.
public class SpatialDropout: BaseDropout {
    /// The number of spatial axes.
    class var spatialRank: Int { preconditionFailure("\(self) must override spatialRank") }
    /// Whether the channels come first (`data_format="channels_first"`).
    public let channelsFirst: Bool

    public convenience init(rate: Double, dataFormat: String = "channels_last", seed: Int? = nil, name: String? = nil) throws {
        var values = Self.values(rate: rate, noiseShape: nil, seed: seed)
        if Self.spatialRank > 1 { values["data_format"] = .string(dataFormat) }
        try self.init(config: Self.swiftConfig(name: name, values))
    }

    public required init(config: LayerConfig) throws {
        channelsFirst = try config.choice("data_format", ["channels_last", "channels_first"], default: "channels_last") == "channels_first"
        try super.init(config: config)
    }

    /// Keras 3 writes only `rate`, `seed`, `name`, `dtype` and (2D/3D) `data_format`.
    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        guard !keras2 else { return c }
        c["noise_shape"] = nil
        c["trainable"] = nil
        if Self.spatialRank > 1 { c["data_format"] = .string(channelsFirst ? "channels_first" : "channels_last") }
        return c
    }

    public override func build(inputShape: Shape) throws {
        try requireRank(inputShape, Self.spatialRank + 2)
    }

    override func maskShape(for shape: [Int]) throws -> [Int] {
        try requireRank(shape.map { Optional($0) }, Self.spatialRank + 2)
        let channelAxis = channelsFirst ? 1 : shape.count - 1
        return shape.indices.map { $0 == 0 || $0 == channelAxis ? shape[$0] : 1 }
    }
}

/// `keras.layers.SpatialDropout1D` over `[batch, steps, channels]`.
public final class SpatialDropout1D: SpatialDropout {
    override class var spatialRank: Int { 1 }
}

/// `keras.layers.SpatialDropout2D` over `[batch, height, width, channels]`.
public final class SpatialDropout2D: SpatialDropout {
    override class var spatialRank: Int { 2 }
}

/// `keras.layers.SpatialDropout3D` over `[batch, depth, height, width, channels]`.
public final class SpatialDropout3D: SpatialDropout {
    override class var spatialRank: Int { 3 }
}

/// `keras.layers.AlphaDropout`: sets dropped units to SELU's negative
/// saturation value, then applies the affine map that keeps the mean and
/// variance of SELU activations.
public final class AlphaDropout: BaseDropout {
    public convenience init(rate: Double, noiseShape: Shape? = nil, seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, Self.values(rate: rate, noiseShape: noiseShape, seed: seed)))
    }

    /// tf-keras writes no `noise_shape` for this layer.
    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        if keras2 { c["noise_shape"] = nil }
        return c
    }

    override func drop(_ x: Tensor, keep: Tensor) throws -> Tensor {
        let alphaP = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
        let a = 1 / ((1 - rate) * (1 + rate * alphaP * alphaP)).squareRoot()
        let b = -a * alphaP * rate
        let kept = try (try x * keep) + (1 - keep) * Float(alphaP)
        return kept * Float(a) + Float(b)
    }
}
