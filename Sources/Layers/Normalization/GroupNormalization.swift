import Tensor

/// `keras.layers.GroupNormalization`: splits the channels on `axis` into
/// `groups` groups and normalizes each group of each sample over its channels
/// and all other non-batch axes, then applies per-channel `gamma` and `beta`.
/// `groups = -1` (one channel per group, instance normalization) becomes the
/// channel count when the layer is built, as in Keras.
public final class GroupNormalization: UnaryLayer {
    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public private(set) var groups: Int
    public let axis: Int
    public let epsilon: Double
    public var affine: AffineOptions
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?

    public convenience init(groups: Int = 32, axis: Int = -1, epsilon: Double = 0.001, center: Bool = true,
                            scale: Bool = true, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "groups": .int(groups), "axis": .int(axis), "epsilon": .double(epsilon),
            "center": .bool(center), "scale": .bool(scale),
        ]))
    }

    public required init(config: LayerConfig) throws {
        groups = try config.int("groups", default: 32)
        guard groups > 0 || groups == -1 else { throw config.fail("groups", "a positive integer or -1") }
        axis = try config.int("axis", default: -1)
        epsilon = config.has("epsilon") ? try config.double("epsilon") : 1e-3
        affine = try AffineOptions(config: config)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["groups"] = .int(groups)
        c["axis"] = .int(axis)
        c["epsilon"] = .double(epsilon)
        affine.write(to: &c)
        return c
    }

    public override func build(inputShape: Shape) throws {
        let a = try resolveAxis(axis, rank: inputShape.count, layer: name)
        guard a > 0, let channels = inputShape[a] else {
            throw LayerError.shapeMismatch(layer: name, "needs a known non-batch axis \(axis), got \(formatShape(inputShape))")
        }
        if groups == -1 { groups = channels }
        guard groups <= channels, channels % groups == 0 else {
            throw LayerError.shapeMismatch(layer: name, "\(groups) groups do not evenly divide the \(channels) channels on axis \(axis)")
        }
        (gamma, beta) = try affine.addWeights(to: self, shape: [channels])
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        _ = try resolveAxis(axis, rank: inputShape.count, layer: name)
        return inputShape
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let a = try resolveAxis(axis, rank: x.rank, layer: name)
        guard a > 0, x.shape[a] == builtInputShapes[0][a] else {
            throw LayerError.shapeMismatch(layer: name, "expects \(builtInputShapes[0][a].map(String.init) ?? "?") channels "
                                           + "on axis \(axis), got shape \(x.shape)")
        }
        // [..., C, ...] → [..., groups, C / groups, ...]; statistics over all but the batch and group axes.
        var grouped = x.shape
        grouped.replaceSubrange(a...a, with: [groups, x.shape[a] / groups])
        let g = try x.reshaped(to: grouped)
        let (mean, variance) = try g.moments(axes: (1..<grouped.count).filter { $0 != a })
        var paramShape = [Int](repeating: 1, count: grouped.count)
        paramShape[a] = groups
        paramShape[a + 1] = x.shape[a] / groups
        let y = try g.normalized(mean: mean, variance: variance, scale: try gamma?.read().reshaped(to: paramShape),
                                 offset: try beta?.read().reshaped(to: paramShape), epsilon: epsilon)
        return try y.reshaped(to: x.shape)
    }
}

/// `keras.layers.UnitNormalization`: scales each sample to unit L2 norm over `axis`.
public final class UnitNormalization: UnaryLayer {
    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let axis: AxisList
    private let keras2: Bool

    public convenience init(axis: Int = -1, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["axis": .int(axis)]))
    }

    public required init(config: LayerConfig) throws {
        axis = try config.axisList(default: -1)
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = axis.json
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        _ = try axis.resolved(rank: inputShape.count, layer: name)
        return inputShape
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try x.l2Normalized(axes: try axis.resolved(rank: x.rank, layer: name), epsilon: 1e-12, keras2: keras2)
    }
}
