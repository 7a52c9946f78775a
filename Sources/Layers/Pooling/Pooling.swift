import Tensor

/// How a pooling layer reduces a window.
public enum PoolMode: String {
    case max, average
}

/// Keras's `BasePooling`: the maximum or mean of each `poolSize` window moved
/// by `strides` (default: the pool size). With `same` padding an average
/// counts only the input pixels of its window, as TensorFlow's.
public class BasePooling: SpatialLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }
    public override func passThroughRatio(_ inputShape: Shape) -> Double { 1 / Double(strides.reduce(1, *)) }

    class var mode: PoolMode { preconditionFailure("\(self) must override mode") }

    public let poolSize: [Int]
    public let strides: [Int]
    public let padding: Padding

    /// Creates the layer from Swift arguments; a single value in `poolSize` or
    /// `strides` applies to every spatial axis, and nil strides mean the pool size.
    ///
    /// ```swift
    /// let pool = try MaxPooling2D(poolSize: [3, 3], strides: [2, 2], padding: "same")
    /// ```
    public convenience init(poolSize: [Int] = [2], strides: [Int]? = nil, padding: String = "valid",
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "data_format": "channels_last",
            "pool_size": Self.tuple(poolSize), "padding": .string(padding), "strides": strides.map(Self.tuple) ?? .null,
        ]))
    }

    public required init(config: LayerConfig) throws {
        poolSize = try config.positiveInts("pool_size", count: Self.rank, default: 2)
        strides = config.has("strides") ? try config.positiveInts("strides", count: Self.rank) : poolSize
        padding = try config.padding()
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["pool_size"] = JSONValue(ints: poolSize)
        c["padding"] = .string(padding.rawValue)
        c["strides"] = JSONValue(ints: strides)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try windowOutputShape(inputShape, window: poolSize, strides: strides, padding: padding) + [inputShape.last!]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        _ = try computeOutputShape(x.shape.map { $0 })
        switch Self.mode {
        case .max: return try Tensor.maxPool(x, poolSize: poolSize, strides: strides, padding: padding)
        case .average: return try Tensor.averagePool(x, poolSize: poolSize, strides: strides, padding: padding)
        }
    }
}

/// `keras.layers.MaxPooling1D` over `[batch, steps, channels]`.
public final class MaxPooling1D: BasePooling {
    override class var rank: Int { 1 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.MaxPooling2D` over `[batch, height, width, channels]`.
public final class MaxPooling2D: BasePooling {
    override class var rank: Int { 2 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.MaxPooling3D` over `[batch, depth, height, width, channels]`.
public final class MaxPooling3D: BasePooling {
    override class var rank: Int { 3 }
    override class var mode: PoolMode { .max }
}

/// `keras.layers.AveragePooling1D` over `[batch, steps, channels]`.
public final class AveragePooling1D: BasePooling {
    override class var rank: Int { 1 }
    override class var mode: PoolMode { .average }
}

/// `keras.layers.AveragePooling2D` over `[batch, height, width, channels]`.
public final class AveragePooling2D: BasePooling {
    override class var rank: Int { 2 }
    override class var mode: PoolMode { .average }
}

/// `keras.layers.AveragePooling3D` over `[batch, depth, height, width, channels]`.
public final class AveragePooling3D: BasePooling {
    override class var rank: Int { 3 }
    override class var mode: PoolMode { .average }
}
