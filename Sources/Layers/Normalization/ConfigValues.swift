// Config forms shared by the normalization, activation, preprocessing,
// merging and applications layers.

extension LayerConfig {
    /// The `axis` value: one integer or a list of integers.
    func axisList(_ key: String = "axis", default d: Int) throws -> AxisList {
        guard has(key) else { return AxisList(d) }
        if let a = self[key]?.intValue { return AxisList(a) }
        return AxisList(try intList(key), isList: true)
    }
}

/// An `axis` config value, one integer or a list, written back in the form it was read.
public struct AxisList: Equatable {
    /// The axes as written (they may be negative).
    public var axes: [Int]
    /// Whether the config holds a list rather than one integer.
    public var isList: Bool

    public init(_ axis: Int) {
        axes = [axis]
        isList = false
    }

    public init(_ axes: [Int], isList: Bool = true) {
        self.axes = axes
        self.isList = isList
    }

    public var json: JSONValue { isList ? JSONValue(ints: axes) : .int(axes[0]) }

    /// The axes made non-negative for an input of `rank`; an axis out of
    /// range throws an error naming `layer`.
    public func resolved(rank: Int, layer: String) throws -> [Int] {
        try axes.map { try resolveAxis($0, rank: rank, layer: layer) }
    }
}

/// `axis` made non-negative for an input of `rank`, or an error naming `layer`.
func resolveAxis(_ axis: Int, rank: Int, layer: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < rank else {
        throw LayerError.shapeMismatch(layer: layer, "axis \(axis) is out of range for an input of rank \(rank)")
    }
    return a
}
