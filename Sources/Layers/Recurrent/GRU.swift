import Tensor

/// `keras.layers.GRUCell`. Gates in Keras's order z (update), r (reset), h:
/// `h = z·h₋₁ + (1 − z)·activation(x_h + r ⊙ ...)`. With `reset_after`
/// (the default) the reset gate multiplies `h₋₁·U_h + b_rh` and the bias is
/// `[2, 3·units]` (input row, recurrent row); otherwise it multiplies `h₋₁`
/// before `U_h` and the bias is `[3·units]`.
public final class GRUCell: RecurrentCell {
    public let units: Int
    public var recurrentActivation: ActivationFunction
    public let resetAfter: Bool

    public required init(config: LayerConfig) throws {
        units = try Self.positiveInt(config, "units")
        recurrentActivation = try ActivationFunction(config: config, key: "recurrent_activation", default: "sigmoid")
        resetAfter = try config.bool("reset_after", default: true)
        try super.init(config: config)
    }

    /// A cell with `units` outputs.
    public convenience init(units: Int, activation: String = "tanh", recurrentActivation: String = "sigmoid",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal, biasInitializer: Initializer = .zeros,
                            dropout: Double = 0, recurrentDropout: Double = 0, resetAfter: Bool = true,
                            name: String? = nil) throws {
        try self.init(config: Self.makeConfig(
            name: name, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer, dropout: dropout,
            recurrentDropout: recurrentDropout,
            ["units": .int(units), "recurrent_activation": .string(recurrentActivation), "reset_after": .bool(resetAfter)]))
    }

    public override func writeConfig(to c: inout JSONObject) {
        c["units"] = .int(units)
        c["recurrent_activation"] = .string(recurrentActivation.name)
        c["reset_after"] = .bool(resetAfter)
        super.writeConfig(to: &c)
    }

    public override func build(_ inputShapes: [Shape]) throws {
        let features = try featureCount(Array(inputShapes[0].dropFirst()))
        try addCellWeights(kernel: [features, 3 * units], recurrentKernel: [units, 3 * units],
                           bias: resetAfter ? [2, 3 * units] : [3 * units])
    }

    public override func stateShapes(stepInputShape: Shape) throws -> [Shape] { [[units]] }

    /// The input and recurrent rows of a `reset_after` bias.
    private func biasRows() throws -> (input: Tensor, recurrent: Tensor)? {
        guard let bias else { return nil }
        let rows = try bias.read().split(count: 2, axis: 0)
        return (try rows[0].reshaped(to: [3 * units]), try rows[1].reshaped(to: [3 * units]))
    }

    public override func projectInputs(_ x: Tensor) throws -> Tensor {
        let projected = try Tensor.matmul(x, kernel.read())
        guard let bias else { return projected }
        return try projected + (resetAfter ? try biasRows()!.input : bias.read())
    }

    /// `[U, recurrent bias]` with `reset_after`, else `[U_zr, U_h]`.
    public override func recurrentWeights() throws -> [Tensor] {
        let u = recurrentKernel.read()
        if resetAfter { return [u] + (try biasRows().map { [$0.recurrent] } ?? []) }
        return try u.split(sizes: [2 * units, units], axis: 1)
    }

    public override func step(_ projected: Tensor, states: [Tensor], weights: [Tensor],
                              recurrentMask: Tensor?) throws -> (output: Tensor, states: [Tensor]) {
        let previous = states[0]
        let masked = try recurrentMask.map { try previous * $0 } ?? previous
        let x = try projected.split(count: 3, axis: -1)
        let z: Tensor, candidate: Tensor
        if resetAfter {
            var inner = try Tensor.matmul(masked, weights[0])
            if weights.count > 1 { inner = try inner + weights[1] }
            let rec = try inner.split(count: 3, axis: -1)
            z = try recurrentActivation(try x[0] + rec[0])
            let r = try recurrentActivation(try x[1] + rec[1])
            candidate = try activation(try x[2] + r * rec[2])
        } else {
            let rec = try Tensor.matmul(masked, weights[0]).split(count: 2, axis: -1)
            z = try recurrentActivation(try x[0] + rec[0])
            let r = try recurrentActivation(try x[1] + rec[1])
            candidate = try activation(try x[2] + Tensor.matmul(try r * masked, weights[1]))
        }
        let h = try z * previous + (1 - z) * candidate
        return (h, [h])
    }
}

/// `keras.layers.GRU` (Cho et al. 2014), `reset_after=True` by default as in
/// Keras 3 and tf-keras 2. With `returnState` it returns `[output, h]`.
///
/// ```swift
/// let gru = try GRU(units: 8, resetAfter: false)
/// ```
public final class GRU: RNN {
    public override class var flatCellConfig: Bool { true }
    public var units: Int { (cell as! GRUCell).units }

    public required init(config: LayerConfig) throws {
        try super.init(cell: try makeFlatCell(config, name: "gru_cell", GRUCell.init(config:)), config: config)
    }

    public convenience init(units: Int, activation: String = "tanh", recurrentActivation: String = "sigmoid",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal, biasInitializer: Initializer = .zeros,
                            dropout: Double = 0, recurrentDropout: Double = 0, resetAfter: Bool = true,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            unroll: Bool = false, name: String? = nil) throws {
        let cell = try GRUCell(units: units, activation: activation, recurrentActivation: recurrentActivation,
                               useBias: useBias, kernelInitializer: kernelInitializer,
                               recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                               dropout: dropout, recurrentDropout: recurrentDropout, resetAfter: resetAfter,
                               name: "gru_cell")
        var c = Self.sequenceConfig(name: name, returnSequences: returnSequences, returnState: returnState,
                                    goBackwards: goBackwards, unroll: unroll)
        cell.writeConfig(to: &c)
        try self.init(config: LayerConfig(c))
    }
}
