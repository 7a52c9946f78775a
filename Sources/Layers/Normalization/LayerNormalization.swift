import Tensor

/// `keras.layers.LayerNormalization`: normalizes each sample over `axis` (one
/// axis or several) with its own mean and variance, then applies `gamma` and
/// `beta` of the normalized axes' shape.
///
/// With the deprecated `rms_scaling` the layer divides by the standard
/// deviation without centering and has only `gamma`, as Keras 3 does.
public final class LayerNormalization: UnaryLayer {
    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    /// The normalized axes, sorted as Keras sorts them (negative axes stay negative).
    public let axes: [Int]
    public let epsilon: Double
    public let rmsScaling: Bool
    public var affine: AffineOptions
    public private(set) var gamma: Variable?
    public private(set) var beta: Variable?
    private let keras2: Bool

    public convenience init(axis: [Int] = [-1], epsilon: Double = 0.001, center: Bool = true, scale: Bool = true,
                            rmsScaling: Bool = false, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "axis": JSONValue(ints: axis), "epsilon": .double(epsilon), "center": .bool(center), "scale": .bool(scale),
            "rms_scaling": .bool(rmsScaling),
        ]))
    }

    public required init(config: LayerConfig) throws {
        axes = try config.axisList(default: -1).axes.sorted()
        epsilon = config.has("epsilon") ? try config.double("epsilon") : 1e-3
        rmsScaling = try config.bool("rms_scaling", default: false)
        affine = try AffineOptions(config: config)
        keras2 = config.keras2
        try super.init(config: config)
    }

    /// `axis` is written as a list, as Keras writes it once built.
    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = JSONValue(ints: axes)
        c["epsilon"] = .double(epsilon)
        if !keras2 { c["rms_scaling"] = .bool(rmsScaling) }
        affine.write(to: &c)
        return c
    }

    public override func build(inputShape: Shape) throws {
        let shape = try knownSizes(inputShape, axes: axes, layer: name)
        var options = affine
        options.scale = affine.scale || rmsScaling
        options.center = affine.center && !rmsScaling
        (gamma, beta) = try options.addWeights(to: self, shape: shape)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        _ = try axes.map { try resolveAxis($0, rank: inputShape.count, layer: name) }
        return inputShape
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let resolved = try axes.map { try resolveAxis($0, rank: x.rank, layer: name) }
        let g = try gamma.map { try $0.read().aligned(to: resolved, rank: x.rank) }
        let (mean, variance) = try x.moments(axes: resolved)
        if rmsScaling {
            let y = try x * (variance + Float(epsilon)).rsqrt()
            return try g.map { try y * $0 } ?? y
        }
        let b = try beta.map { try $0.read().aligned(to: resolved, rank: x.rank) }
        return try x.normalized(mean: mean, variance: variance, scale: g, offset: b, epsilon: epsilon)
    }
}

/// `keras.layers.RMSNormalization`: `x · rsqrt(mean(x²) + ε) · scale` over `axis`.
public final class RMSNormalization: UnaryLayer {
    public let axes: [Int]
    public let epsilon: Double
    public private(set) var scale: Variable!

    public convenience init(axis: [Int] = [-1], epsilon: Double = 1e-6, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["axis": JSONValue(ints: axis), "epsilon": .double(epsilon)]))
    }

    public required init(config: LayerConfig) throws {
        axes = try config.axisList(default: -1).axes.sorted()
        epsilon = config.has("epsilon") ? try config.double("epsilon") : 1e-6
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = JSONValue(ints: axes)
        c["epsilon"] = .double(epsilon)
        return c
    }

    public override func build(inputShape: Shape) throws {
        scale = try addWeight(name: "scale", shape: try knownSizes(inputShape, axes: axes, layer: name), initializer: .ones)
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let resolved = try axes.map { try resolveAxis($0, rank: x.rank, layer: name) }
        let meanSquare = try x.square().mean(axes: resolved, keepDims: true)
        return try (try x * (meanSquare + Float(epsilon)).rsqrt()) * scale.read().aligned(to: resolved, rank: x.rank)
    }
}

/// The sizes of `shape` on `axes`, which must be known.
func knownSizes(_ shape: Shape, axes: [Int], layer: String) throws -> [Int] {
    try axes.map {
        guard let d = shape[try resolveAxis($0, rank: shape.count, layer: layer)] else {
            throw LayerError.shapeMismatch(layer: layer, "needs a known size on axis \($0), got \(formatShape(shape))")
        }
        return d
    }
}
