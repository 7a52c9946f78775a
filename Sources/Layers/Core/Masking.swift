import Tensor

/// `keras.layers.Masking`: zeroes the timesteps (positions along all but the
/// last axis) whose features all equal `mask_value`, and masks them for later
/// layers: the mask is `any(x != mask_value, axis=-1)`.
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

    public override var supportsMasking: Bool { true }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try Tensor.where(try keep(x, keepDims: true), x, Tensor(0))
    }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        [try keep(inputs[0], keepDims: false)]
    }

    /// `any(x != mask_value, axis=-1)`: 1 minus "all features equal the mask value".
    private func keep(_ x: Tensor, keepDims: Bool) throws -> Tensor {
        guard x.rank >= 1 else { throw LayerError.shapeMismatch(layer: name, "expects inputs of rank ≥ 1, got a scalar") }
        return try withoutGradient { 1 - (try Tensor.equal(x, Tensor(Float(maskValue))).min(axes: [-1], keepDims: keepDims)) }
    }
}
