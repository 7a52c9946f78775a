import Tensor

/// `keras.layers.Normalization`: `(x − mean) / max(sqrt(variance), 1e-7)` with
/// one mean and variance per position of the kept `axis` (or the inverse with
/// `invert`). The statistics are either the `mean` and `variance` config values
/// or the `mean`, `variance` and `count` weights that `adapt` fills in Keras.
public final class Normalization: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    /// The kept axes as written (an empty list normalizes with scalars).
    public let axes: [Int]
    public let invert: Bool
    /// The `mean` and `variance` config values, when the statistics are given there.
    public let givenMean: JSONValue?
    public let givenVariance: JSONValue?
    public private(set) var mean: Variable?
    public private(set) var variance: Variable?
    public private(set) var count: Variable?
    /// The input shape with the reduced axes set to 1.
    private var broadcastShape: [Int] = []
    /// The given statistics broadcast to ``broadcastShape``.
    private var constants: (mean: Tensor, variance: Tensor)?

    public convenience init(axis: [Int] = [-1], mean: [Double]? = nil, variance: [Double]? = nil, invert: Bool = false,
                            name: String? = nil) throws {
        let list = { (v: [Double]?) in v.map { JSONValue.array($0.map { .double($0) }) } ?? .null }
        try self.init(config: Self.swiftConfig(name: name, [
            "axis": JSONValue(ints: axis), "mean": list(mean), "variance": list(variance), "invert": .bool(invert),
        ]))
    }

    public required init(config: LayerConfig) throws {
        if let single = config["axis"]?.intValue { axes = [single] } else {
            axes = config.has("axis") ? try config.intList("axis") : []
        }
        invert = try config.bool("invert", default: false)
        givenMean = config.has("mean") ? config["mean"] : nil
        givenVariance = config.has("variance") ? config["variance"] : nil
        guard (givenMean == nil) == (givenVariance == nil) else {
            throw config.fail(givenMean == nil ? "mean" : "variance", "given together with '\(givenMean == nil ? "variance" : "mean")'")
        }
        if let givenMean, let givenVariance {
            let (m, v) = (try constantTensor(givenMean, config: config, key: "mean"),
                          try constantTensor(givenVariance, config: config, key: "variance"))
            guard m.shape == v.shape, m.rank <= axes.count else {
                throw config.fail("mean", "of the shape of 'variance' with at most \(axes.count) axes, got \(m.shape) and \(v.shape)")
            }
            constants = (m, v)
        }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = JSONValue(ints: axes)
        c["invert"] = .bool(invert)
        c["mean"] = givenMean ?? .null
        c["variance"] = givenVariance ?? .null
        return c
    }

    public override func build(inputShape: Shape) throws {
        let keep = try axes.map { try resolveAxis($0, rank: inputShape.count, layer: name) }.sorted()
        let keptSizes = try knownSizes(inputShape, axes: keep, layer: name)
        broadcastShape = inputShape.indices.map { keep.contains($0) ? inputShape[$0]! : 1 }
        if let (m, v) = constants {
            do {
                constants = (try m.broadcast(to: keptSizes).reshaped(to: broadcastShape),
                             try v.broadcast(to: keptSizes).reshaped(to: broadcastShape))
            } catch {
                throw LayerError.shapeMismatch(layer: name, "mean and variance of shape \(m.shape) do not broadcast to the "
                                               + "kept axes' sizes \(keptSizes)")
            }
        } else {
            mean = try addWeight(name: "mean", shape: keptSizes, initializer: .zeros, trainable: false)
            variance = try addWeight(name: "variance", shape: keptSizes, initializer: .ones, trainable: false)
            count = try addWeight(name: "count", shape: [], initializer: .zeros, trainable: false)
        }
    }

    /// The mean and variance the layer uses, shaped to broadcast against its input (nil before it is built).
    public var statistics: (mean: Tensor, variance: Tensor)? {
        if let constants { return constants }
        guard let mean, let variance else { return nil }
        return try? (mean.read().reshaped(to: broadcastShape), variance.read().reshaped(to: broadcastShape))
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank == broadcastShape.count else {
            throw LayerError.shapeMismatch(layer: name, "expects inputs of rank \(broadcastShape.count), got shape \(x.shape)")
        }
        let m = try constants?.mean ?? mean!.read().reshaped(to: broadcastShape)
        let v = try constants?.variance ?? variance!.read().reshaped(to: broadcastShape)
        let std = try Tensor.maximum(v.sqrt(), Tensor(1e-7))
        return invert ? try m + (try x * std) : try (try x - m) / std
    }
}
