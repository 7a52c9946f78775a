import Tensor

/// Keras's `UpSampling{1,2,3}D`: each spatial axis `i` grows `size[i]` times by
/// repeating entries (nearest neighbour); ``UpSampling2D`` can also
/// interpolate bilinearly.
public class BaseUpSampling: SpatialLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``): an output is a copy
    /// of an input, or (bilinear) a weighted sum of its neighbours.
    public override var passesDeltas: Bool { true }
    public override func passThroughRatio(_ inputShape: Shape) -> Double { Double(size.reduce(1, *)) }

    public let size: [Int]

    public required init(config: LayerConfig) throws {
        size = try config.positiveInts("size", count: Self.rank, default: 2)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["size"] = Self.rank == 1 ? .int(size[0]) : JSONValue(ints: size)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireSpatialInput(inputShape)
        var out = inputShape
        for i in 0..<Self.rank { out[i + 1] = inputShape[i + 1].map { $0 * size[i] } }
        return out
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireSpatialInput(x)
        var y = x
        for (i, factor) in size.enumerated() where factor > 1 {
            y = try y.gather((0..<y.shape[i + 1] * factor).map { $0 / factor }, axis: i + 1)
        }
        return y
    }
}

/// `keras.layers.UpSampling1D` over `[batch, steps, channels]`.
public final class UpSampling1D: BaseUpSampling {
    override class var rank: Int { 1 }

    /// Repeats each step `size` times.
    public convenience init(size: Int = 2, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["size": .int(size)]))
    }
}

/// `keras.layers.UpSampling2D` over `[batch, height, width, channels]`, with
/// `interpolation` `"nearest"` or `"bilinear"`. Bilinear matches TensorFlow's
/// `tf.image.resize` (half-pixel centers, no antialiasing), which Keras uses.
public final class UpSampling2D: BaseUpSampling {
    override class var rank: Int { 2 }

    /// `"nearest"` or `"bilinear"`.
    public let interpolation: String

    /// ```swift
    /// let up = try UpSampling2D(size: [2, 3], interpolation: "bilinear")
    /// ```
    public convenience init(size: [Int] = [2], interpolation: String = "nearest", name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "size": Self.tuple(size), "data_format": "channels_last", "interpolation": .string(interpolation),
        ]))
    }

    public required init(config: LayerConfig) throws {
        interpolation = try config.string("interpolation", default: "nearest").lowercased()
        guard ["nearest", "bilinear"].contains(interpolation) else {
            throw LayerError.badConfig(layer: config.layerName,
                                       "interpolation '\(interpolation)' is not supported; use 'nearest' or 'bilinear'")
        }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["interpolation"] = .string(interpolation)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard interpolation == "bilinear" else { return try super.call(x, training: training) }
        try requireSpatialInput(x)
        // TensorFlow interpolates along the width first, then along the height.
        return try UpSampling2D.bilinear(try UpSampling2D.bilinear(x, axis: 2, factor: size[1]), axis: 1, factor: size[0])
    }

    /// Linear interpolation along `axis` to `factor` times its length with
    /// TensorFlow's half-pixel rule: output `i` samples input position
    /// `(i + 0.5) / factor - 0.5`, clamped to the edges, as
    /// `lower + (upper - lower) · fraction`.
    static func bilinear(_ x: Tensor, axis: Int, factor: Int) throws -> Tensor {
        let n = x.shape[axis], count = n * factor
        let scale = Float(n) / Float(count)
        var lower = [Int](), upper = [Int](), fraction = [Float]()
        for i in 0..<count {
            let position = (Float(i) + 0.5) * scale - 0.5
            let floor = position.rounded(.down)
            lower.append(max(Int(floor), 0))
            upper.append(min(Int(position.rounded(.up)), n - 1))
            fraction.append(position - floor)
        }
        var shape = [Int](repeating: 1, count: x.rank)
        shape[axis] = count
        let a = try x.gather(lower, axis: axis), b = try x.gather(upper, axis: axis)
        return try a + (try b - a) * Tensor(shape: shape, scalars: fraction)
    }
}

/// `keras.layers.UpSampling3D` over `[batch, depth, height, width, channels]`.
public final class UpSampling3D: BaseUpSampling {
    override class var rank: Int { 3 }

    /// Repeats entries `size[i]` times along spatial axis `i`; one value applies to every axis.
    public convenience init(size: [Int] = [2], name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["size": Self.tuple(size), "data_format": "channels_last"]))
    }
}
