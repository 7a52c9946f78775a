import Tensor

/// `keras.layers.ReLU`: `max_value`-capped, `threshold`-shifted rectifier with
/// slope `negative_slope` below the threshold.
///
/// ```swift
/// let relu6 = try ReLU(maxValue: 6)
/// ```
public final class ReLU: UnaryLayer {
    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let maxValue: Double?
    public let negativeSlope: Double
    public let threshold: Double

    public convenience init(maxValue: Double? = nil, negativeSlope: Double = 0, threshold: Double = 0,
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "max_value": maxValue.map { .double($0) } ?? .null,
            "negative_slope": .double(negativeSlope), "threshold": .double(threshold),
        ]))
    }

    public required init(config: LayerConfig) throws {
        maxValue = config.has("max_value") ? try config.double("max_value") : nil
        negativeSlope = config.has("negative_slope") ? try config.double("negative_slope") : 0
        threshold = config.has("threshold") ? try config.double("threshold") : 0
        if let maxValue, maxValue < 0 { throw config.fail("max_value", "non-negative or null") }
        guard negativeSlope >= 0 else { throw config.fail("negative_slope", "non-negative") }
        guard threshold >= 0 else { throw config.fail("threshold", "non-negative") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["max_value"] = maxValue.map { .double($0) } ?? .null
        c["negative_slope"] = .double(negativeSlope)
        c["threshold"] = .double(threshold)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        x.relu(negativeSlope: Float(negativeSlope), maxValue: maxValue.map { Float($0) }, threshold: Float(threshold))
    }
}

/// `keras.layers.LeakyReLU`: `x` for `x ≥ 0`, else `negative_slope · x`.
/// Reads Keras 2's `alpha` and writes back the key it read.
public final class LeakyReLU: UnaryLayer {
    /// tf-keras calls the slope `alpha`, Keras 3 `negative_slope`.
    public override func portableConfig(_ config: JSONObject, keras3: Bool) -> JSONObject {
        var c = config
        let (from, to) = keras3 ? ("alpha", "negative_slope") : ("negative_slope", "alpha")
        if let v = c[from] { c[from] = nil; c[to] = v }
        return c
    }

    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let negativeSlope: Double
    /// Whether the config names the slope `alpha` (tf-keras) rather than `negative_slope`.
    private let slopeKey: String

    public convenience init(negativeSlope: Double = 0.3, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["negative_slope": .double(negativeSlope)]))
    }

    public required init(config: LayerConfig) throws {
        slopeKey = !config.has("negative_slope") && config.has("alpha") ? "alpha" : "negative_slope"
        negativeSlope = config.has(slopeKey) ? try config.double(slopeKey) : 0.3
        guard negativeSlope >= 0 else { throw config.fail(slopeKey, "non-negative") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c[slopeKey] = .double(negativeSlope)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        x.leakyRelu(negativeSlope: Float(negativeSlope))
    }
}

/// `keras.layers.PReLU`: `relu(x) − alpha · relu(−x)` with a learned `alpha`
/// per input element, shared (size 1) along `shared_axes`.
public final class PReLU: UnaryLayer {
    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public var alphaOptions: WeightOptions
    /// Axes (1-based, batch excluded) along which `alpha` is shared.
    public let sharedAxes: [Int]?
    public private(set) var alpha: Variable!

    public convenience init(alphaInitializer: Initializer = .zeros, sharedAxes: [Int]? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "alpha_initializer": alphaInitializer.json,
            "shared_axes": sharedAxes.map { JSONValue(ints: $0) } ?? .null,
        ]))
    }

    public required init(config: LayerConfig) throws {
        alphaOptions = try WeightOptions(config: config, prefix: "alpha", defaultInitializer: .zeros)
        if let single = config["shared_axes"]?.intValue {
            sharedAxes = [single]
        } else {
            sharedAxes = config.has("shared_axes") ? try config.intList("shared_axes") : nil
        }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        alphaOptions.write(to: &c, prefix: "alpha")
        c["shared_axes"] = sharedAxes.map { JSONValue(ints: $0) } ?? .null
        return c
    }

    public override func build(inputShape: Shape) throws {
        for a in sharedAxes ?? [] where a < 1 || a >= inputShape.count {
            throw LayerError.badConfig(layer: name, "shared axis \(a) is out of range for input shape \(formatShape(inputShape))")
        }
        let shape = try inputShape.indices.dropFirst().map { i -> Int in
            if sharedAxes?.contains(i) == true { return 1 }
            guard let d = inputShape[i] else {
                throw LayerError.shapeMismatch(layer: name, "needs known sizes on unshared axes, got \(formatShape(inputShape))")
            }
            return d
        }
        alpha = try addWeight(name: "alpha", shape: shape, initializer: alphaOptions.initializer,
                              regularizer: alphaOptions.regularizer, constraint: alphaOptions.constraint)
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == alpha.shape.count + 1 else {
            throw LayerError.shapeMismatch(layer: name, "expects inputs of rank \(alpha.shape.count + 1), got shape \(x.shape)")
        }
        return try x.relu() - (try alpha.read() * (-x).relu())
    }
}

/// `keras.layers.ELU`: `x` for `x > 0`, else `alpha · (eˣ − 1)`.
public final class ELU: UnaryLayer {
    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let alpha: Double

    public convenience init(alpha: Double = 1, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["alpha": .double(alpha)]))
    }

    public required init(config: LayerConfig) throws {
        alpha = config.has("alpha") ? try config.double("alpha") : 1
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["alpha"] = .double(alpha)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor { x.elu(alpha: Float(alpha)) }
}

/// `keras.layers.Softmax` over one axis or several (the `mask` argument is not supported).
public final class Softmax: UnaryLayer {
    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let axis: AxisList

    public convenience init(axis: Int = -1, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["axis": .int(axis)]))
    }

    public required init(config: LayerConfig) throws {
        axis = try config.axisList(default: -1)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = axis.json
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let axes = try axis.resolved(rank: x.rank, layer: name)
        if axes.count == 1 { return try x.softmax(axis: axes[0]) }
        // exp(x − logsumexp(x)) over several axes; the shift does not change the gradient.
        let e = try (x - (try x.max(axes: axes, keepDims: true)).detached).exp()
        return try e / (try e.sum(axes: axes, keepDims: true))
    }
}

/// tf-keras's `ThresholdedReLU`: `x` where `x > theta`, else 0.
public final class ThresholdedReLU: UnaryLayer {
    /// A non-linearity: deltaize puts a delta layer after it.
    public override var hasNonLinearOutput: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let theta: Double

    public convenience init(theta: Double = 1, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["theta": .double(theta)]))
    }

    public required init(config: LayerConfig) throws {
        theta = config.has("theta") ? try config.double("theta") : 1
        guard theta >= 0 else { throw config.fail("theta", "non-negative") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["theta"] = .double(theta)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try x * (try Tensor.greater(x, Tensor(Float(theta))))
    }
}
