import Tensor

/// `keras.layers.SimpleRNNCell`: `h = activation(x · kernel + h₋₁ · recurrent_kernel + bias)`.
public final class SimpleRNNCell: RecurrentCell {
    public let units: Int

    public required init(config: LayerConfig) throws {
        units = try Self.positiveInt(config, "units")
        try super.init(config: config)
    }

    /// A cell with `units` outputs.
    public convenience init(units: Int, activation: String = "tanh", useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal,
                            biasInitializer: Initializer = .zeros, dropout: Double = 0, recurrentDropout: Double = 0,
                            name: String? = nil) throws {
        try self.init(config: Self.makeConfig(name: name, activation: activation, useBias: useBias,
                                              kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
                                              biasInitializer: biasInitializer, dropout: dropout,
                                              recurrentDropout: recurrentDropout, ["units": .int(units)]))
    }

    public override func writeConfig(to c: inout JSONObject) {
        c["units"] = .int(units)
        super.writeConfig(to: &c)
    }

    public override func build(_ inputShapes: [Shape]) throws {
        let features = try featureCount(Array(inputShapes[0].dropFirst()))
        try addCellWeights(kernel: [features, units], recurrentKernel: [units, units], bias: [units])
    }

    public override func stateShapes(stepInputShape: Shape) throws -> [Shape] { [[units]] }

    public override func step(_ projected: Tensor, states: [Tensor], weights: [Tensor],
                              recurrentMask: Tensor?) throws -> (output: Tensor, states: [Tensor]) {
        let previous = try recurrentMask.map { try states[0] * $0 } ?? states[0]
        let h = try activation(try projected + Tensor.matmul(previous, weights[0]))
        return (h, [h])
    }
}

/// `keras.layers.SimpleRNN`: a fully connected RNN whose output is fed back.
///
/// ```swift
/// let rnn = try SimpleRNN(units: 4, returnSequences: true)
/// ```
public final class SimpleRNN: RNN {
    public override class var flatCellConfig: Bool { true }
    public var units: Int { (cell as! SimpleRNNCell).units }

    public required init(config: LayerConfig) throws {
        try super.init(cell: try makeFlatCell(config, name: "simple_rnn_cell", SimpleRNNCell.init(config:)), config: config)
    }

    public convenience init(units: Int, activation: String = "tanh", useBias: Bool = true,
                            kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal,
                            biasInitializer: Initializer = .zeros, dropout: Double = 0, recurrentDropout: Double = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            unroll: Bool = false, name: String? = nil) throws {
        let cell = try SimpleRNNCell(units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                                     recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                     dropout: dropout, recurrentDropout: recurrentDropout, name: "simple_rnn_cell")
        var c = Self.sequenceConfig(name: name, returnSequences: returnSequences, returnState: returnState,
                                    goBackwards: goBackwards, unroll: unroll)
        cell.writeConfig(to: &c)
        try self.init(config: LayerConfig(c))
    }
}
