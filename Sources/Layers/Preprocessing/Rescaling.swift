import Tensor

/// `keras.layers.Rescaling`: `x · scale + offset`. `scale` and `offset` are
/// numbers or arrays that broadcast against the input (e.g. one value per channel).
public final class Rescaling: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    /// The config values as written: numbers, lists, or serialized NumPy arrays.
    public let scaleValue: JSONValue
    public let offsetValue: JSONValue
    private let scale: Tensor
    private let offset: Tensor

    public convenience init(scale: Double, offset: Double = 0, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["scale": .double(scale), "offset": .double(offset)]))
    }

    public required init(config: LayerConfig) throws {
        scaleValue = config["scale"] ?? .null
        offsetValue = config["offset"] ?? .double(0)
        scale = try constantTensor(scaleValue, config: config, key: "scale")
        offset = try constantTensor(offsetValue, config: config, key: "offset")
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["scale"] = scaleValue
        c["offset"] = offsetValue
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        do { return try x * scale + offset } catch {
            throw LayerError.shapeMismatch(layer: name, "scale \(scale.shape) and offset \(offset.shape) do not broadcast "
                                           + "to the input shape \(x.shape)")
        }
    }
}

/// A constant from a config value: a number, a nested list of numbers, or a
/// serialized NumPy array (`{"class_name": "__numpy__", "config": {"value": ...}}`).
func constantTensor(_ json: JSONValue, config: LayerConfig, key: String) throws -> Tensor {
    func flatten(_ v: JSONValue) throws -> (shape: [Int], values: [Float]) {
        if let d = v.doubleValue { return ([], [Float(d)]) }
        if v["class_name"]?.stringValue == "__numpy__", let value = v["config"]?["value"] { return try flatten(value) }
        guard let items = v.arrayValue else { throw config.fail(key, "a number or an array of numbers") }
        let parts = try items.map(flatten)
        guard let first = parts.first?.shape, parts.allSatisfy({ $0.shape == first }) else {
            if parts.isEmpty { return ([0], []) }
            throw config.fail(key, "a rectangular array of numbers")
        }
        return ([parts.count] + first, parts.flatMap { $0.values })
    }
    let (shape, values) = try flatten(json)
    return Tensor(shape: shape, scalars: values)
}
