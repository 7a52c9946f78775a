import Tensor

/// `keras.layers.BatchNormalization`: normalizes each channel along `axis`
/// with the batch statistics (training) or the moving statistics (inference),
/// then applies `gamma` and `beta`.
///
/// A training call of a trainable layer updates
/// `moving = moving · momentum + batch · (1 − momentum)` with the biased batch
/// variance, as Keras 3 does. For a tf-keras config the update follows tf-keras:
/// its fused kernel (rank 4 or 5 with the channel axis first or last) uses the
/// unbiased batch variance.
///
/// ```swift
/// let bn = try BatchNormalization(axis: -1, momentum: 0.99, epsilon: 0.001)
/// ```
public final class BatchNormalization: UnaryLayer {
    /// tf-keras writes the axis as a one-element list; Keras 3 needs an integer.
    public override func portableConfig(_ config: JSONObject, keras3: Bool) -> JSONObject {
        var c = config
        if keras3, let axes = c["axis"]?.arrayValue, axes.count == 1 { c["axis"] = axes[0] }
        return c
    }

    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let axis: Int
    public let momentum: Double
    public let epsilon: Double
    public var affine: AffineOptions
    public var movingMeanInitializer: Initializer
    public var movingVarianceInitializer: Initializer
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?
    public private(set) var movingMean: Variable!
    public private(set) var movingVariance: Variable!
    /// Normalize with the moving statistics in training calls too, and never
    /// update them, while `gamma` and `beta` keep training (frozen statistics
    /// for fine-tuning). A training-time option, not part of the config.
    public var freezeStatistics = false
    /// tf-keras writes `axis` as a one-element list.
    private let axisIsList: Bool
    private let keras2: Bool

    public convenience init(axis: Int = -1, momentum: Double = 0.99, epsilon: Double = 0.001,
                            center: Bool = true, scale: Bool = true, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "axis": .int(axis), "momentum": .double(momentum), "epsilon": .double(epsilon),
            "center": .bool(center), "scale": .bool(scale),
        ]))
    }

    public required init(config: LayerConfig) throws {
        let axes = try config.axisList(default: -1)
        guard axes.axes.count == 1 else { throw config.fail("axis", "a single axis (several axes are not supported)") }
        axis = axes.axes[0]
        axisIsList = axes.isList
        momentum = config.has("momentum") ? try config.double("momentum") : 0.99
        epsilon = config.has("epsilon") ? try config.double("epsilon") : 1e-3
        affine = try AffineOptions(config: config)
        func initializer(_ key: String, _ d: Initializer) throws -> Initializer {
            config.has(key) ? try Initializer(json: config[key]!, layer: config.layerName, key: key) : d
        }
        movingMeanInitializer = try initializer("moving_mean_initializer", .zeros)
        movingVarianceInitializer = try initializer("moving_variance_initializer", .ones)
        if try config.bool("renorm", default: false) { throw config.fail("renorm", "false (batch renormalization is not supported)") }
        if config.has("virtual_batch_size") { throw config.fail("virtual_batch_size", "null (ghost batches are not supported)") }
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = AxisList([axis], isList: axisIsList).json
        c["momentum"] = .double(momentum)
        c["epsilon"] = .double(epsilon)
        affine.write(to: &c)
        c["moving_mean_initializer"] = movingMeanInitializer.json
        c["moving_variance_initializer"] = movingVarianceInitializer.json
        if !keras2 {
            let keras3Defaults: [(String, JSONValue)] = [("synchronized", false), ("renorm", false),
                                                         ("renorm_clipping", .null), ("renorm_momentum", 0.99)]
            for (key, value) in keras3Defaults where c[key] == nil { c[key] = value }
        }
        return c
    }

    public override func build(inputShape: Shape) throws {
        let a = try resolveAxis(axis, rank: inputShape.count, layer: name)
        guard let channels = inputShape[a] else {
            throw LayerError.shapeMismatch(layer: name, "needs a known size on axis \(axis), got \(formatShape(inputShape))")
        }
        (gamma, beta) = try affine.addWeights(to: self, shape: [channels])
        movingMean = try addWeight(name: "moving_mean", shape: [channels], initializer: movingMeanInitializer, trainable: false)
        movingVariance = try addWeight(name: "moving_variance", shape: [channels], initializer: movingVarianceInitializer,
                                       trainable: false)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        _ = try resolveAxis(axis, rank: inputShape.count, layer: name)
        return inputShape
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let a = try resolveAxis(axis, rank: x.rank, layer: name)
        guard x.rank == builtInputShapes[0].count, x.shape[a] == movingMean.shape[0] else {
            throw LayerError.shapeMismatch(layer: name, "expects inputs of rank \(builtInputShapes[0].count) with "
                                           + "\(movingMean.shape[0]) channels on axis \(axis), got shape \(x.shape)")
        }
        let statistics = training && trainable && !freezeStatistics ? nil : (movingMean.value, movingVariance.value)
        let (y, mean, variance) = try Tensor.batchNormalized(x, axis: a, statistics: statistics, gamma: gamma?.read(),
                                                             beta: beta?.read(), epsilon: epsilon)
        if statistics == nil {
            try updateMovingStatistics(mean: mean, variance: variance, count: x.count / x.shape[a], rank: x.rank, axis: a)
        }
        return y
    }

    /// Moves the moving statistics towards the batch's, `count` values per channel.
    private func updateMovingStatistics(mean: Tensor, variance: Tensor, count: Int, rank: Int, axis a: Int) throws {
        let decay = Float(1 - momentum)
        let fused = keras2 && [4, 5].contains(rank) && (a == 1 || a == rank - 1)
        let batchVariance = fused && count > 1 ? variance * (Float(count) / Float(count - 1)) : variance
        for (v, batch) in [(movingMean!, mean), (movingVariance!, batchVariance)] {
            let old = v.value
            if !keras2 {
                try v.assign(try old * Float(momentum) + batch * decay)
            } else if fused {
                try v.assign(try old * (1 - decay) + batch * decay)  // TF's fused kernel
            } else {
                try v.assign(try old - (try old - batch) * decay)  // tf-keras's assign_moving_average
            }
        }
    }
}
