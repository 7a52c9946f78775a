import Tensor

/// A `(before, after)` amount along one spatial axis.
public struct Margin: Equatable {
    public var before: Int
    public var after: Int

    public init(_ before: Int, _ after: Int) {
        self.before = before
        self.after = after
    }
}

/// The shared config of `ZeroPadding{1,2,3}D` and `Cropping{1,2,3}D`: a
/// ``Margin`` per spatial axis under ``key``. Keras accepts one integer for
/// every side, a `(before, after)` pair for 1-D, or per axis an integer
/// (both sides) or a pair; it writes `[b, a]` for 1-D and `[[b, a], ...]` otherwise.
public class SpatialMarginLayer: SpatialLayer {
    /// The config key: `padding` or `cropping`.
    class var key: String { preconditionFailure("\(self) must override key") }
    /// The amount on every side when the key is absent.
    class var defaultMargin: Int { 1 }

    public let margins: [Margin]

    public required init(config: LayerConfig) throws {
        let key = Self.key, rank = Self.rank
        let fail = config.fail(key, rank == 1 ? "an integer or 2 non-negative integers"
                                   : "an integer or \(rank) integers or (before, after) pairs, non-negative")
        func pair(_ v: JSONValue) throws -> Margin {
            if let i = v.intValue { return Margin(i, i) }
            guard let a = v.arrayValue, a.count == 2, let b = a[0].intValue, let e = a[1].intValue else { throw fail }
            return Margin(b, e)
        }
        let value = config[key] ?? .int(Self.defaultMargin)
        if let i = value.intValue {
            margins = [Margin](repeating: Margin(i, i), count: rank)
        } else if rank == 1 {
            margins = [try pair(value)]
        } else {
            guard let a = value.arrayValue, a.count == rank else { throw fail }
            margins = try a.map(pair)
        }
        guard margins.allSatisfy({ (0...LayerConfig.maxDimension).contains($0.before) && (0...LayerConfig.maxDimension).contains($0.after) })
        else { throw fail }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        let pairs = margins.map { JSONValue(ints: [$0.before, $0.after]) }
        c[Self.key] = Self.rank == 1 ? pairs[0] : .array(pairs)
        return c
    }

    /// A Swift margins argument as config JSON: one margin for every axis, or one per axis.
    static func marginsJSON(_ margins: [Margin]) -> JSONValue {
        let all = margins.count == 1 ? [Margin](repeating: margins[0], count: rank) : margins
        let pairs = all.map { JSONValue(ints: [$0.before, $0.after]) }
        return rank == 1 && pairs.count == 1 ? pairs[0] : .array(pairs)
    }
}

/// Keras's `ZeroPadding{1,2,3}D`: zeros before and after each spatial axis.
public class BaseZeroPadding: SpatialMarginLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    override class var key: String { "padding" }

    /// ```swift
    /// let pad = try ZeroPadding2D(padding: [Margin(1, 2), Margin(0, 1)])
    /// ```
    /// - Parameter padding: one margin for every spatial axis or one per axis; nil pads 1 everywhere.
    public convenience init(padding: [Margin]? = nil, name: String? = nil) throws {
        var c: JSONObject = ["data_format": "channels_last"]
        if let padding { c["padding"] = Self.marginsJSON(padding) }
        try self.init(config: Self.swiftConfig(name: name, c))
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireSpatialInput(inputShape)
        var out = inputShape
        for (i, m) in margins.enumerated() { out[i + 1] = inputShape[i + 1].map { $0 + m.before + m.after } }
        return out
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireSpatialInput(x)
        return try x.padded([(0, 0)] + margins.map { ($0.before, $0.after) } + [(0, 0)])
    }
}

/// Keras's `Cropping{1,2,3}D`: drops entries before and after each spatial axis.
public class BaseCropping: SpatialMarginLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    override class var key: String { "cropping" }

    /// ```swift
    /// let crop = try Cropping2D(cropping: [Margin(1, 0), Margin(2, 2)])
    /// ```
    /// - Parameter cropping: one margin for every spatial axis or one per axis; nil for Keras's default.
    public convenience init(cropping: [Margin]? = nil, name: String? = nil) throws {
        // Keras's Cropping1D has no data_format.
        var c: JSONObject = Self.rank > 1 ? ["data_format": "channels_last"] : [:]
        if let cropping { c["cropping"] = Self.marginsJSON(cropping) }
        try self.init(config: Self.swiftConfig(name: name, c))
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireSpatialInput(inputShape)
        var out = inputShape
        for (i, m) in margins.enumerated() {
            guard let size = inputShape[i + 1] else { continue }
            guard m.before + m.after < size else {
                throw LayerError.shapeMismatch(layer: name, "cropping \(m.before)+\(m.after) leaves nothing of spatial axis "
                                               + "\(i + 1) in input shape \(formatShape(inputShape))")
            }
            out[i + 1] = size - m.before - m.after
        }
        return out
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let shape = try computeOutputShape(x.shape.map { $0 })
        return try x.slice(begin: [0] + margins.map { $0.before } + [0], size: shape.map { $0! })
    }
}

/// `keras.layers.ZeroPadding1D` over `[batch, steps, channels]`.
public final class ZeroPadding1D: BaseZeroPadding {
    override class var rank: Int { 1 }
}

/// `keras.layers.ZeroPadding2D` over `[batch, height, width, channels]`.
public final class ZeroPadding2D: BaseZeroPadding {
    override class var rank: Int { 2 }
}

/// `keras.layers.ZeroPadding3D` over `[batch, depth, height, width, channels]`.
public final class ZeroPadding3D: BaseZeroPadding {
    override class var rank: Int { 3 }
}

/// `keras.layers.Cropping1D` over `[batch, steps, channels]`; crops 1 at each end by default.
public final class Cropping1D: BaseCropping {
    override class var rank: Int { 1 }
}

/// `keras.layers.Cropping2D` over `[batch, height, width, channels]`; crops nothing by default.
public final class Cropping2D: BaseCropping {
    override class var rank: Int { 2 }
    override class var defaultMargin: Int { 0 }
}

/// `keras.layers.Cropping3D` over `[batch, depth, height, width, channels]`; crops 1 everywhere by default.
public final class Cropping3D: BaseCropping {
    override class var rank: Int { 3 }
}
