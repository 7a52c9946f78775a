import Tensor

/// The base of the elementwise merge layers (`keras.layers.Merge`): combines
/// a list of inputs with NumPy broadcasting. Inputs of lower rank first get
/// size-1 axes inserted after the batch axis, as Keras does.
///
/// Masks: Keras 3 ORs the input masks (none if an input has none); tf-keras
/// ANDs those given.
public class Merge: Layer {
    /// The number of inputs the layer accepts.
    class var inputCounts: ClosedRange<Int> { 1...Int.max }
    /// Whether the layer follows tf-keras's masking.
    let keras2: Bool

    public convenience init(name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [:]))
    }

    public required init(config: LayerConfig) throws {
        keras2 = config.keras2
        try super.init(config: config)
    }

    /// Combines inputs of equal rank.
    func merge(_ inputs: [Tensor]) throws -> Tensor { preconditionFailure("\(Self.self) must override merge") }

    /// Combines inputs of equal rank given their masks (nil for an input
    /// whose rank was raised); by default the masks do not change the values.
    func merge(_ inputs: [Tensor], masks: [Tensor?]) throws -> Tensor { try merge(inputs) }

    public override var supportsMasking: Bool { true }

    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        let given = masks.compactMap { $0 }
        if keras2 {
            guard let first = given.first else { return [nil] }
            return [try given.dropFirst().reduce(first) { try Tensor.minimum($0, $1) }]
        }
        guard given.count == masks.count, let first = given.first else { return [nil] }
        return [try given.dropFirst().reduce(first) { try Tensor.maximum($0, $1) }]
    }

    public override func build(_ inputShapes: [Shape]) throws {
        _ = try computeOutputShapes(inputShapes)
    }

    /// Keras's `compute_output_shape`: the batch size the inputs share and the
    /// broadcast of their other axes, aligned from the right.
    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        try checkCount(inputShapes.count)
        let batches = Set(inputShapes.compactMap { $0.first ?? nil })
        guard batches.count <= 1 else {
            throw LayerError.shapeMismatch(layer: name, "cannot merge inputs with different batch sizes: "
                                           + inputShapes.map(formatShape).joined(separator: ", "))
        }
        var out = Array(inputShapes[0].dropFirst())
        for s in inputShapes.dropFirst() {
            var (a, b) = (out, Array(s.dropFirst()))
            if a.count < b.count { swap(&a, &b) }
            let lead = a.count - b.count
            out = Array(a[..<lead])
            for (i, j) in zip(a[lead...], b) {
                if i == nil || j == nil { out.append(nil) } else if i == 1 { out.append(j) } else if j == 1 || i == j {
                    out.append(i)
                } else {
                    throw LayerError.shapeMismatch(layer: name, "inputs of shapes "
                                                   + inputShapes.map(formatShape).joined(separator: ", ") + " do not broadcast")
                }
            }
        }
        return [[batches.first] + out]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: inputs.map { _ in nil }, training: training)
    }

    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        try checkCount(inputs.count)
        let rank = inputs.map { $0.rank }.max()!
        let expanded = try inputs.map { x -> Tensor in
            try x.rank < rank ? x.reshaped(to: [x.shape[0]] + [Int](repeating: 1, count: rank - x.rank) + x.shape.dropFirst()) : x
        }
        // An input whose rank is raised is a new tensor in Keras, without a mask.
        let kept = zip(inputs, masks).map { x, m in x.rank < rank || keras2 ? nil : m }
        do { return [try merge(expanded, masks: kept)] } catch let error as TensorError {
            throw LayerError.shapeMismatch(layer: name, "cannot merge inputs of shapes \(inputs.map { $0.shape }): \(error)")
        }
    }

    private func checkCount(_ n: Int) throws {
        let counts = Self.inputCounts
        guard counts.contains(n) else {
            let expected = counts.count == 1 ? "exactly \(counts.lowerBound)" : "at least \(counts.lowerBound)"
            throw LayerError.shapeMismatch(layer: name, "\(Self.className) expects \(expected) inputs, got \(n)")
        }
    }
}

/// `keras.layers.Add`: the sum of the inputs.
public final class Add: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], +) }
}

/// `keras.layers.Subtract`: the first input minus the second.
public final class Subtract: Merge {
    override class var inputCounts: ClosedRange<Int> { 2...2 }
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs[0] - inputs[1] }
}

/// `keras.layers.Multiply`: the product of the inputs. In Keras 3 masked
/// entries count as 1, and when every input is masked the entries masked in
/// all of them are 0.
public final class Multiply: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], *) }

    override func merge(_ inputs: [Tensor], masks: [Tensor?]) throws -> Tensor {
        guard masks.contains(where: { $0 != nil }) else { return try merge(inputs) }
        var output: Tensor?, outputMask: Tensor?
        for (x, mask) in zip(inputs, masks) {
            var x = x
            if let mask {
                let m = try broadcastMask(mask, like: x)
                x = try Tensor.where(m, x, Tensor(1))
                outputMask = try outputMask.map { try Tensor.maximum($0, m) } ?? m
            }
            output = try output.map { try $0 * x } ?? x
        }
        guard !masks.contains(where: { $0 == nil }), let outputMask else { return output! }
        return try Tensor.where(outputMask, output!, Tensor(0))
    }
}

/// `keras.layers.Average`: the mean of the inputs.
public final class Average: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor {
        try inputs.dropFirst().reduce(inputs[0], +) / Float(inputs.count)
    }
}

/// `keras.layers.Maximum`: the elementwise maximum of the inputs (masked
/// entries skipped in Keras 3, see ``mergeSkippingMasked(_:masks:_:)``).
public final class Maximum: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], Tensor.maximum) }

    override func merge(_ inputs: [Tensor], masks: [Tensor?]) throws -> Tensor {
        try mergeSkippingMasked(inputs, masks: masks, Tensor.maximum)
    }
}

/// `keras.layers.Minimum`: the elementwise minimum of the inputs (masked
/// entries skipped in Keras 3, see ``mergeSkippingMasked(_:masks:_:)``).
public final class Minimum: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], Tensor.minimum) }

    override func merge(_ inputs: [Tensor], masks: [Tensor?]) throws -> Tensor {
        try mergeSkippingMasked(inputs, masks: masks, Tensor.minimum)
    }
}

/// Keras 3's `_apply_merge_op_and_or_mask`: folds `op` over the inputs, an
/// entry masked on one side taking the other side's value.
private func mergeSkippingMasked(_ inputs: [Tensor], masks: [Tensor?],
                                 _ op: (Tensor, Tensor) throws -> Tensor) throws -> Tensor {
    var output = inputs[0]
    var outputMask = try masks[0].map { try broadcastMask($0, like: inputs[0]) }
    for (x, mask) in zip(inputs, masks).dropFirst() {
        var x = x
        let m = try mask.map { try broadcastMask($0, like: x) }
        if let m { x = try Tensor.where(m, x, output) }
        if let outputMask { output = try Tensor.where(outputMask, output, x) }
        outputMask = try m.flatMap { m in try outputMask.map { try Tensor.maximum($0, m) } }
        output = try op(output, x)
    }
    return output
}

/// A `[batch, ...]` mask broadcast over the last axis of `x`.
private func broadcastMask(_ mask: Tensor, like x: Tensor) throws -> Tensor {
    try mask.expandingDims(at: -1).broadcast(to: x.shape)
}
