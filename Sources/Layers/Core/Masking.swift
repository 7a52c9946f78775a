import Tensor

/// `keras.layers.Masking`: zeroes the timesteps (positions along all but the
/// last axis) whose features all equal `mask_value`. The mask itself is not
/// propagated to later layers.
public final class Masking: UnaryLayer {
    public let maskValue: Double

    public convenience init(maskValue: Double = 0, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["mask_value": .double(maskValue)]))
    }

    public required init(config: LayerConfig) throws {
        maskValue = config.has("mask_value") ? try config.double("mask_value") : 0
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["mask_value"] = .double(maskValue)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank >= 1 else { throw LayerError.shapeMismatch(layer: name, "expects inputs of rank ≥ 1, got a scalar") }
        // any(x != mask_value, axis=-1): 1 minus "all features equal the mask value".
        let allMasked = try Tensor.equal(x, Tensor(Float(maskValue))).min(axes: [-1], keepDims: true)
        return try Tensor.where(1 - allMasked, x, Tensor(0))
    }
}
