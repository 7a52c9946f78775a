import Tensor

/// The base of the elementwise merge layers (`keras.layers.Merge`): combines
/// a list of inputs with NumPy broadcasting. Inputs of lower rank first get
/// size-1 axes inserted after the batch axis, as Keras does.
public class Merge: Layer {
    /// The number of inputs the layer accepts.
    class var inputCounts: ClosedRange<Int> { 1...Int.max }

    public convenience init(name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [:]))
    }

    /// Combines inputs of equal rank.
    func merge(_ inputs: [Tensor]) throws -> Tensor { preconditionFailure("\(Self.self) must override merge") }

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
        try checkCount(inputs.count)
        let rank = inputs.map { $0.rank }.max()!
        let expanded = try inputs.map { x -> Tensor in
            try x.rank < rank ? x.reshaped(to: [x.shape[0]] + [Int](repeating: 1, count: rank - x.rank) + x.shape.dropFirst()) : x
        }
        do { return [try merge(expanded)] } catch let error as TensorError {
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

/// `keras.layers.Multiply`: the product of the inputs.
public final class Multiply: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], *) }
}

/// `keras.layers.Average`: the mean of the inputs.
public final class Average: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor {
        try inputs.dropFirst().reduce(inputs[0], +) / Float(inputs.count)
    }
}

/// `keras.layers.Maximum`: the elementwise maximum of the inputs.
public final class Maximum: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], Tensor.maximum) }
}

/// `keras.layers.Minimum`: the elementwise minimum of the inputs.
public final class Minimum: Merge {
    override func merge(_ inputs: [Tensor]) throws -> Tensor { try inputs.dropFirst().reduce(inputs[0], Tensor.minimum) }
}
