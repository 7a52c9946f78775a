import Tensor

/// `keras.layers.GaussianNoise`: adds zero-mean normal noise of standard
/// deviation `stddev` at training time; the identity at inference.
public final class GaussianNoise: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let stddev: Double
    /// The seed as configured; draws come from ``RandomState/generator``.
    public let seed: Int?

    public convenience init(stddev: Double, seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["stddev": .double(stddev), "seed": seed.map { .int($0) } ?? .null]))
    }

    public required init(config: LayerConfig) throws {
        stddev = try config.double("stddev")
        guard stddev >= 0 else { throw config.fail("stddev", "non-negative") }
        seed = config.has("seed") ? try config.int("seed") : nil
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["stddev"] = .double(stddev)
        c["seed"] = seed.map { .int($0) } ?? .null
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, stddev > 0 else { return x }
        return try x + Tensor.randomNormal(x.shape, stddev: Float(stddev), generator: &RandomState.generator)
    }
}

/// `keras.layers.GaussianDropout`: multiplies by normal noise of mean 1 and
/// standard deviation `sqrt(rate / (1 − rate))` at training time; the identity at inference.
public final class GaussianDropout: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let rate: Double
    /// The seed as configured; draws come from ``RandomState/generator``.
    public let seed: Int?

    public convenience init(rate: Double, seed: Int? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["rate": .double(rate), "seed": seed.map { .int($0) } ?? .null]))
    }

    public required init(config: LayerConfig) throws {
        rate = try config.double("rate")
        guard rate >= 0 && rate < 1 else { throw config.fail("rate", "a number in [0, 1)") }
        seed = config.has("seed") ? try config.int("seed") : nil
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["rate"] = .double(rate)
        c["seed"] = seed.map { .int($0) } ?? .null
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return x }
        let stddev = Float((rate / (1 - rate)).squareRoot())
        return try x * Tensor.randomNormal(x.shape, mean: 1, stddev: stddev, generator: &RandomState.generator)
    }
}

/// `keras.layers.ActivityRegularization`: the identity that adds
/// `l1 · Σ|x| + l2 · Σx²` (divided by the batch size) to the layer's losses.
public final class ActivityRegularization: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let l1: Double
    public let l2: Double

    public convenience init(l1: Double = 0, l2: Double = 0, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["l1": .double(l1), "l2": .double(l2)]))
    }

    public required init(config: LayerConfig) throws {
        l1 = config.has("l1") ? try config.double("l1") : 0
        l2 = config.has("l2") ? try config.double("l2") : 0
        try super.init(config: config)
        activityRegularizer = try Regularizer(json: ["class_name": "L1L2", "config": ["l1": .double(l1), "l2": .double(l2)]],
                                              layer: name, key: "l1")
    }

    /// Keras writes `l1` and `l2` instead of the `activity_regularizer` they make.
    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["activity_regularizer"] = nil
        c["l1"] = .double(l1)
        c["l2"] = .double(l2)
        return c
    }
}
