import Tensor

/// `keras.layers.Concatenate`: joins the inputs along `axis`; all other axes must agree.
///
/// Masks: each input's mask (all ones when it has none) is broadcast to the
/// input's shape, the masks are joined along `axis`, and an output position
/// is kept if any (Keras 3) or every (tf-keras) entry on its last axis is.
public final class Concatenate: Layer {
    /// Deltas pass through (see ``Layer/passesDeltas``).
    public override var passesDeltas: Bool { true }

    public let axis: Int
    private let keras2: Bool

    public convenience init(axis: Int = -1, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["axis": .int(axis)]))
    }

    public required init(config: LayerConfig) throws {
        axis = try config.int("axis", default: -1)
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axis"] = .int(axis)
        return c
    }

    public override func build(_ inputShapes: [Shape]) throws {
        _ = try computeOutputShapes(inputShapes)
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        guard let first = inputShapes.first else { throw LayerError.shapeMismatch(layer: name, "expects at least 1 input, got 0") }
        let a = try resolveAxis(axis, rank: first.count, layer: name)
        var out = first
        for s in inputShapes.dropFirst() {
            let agree = s.count == first.count && s.indices.allSatisfy { $0 == a || s[$0] == nil || out[$0] == nil || s[$0] == out[$0] }
            guard agree else {
                throw LayerError.shapeMismatch(layer: name, "inputs must match except on the concatenation axis \(axis), got shapes "
                                               + inputShapes.map(formatShape).joined(separator: ", "))
            }
            for i in s.indices where i != a && out[i] == nil { out[i] = s[i] }
            out[a] = out[a].flatMap { o in s[a].map { o + $0 } }
        }
        return [out]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        _ = try computeOutputShapes(inputs.map { $0.shape.map { Optional($0) } })
        return [try Tensor.concatenate(inputs, axis: try resolveAxis(axis, rank: inputs[0].rank, layer: name))]
    }

    public override var supportsMasking: Bool { true }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        guard masks.contains(where: { $0 != nil }) else { return [nil] }
        let full = try zip(inputs, masks).map { x, mask -> Tensor in
            guard let mask else { return Tensor.ones(x.shape) }
            return mask.rank < x.rank ? try mask.expandingDims(at: -1).broadcast(to: x.shape) : mask
        }
        let joined = try Tensor.concatenate(full, axis: try resolveAxis(axis, rank: inputs[0].rank, layer: name))
        return [keras2 ? try joined.min(axes: [-1]) : try joined.max(axes: [-1])]
    }
}

/// `keras.layers.Dot`: per-sample dot products of two inputs along `axes`
/// (one axis for both, or one each), optionally of L2-normalized inputs
/// (cosine proximity), computed as Keras's `batch_dot`.
public final class Dot: Layer {
    /// The axes as written: one integer or two.
    public let axes: AxisList
    public let normalize: Bool
    private let keras2: Bool

    public convenience init(axes: [Int], normalize: Bool = false, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "axes": axes.count == 1 ? .int(axes[0]) : JSONValue(ints: axes), "normalize": .bool(normalize),
        ]))
    }

    public required init(config: LayerConfig) throws {
        guard config.has("axes") else { throw config.fail("axes", "an integer or a list of two integers") }
        axes = try config.axisList("axes", default: -1)
        guard axes.axes.count == (axes.isList ? 2 : 1) else { throw config.fail("axes", "an integer or a list of two integers") }
        normalize = try config.bool("normalize", default: false)
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["axes"] = axes.json
        c["normalize"] = .bool(normalize)
        return c
    }

    /// The two axes made non-negative for inputs of ranks `r0` and `r1`.
    private func resolvedAxes(_ r0: Int, _ r1: Int) throws -> (Int, Int) {
        let pair = axes.isList ? axes.axes : [axes.axes[0], axes.axes[0]]
        let a = (try resolveAxis(pair[0], rank: r0, layer: name), try resolveAxis(pair[1], rank: r1, layer: name))
        guard a.0 > 0, a.1 > 0 else { throw LayerError.badConfig(layer: name, "cannot take the dot product over the batch axis") }
        return a
    }

    public override func build(_ inputShapes: [Shape]) throws {
        _ = try computeOutputShapes(inputShapes)
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        guard inputShapes.count == 2 else { throw LayerError.shapeMismatch(layer: name, "expects 2 inputs, got \(inputShapes.count)") }
        var (s0, s1) = (inputShapes[0], inputShapes[1])
        guard s0.count >= 2, s1.count >= 2 else {
            throw LayerError.shapeMismatch(layer: name, "expects inputs of rank ≥ 2, got \(formatShape(s0)) and \(formatShape(s1))")
        }
        let (a0, a1) = try resolvedAxes(s0.count, s1.count)
        if let d0 = s0[a0], let d1 = s1[a1], d0 != d1 {
            throw LayerError.shapeMismatch(layer: name, "axis \(a0) of \(formatShape(s0)) (\(d0)) differs from axis \(a1) "
                                           + "of \(formatShape(s1)) (\(d1))")
        }
        s0.remove(at: a0)
        s1.remove(at: a1)
        let out = s0 + s1.dropFirst()
        return [out.count == 1 ? out + [1] : out]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        _ = try computeOutputShapes(inputs.map { $0.shape.map { Optional($0) } })
        var (x, y) = (inputs[0], inputs[1])
        guard x.shape[0] == y.shape[0] else {
            throw LayerError.shapeMismatch(layer: name, "inputs of shapes \(x.shape) and \(y.shape) differ in batch size")
        }
        var (a0, a1) = try resolvedAxes(x.rank, y.rank)
        if normalize {
            let epsilon = keras2 ? 1e-12 : 1e-7
            x = try x.l2Normalized(axes: [a0], epsilon: epsilon, keras2: keras2)
            y = try y.l2Normalized(axes: [a1], epsilon: epsilon, keras2: keras2)
        }
        // batch_dot: x as [batch, rows, k] and y as [batch, k, columns], then one batched matmul.
        let (xRank, yRank) = (x.rank, y.rank)
        if xRank == 2 { x = try x.expandingDims(at: 1); a0 += 1 }
        if yRank == 2 { y = try y.expandingDims(at: 2) }
        x = try x.transposed((0..<x.rank).filter { $0 != a0 } + [a0])
        y = try y.transposed([0, a1] + (1..<y.rank).filter { $0 != a1 })
        let rows = Array(x.shape[1..<(x.rank - 1)]), columns = Array(y.shape[2...])
        let product = try Tensor.matmul(try x.reshaped(to: [x.shape[0], -1, x.shape[x.rank - 1]]),
                                        try y.reshaped(to: [y.shape[0], y.shape[1], -1]))
        var out = try product.reshaped(to: [x.shape[0]] + rows + columns)
        if xRank == 2 { out = try out.squeezed(axes: [1]) } else if yRank == 2 { out = try out.squeezed(axes: [-1]) }
        return [out]
    }
}
