import Tensor

/// Keras's `BaseGlobalPooling`: the maximum or mean over all spatial axes,
/// giving `[batch, channels]`, or `[batch, 1..., channels]` with ``keepdims``.
public class BaseGlobalPooling: SpatialLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }
    public override func passThroughRatio(_ inputShape: Shape) -> Double { 1 / Double(inputShape.dropFirst().dropLast().reduce(1) { $0 * ($1 ?? 1) }) }

    class var mode: PoolMode { preconditionFailure("\(self) must override mode") }

    public let keepdims: Bool

    /// Creates the layer from Swift arguments.
    ///
    /// ```swift
    /// let gap = try GlobalAveragePooling2D(keepdims: true)
    /// ```
    public convenience init(keepdims: Bool = false, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["data_format": "channels_last", "keepdims": .bool(keepdims)]))
    }

    public required init(config: LayerConfig) throws {
        keepdims = try config.bool("keepdims", default: false)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["keepdims"] = .bool(keepdims)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireSpatialInput(inputShape)
        return [inputShape[0]] + (keepdims ? [Int?](repeating: 1, count: Self.rank) : []) + [inputShape.last!]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireSpatialInput(x)
        let axes = Array(1...Self.rank)
        switch Self.mode {
        case .max: return try x.max(axes: axes, keepDims: keepdims)
        case .average: return try x.mean(axes: axes, keepDims: keepdims)
        }
    }
}

/// `keras.layers.GlobalMaxPooling1D` over `[batch, steps, channels]`.
public final class GlobalMaxPooling1D: BaseGlobalPooling {
    override class var rank: Int { 1 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.GlobalMaxPooling2D` over `[batch, height, width, channels]`.
public final class GlobalMaxPooling2D: BaseGlobalPooling {
    override class var rank: Int { 2 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.GlobalMaxPooling3D` over `[batch, depth, height, width, channels]`.
public final class GlobalMaxPooling3D: BaseGlobalPooling {
    override class var rank: Int { 3 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.GlobalAveragePooling1D` over `[batch, steps, channels]`.
public final class GlobalAveragePooling1D: BaseGlobalPooling {
    override class var rank: Int { 1 }
    override class var mode: PoolMode { .average }

    /// Averages over the unmasked steps only; the output is unmasked.
    public override var supportsMasking: Bool { true }

    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        guard let mask = masks.first ?? nil else { return try call(inputs, training: training) }
        try requireSpatialInput(inputs[0])
        let m = try mask.expandingDims(at: 2)
        let total = try Tensor.where(m, inputs[0], Tensor(0)).sum(axes: [1], keepDims: keepdims)
        return [try total / m.sum(axes: [1], keepDims: keepdims)]
    }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] { [nil] }
}

/// `keras.layers.GlobalAveragePooling2D` over `[batch, height, width, channels]`.
public final class GlobalAveragePooling2D: BaseGlobalPooling {
    override class var rank: Int { 2 }
    override class var mode: PoolMode { .average }
}

/// `keras.layers.GlobalAveragePooling3D` over `[batch, depth, height, width, channels]`.
public final class GlobalAveragePooling3D: BaseGlobalPooling {
    override class var rank: Int { 3 }
    override class var mode: PoolMode { .average }
}
