import Tensor

/// `keras.layers.LSTMCell`. Gates in Keras's order i, f, c, o:
/// `c = f·c₋₁ + i·activation(z_c)`, `h = o·activation(c)`, where
/// `z = x·kernel + h₋₁·recurrent_kernel + bias` and i, f, o use `recurrent_activation`.
public final class LSTMCell: RecurrentCell {
    public let units: Int
    public var recurrentActivation: ActivationFunction
    /// Initializes the forget-gate bias to one.
    public let unitForgetBias: Bool

    public required init(config: LayerConfig) throws {
        units = try Self.positiveInt(config, "units")
        recurrentActivation = try ActivationFunction(config: config, key: "recurrent_activation", default: "sigmoid")
        unitForgetBias = try config.bool("unit_forget_bias", default: true)
        try super.init(config: config)
    }

    /// A cell with `units` outputs and two states (h, c).
    public convenience init(units: Int, activation: String = "tanh", recurrentActivation: String = "sigmoid",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal, biasInitializer: Initializer = .zeros,
                            unitForgetBias: Bool = true, dropout: Double = 0, recurrentDropout: Double = 0,
                            name: String? = nil) throws {
        try self.init(config: Self.makeConfig(
            name: name, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer, dropout: dropout,
            recurrentDropout: recurrentDropout,
            ["units": .int(units), "recurrent_activation": .string(recurrentActivation), "unit_forget_bias": .bool(unitForgetBias)]))
    }

    public override func writeConfig(to c: inout JSONObject) {
        c["units"] = .int(units)
        c["recurrent_activation"] = .string(recurrentActivation.name)
        c["unit_forget_bias"] = .bool(unitForgetBias)
        super.writeConfig(to: &c)
    }

    public override func build(_ inputShapes: [Shape]) throws {
        let features = try featureCount(Array(inputShapes[0].dropFirst()))
        try addCellWeights(kernel: [features, 4 * units], recurrentKernel: [units, 4 * units], bias: [4 * units],
                           forgetGateWidth: unitForgetBias ? units : nil)
    }

    public override func stateShapes(stepInputShape: Shape) throws -> [Shape] { [[units], [units]] }

    public override func step(_ projected: Tensor, states: [Tensor], weights: [Tensor],
                              recurrentMask: Tensor?) throws -> (output: Tensor, states: [Tensor]) {
        let previous = try recurrentMask.map { try states[0] * $0 } ?? states[0]
        let z = try projected + Tensor.matmul(previous, weights[0])
        let (h, c) = try lstmGates(z, carry: states[1], activation: activation, recurrentActivation: recurrentActivation)
        return (h, [h, c])
    }
}

/// The LSTM update from pre-activations `z` (gates i, f, c, o on the last
/// axis) and the previous carry; shared with the convolutional LSTM.
func lstmGates(_ z: Tensor, carry: Tensor, activation: ActivationFunction,
               recurrentActivation: ActivationFunction) throws -> (h: Tensor, c: Tensor) {
    if activation.function == .tanh, recurrentActivation.function == .sigmoid,
       let fused = Tensor.lstmGates(z, carry: carry) {
        return fused
    }
    let g = try z.split(count: 4, axis: -1)
    let i = try recurrentActivation(g[0]), f = try recurrentActivation(g[1])
    let c = try f * carry + i * activation(g[2])
    let o = try recurrentActivation(g[3])
    return (try o * activation(c), c)
}

/// `keras.layers.LSTM` (Hochreiter 1997). With `returnState` it returns
/// `[output, h, c]`.
///
/// ```swift
/// let lstm = try LSTM(units: 8, returnSequences: true)
/// ```
public final class LSTM: RNN {
    public override class var flatCellConfig: Bool { true }
    public var units: Int { (cell as! LSTMCell).units }

    public required init(config: LayerConfig) throws {
        try super.init(cell: try makeFlatCell(config, name: "lstm_cell", LSTMCell.init(config:)), config: config)
    }

    public convenience init(units: Int, activation: String = "tanh", recurrentActivation: String = "sigmoid",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal, biasInitializer: Initializer = .zeros,
                            unitForgetBias: Bool = true, dropout: Double = 0, recurrentDropout: Double = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            unroll: Bool = false, name: String? = nil) throws {
        let cell = try LSTMCell(units: units, activation: activation, recurrentActivation: recurrentActivation,
                                useBias: useBias, kernelInitializer: kernelInitializer,
                                recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
                                unitForgetBias: unitForgetBias, dropout: dropout, recurrentDropout: recurrentDropout,
                                name: "lstm_cell")
        var c = Self.sequenceConfig(name: name, returnSequences: returnSequences, returnState: returnState,
                                    goBackwards: goBackwards, unroll: unroll)
        cell.writeConfig(to: &c)
        try self.init(config: LayerConfig(c))
    }
}
