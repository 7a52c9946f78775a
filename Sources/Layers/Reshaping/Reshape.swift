import Tensor

/// `keras.layers.Flatten`: `[batch, d1, d2, ...]` → `[batch, d1 · d2 · ...]`.
/// With `data_format="channels_first"` the channel axis moves last first, so
/// the order matches a channels-last model's.
public final class Flatten: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    /// `"channels_last"` or `"channels_first"`.
    public let dataFormat: String

    public convenience init(dataFormat: String = "channels_last", name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["data_format": .string(dataFormat)]))
    }

    public required init(config: LayerConfig) throws {
        dataFormat = try config.choice("data_format", ["channels_last", "channels_first"], default: "channels_last")
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["data_format"] = .string(dataFormat)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        guard let batch = inputShape.first else {
            throw LayerError.shapeMismatch(layer: name, "expects an input of rank ≥ 1, got shape ()")
        }
        let rest = inputShape.dropFirst()
        return [batch, rest.contains(where: { $0 == nil }) ? nil : try checkedProduct(rest.map { $0! }, layer: name)]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.rank >= 1 else { throw LayerError.shapeMismatch(layer: name, "expects an input of rank ≥ 1, got a scalar") }
        let channelsLast = dataFormat == "channels_first" && x.rank > 2 ? try x.transposed([0] + Array(2..<x.rank) + [1]) : x
        return try channelsLast.reshaped(to: [x.shape[0], x.shape.dropFirst().reduce(1, *)])
    }
}

/// `keras.layers.Reshape`: the non-batch axes take `targetShape`, where one
/// entry may be -1 (inferred from the element count).
public final class Reshape: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    public let targetShape: [Int]

    /// ```swift
    /// let r = try Reshape(targetShape: [-1, 3])
    /// ```
    public convenience init(targetShape: [Int], name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["target_shape": JSONValue(ints: targetShape)]))
    }

    public required init(config: LayerConfig) throws {
        targetShape = try config.intList("target_shape")
        guard targetShape.allSatisfy({ $0 > 0 || $0 == -1 }), targetShape.filter({ $0 == -1 }).count <= 1 else {
            throw config.fail("target_shape", "positive integers with at most one -1")
        }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["target_shape"] = JSONValue(ints: targetShape)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        guard let batch = inputShape.first else {
            throw LayerError.shapeMismatch(layer: name, "expects an input of rank ≥ 1, got shape ()")
        }
        let dims = inputShape.dropFirst()
        let known = try checkedProduct(targetShape.filter { $0 != -1 }, layer: name)
        guard !dims.contains(where: { $0 == nil }) else { return [batch] + targetShape.map { $0 == -1 ? nil : $0 } }
        let count = try checkedProduct(dims.map { $0! }, layer: name)
        let fits = targetShape.contains(-1) ? known > 0 && count % known == 0 : count == known
        guard fits else {
            throw LayerError.shapeMismatch(layer: name, "cannot reshape an input of shape \(formatShape(inputShape)) "
                                           + "(\(count) values per sample) to target_shape \(targetShape)")
        }
        return [batch] + targetShape.map { $0 == -1 ? count / known : $0 }
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let shape = try computeOutputShape(x.shape.map { $0 })
        return try x.reshaped(to: [x.shape[0]] + shape.dropFirst().map { $0! })
    }
}

/// `keras.layers.Permute`: reorders the non-batch axes; `dims` are 1-based
/// (`dims: [2, 1]` swaps the two axes of `[batch, a, b]`).
public final class Permute: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    public let dims: [Int]

    public convenience init(dims: [Int], name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["dims": JSONValue(ints: dims)]))
    }

    public required init(config: LayerConfig) throws {
        dims = try config.intList("dims")
        guard dims.sorted() == Array(1...max(dims.count, 1)) else {
            throw config.fail("dims", "a permutation of 1...\(dims.count)")
        }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["dims"] = JSONValue(ints: dims)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireRank(inputShape, dims.count + 1)
        return [inputShape[0]] + dims.map { inputShape[$0] }
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireRank(x.shape.map { $0 }, dims.count + 1)
        return try x.transposed([0] + dims)
    }
}

/// `keras.layers.RepeatVector`: `[batch, features]` → `[batch, n, features]`.
public final class RepeatVector: UnaryLayer {
    public let n: Int

    public convenience init(n: Int, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["n": .int(n)]))
    }

    public required init(config: LayerConfig) throws {
        n = try config.int("n")
        guard n > 0 else { throw config.fail("n", "a positive integer") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["n"] = .int(n)
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireRank(inputShape, 2)
        return [inputShape[0], n, inputShape[1]]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireRank(x.shape.map { $0 }, 2)
        return try x.expandingDims(at: 1).tiled([1, n, 1])
    }
}

/// The product of `dims`, or a `LayerError` when it overflows (hostile shapes).
func checkedProduct(_ dims: [Int], layer: String) throws -> Int {
    var product = 1
    for d in dims {
        let (p, overflow) = product.multipliedReportingOverflow(by: d)
        guard !overflow else { throw LayerError.shapeMismatch(layer: layer, "the shape \(dims) has too many values") }
        product = p
    }
    return product
}
