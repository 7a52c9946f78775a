import Tensor

/// The cell of the `ConvLSTM1D/2D/3D` layers: an ``LSTMCell`` whose input and
/// recurrent transforms are convolutions over channels-last steps
/// `[batch, spatial..., channels]`. The recurrent convolution uses stride 1
/// and `same` padding, so the states keep the input transform's output size.
public final class ConvLSTMCell: RecurrentCell {
    /// The number of spatial axes (1, 2 or 3).
    public let rank: Int
    public let filters: Int
    public let kernelSize: [Int]
    public let strides: [Int]
    public let padding: Padding
    public let dilationRate: [Int]
    public var recurrentActivation: ActivationFunction
    /// Initializes the forget-gate bias to one.
    public let unitForgetBias: Bool

    public override var stepRank: Int { rank + 2 }

    /// Creates a cell with `rank` spatial axes from a ConvLSTM config.
    public init(rank: Int, config: LayerConfig) throws {
        self.rank = rank
        filters = try Self.positiveInt(config, "filters")
        kernelSize = try config.ints("kernel_size", count: rank)
        strides = try config.ints("strides", count: rank, default: [Int](repeating: 1, count: rank))
        dilationRate = try config.ints("dilation_rate", count: rank, default: [Int](repeating: 1, count: rank))
        guard (kernelSize + strides + dilationRate).allSatisfy({ $0 > 0 }) else {
            throw LayerError.badConfig(layer: config.layerName, "kernel_size, strides and dilation_rate must be positive")
        }
        padding = Padding(rawValue: try config.choice("padding", ["valid", "same"], default: "valid"))!
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw LayerError.badConfig(layer: config.layerName, "data_format '\(format)' is not supported; only 'channels_last' is")
        }
        recurrentActivation = try ActivationFunction(config: config, key: "recurrent_activation", default: "sigmoid")
        unitForgetBias = try config.bool("unit_forget_bias", default: true)
        try super.init(config: config)
    }

    /// Creates the cell from a config whose `kernel_size` list gives the rank.
    public required convenience init(config: LayerConfig) throws {
        guard let rank = config["kernel_size"]?.arrayValue?.count, (1...3).contains(rank) else {
            throw config.fail("kernel_size", "a list of 1 to 3 integers")
        }
        try self.init(rank: rank, config: config)
    }

    public override func writeConfig(to c: inout JSONObject) {
        c["filters"] = .int(filters)
        c["kernel_size"] = JSONValue(ints: kernelSize)
        c["strides"] = JSONValue(ints: strides)
        c["padding"] = .string(padding.rawValue)
        c["data_format"] = "channels_last"
        c["dilation_rate"] = JSONValue(ints: dilationRate)
        c["recurrent_activation"] = .string(recurrentActivation.name)
        c["unit_forget_bias"] = .bool(unitForgetBias)
        super.writeConfig(to: &c)
    }

    public override func build(_ inputShapes: [Shape]) throws {
        let step = Array(inputShapes[0].dropFirst())
        guard step.count == rank + 1, let channels = step[rank] else {
            throw LayerError.shapeMismatch(layer: name, "needs steps of shape (spatial..., channels) with \(rank) spatial axes "
                + "and known channels, got \(formatShape(step))")
        }
        try addCellWeights(kernel: kernelSize + [channels, 4 * filters], recurrentKernel: kernelSize + [filters, 4 * filters],
                           bias: [4 * filters], forgetGateWidth: unitForgetBias ? filters : nil)
    }

    /// The input convolution's output shape, as Keras's `compute_conv_output_shape`.
    public override func stateShapes(stepInputShape: Shape) throws -> [Shape] {
        guard stepInputShape.count == rank + 1 else {
            throw LayerError.shapeMismatch(layer: name, "needs steps with \(rank) spatial axes, got \(formatShape(stepInputShape))")
        }
        var shape: Shape = []
        for i in 0..<rank {
            guard let size = stepInputShape[i] else {
                throw LayerError.shapeMismatch(layer: name, "needs known spatial sizes, got \(formatShape(stepInputShape))")
            }
            let extent = (kernelSize[i] - 1) * dilationRate[i] + 1
            guard padding == .same || size >= extent else {
                throw LayerError.shapeMismatch(layer: name, "a kernel of extent \(extent) does not fit spatial axis \(i + 1) "
                    + "of the step shape \(formatShape(stepInputShape)) with 'valid' padding")
            }
            shape.append(padding == .same ? (size + strides[i] - 1) / strides[i] : (size - extent) / strides[i] + 1)
        }
        return [shape + [filters], shape + [filters]]
    }

    public override func projectInputs(_ x: Tensor) throws -> Tensor {
        let (w, b) = (kernel.read(), bias?.read())
        // At inference the bias is added as the convolution's output is written.
        if !x.isTracked, !w.isTracked, let b, !b.isTracked {
            return try Tensor.conv(x, w, strides: strides, padding: padding, dilation: dilationRate,
                                   epilogue: ChannelEpilogue(bias: b.scalars))
        }
        let projected = try Tensor.conv(x, w, strides: strides, padding: padding, dilation: dilationRate)
        return try b.map { try projected + $0 } ?? projected
    }

    /// The input and recurrent kernels concatenated along their input
    /// channels (and the bias), when both convolutions have the same
    /// geometry (`same` padding, unit strides and dilation), the activations
    /// are the defaults, the filters a multiple of 8, and nothing is tracked.
    public override func jointStepWeights() throws -> [Tensor]? {
        guard padding == .same, strides.allSatisfy({ $0 == 1 }), dilationRate.allSatisfy({ $0 == 1 }),
              activation.function == .tanh, recurrentActivation.function == .sigmoid, filters % 8 == 0 else { return nil }
        let (w, u, b) = (kernel.read(), recurrentKernel.read(), bias?.read())
        guard !w.isTracked, !u.isTracked, !(b?.isTracked ?? false) else { return nil }
        return [try Tensor.concatenate([w, u], axis: rank)] + (b.map { [$0] } ?? [])
    }

    /// `conv([x_t, h], [kernel; recurrent_kernel]) + bias` and the gates in one fused step.
    public override func jointStep(sequence: Tensor, at t: Int, states: [Tensor], weights: [Tensor]) throws
        -> (output: Tensor, states: [Tensor]) {
        let joined = try Tensor.concatenate([timestep(sequence, t), states[0]], axis: -1)
        let bias = weights.count > 1 ? weights[1].scalars : nil
        if let fused = Tensor.convLSTMStepInference(joined: joined, weights[0], bias: bias, carry: states[1]) {
            return (fused.h, [fused.h, fused.c])
        }
        let z = try Tensor.conv(joined, weights[0], padding: .same, epilogue: bias.map { ChannelEpilogue(bias: $0) })
        let (h, c) = try lstmGates(z, carry: states[1], activation: activation, recurrentActivation: recurrentActivation)
        return (h, [h, c])
    }

    /// At inference with the default activations: the fused step, reading the
    /// step's input transform in place.
    public override func step(sequence: Tensor, at t: Int, states: [Tensor], weights: [Tensor]) throws
        -> (output: Tensor, states: [Tensor]) {
        if activation.function == .tanh, recurrentActivation.function == .sigmoid,
           let fused = Tensor.convLSTMStepInference(states[0], weights[0], projectedSequence: sequence, timestep: t,
                                                    carry: states[1]) {
            return (fused.h, [fused.h, fused.c])
        }
        return try super.step(sequence: sequence, at: t, states: states, weights: weights)
    }

    public override func step(_ projected: Tensor, states: [Tensor], weights: [Tensor],
                              recurrentMask: Tensor?) throws -> (output: Tensor, states: [Tensor]) {
        // At inference with the default activations: convolution and gates in one pass.
        if recurrentMask == nil, activation.function == .tanh, recurrentActivation.function == .sigmoid,
           let fused = Tensor.convLSTMStepInference(states[0], weights[0], projected: projected, carry: states[1]) {
            return (fused.h, [fused.h, fused.c])
        }
        let previous = try recurrentMask.map { try states[0] * $0 } ?? states[0]
        // At inference the projected input is added as the convolution's output is written.
        let z = projected.isTracked || previous.isTracked || weights[0].isTracked
            ? try projected + Tensor.conv(previous, weights[0], padding: .same)
            : try Tensor.conv(previous, weights[0], padding: .same, epilogue: ChannelEpilogue(residual: projected))
        let (h, c) = try lstmGates(z, carry: states[1], activation: activation, recurrentActivation: recurrentActivation)
        return (h, [h, c])
    }
}

/// The base of `ConvLSTM1D/2D/3D` (Shi et al. 2015): an LSTM over sequences
/// of channels-last feature maps `[batch, time, spatial..., channels]`.
/// With `returnState` it returns `[output, h, c]`.
public class ConvLSTM: RNN {
    /// The number of spatial axes.
    class var rank: Int { preconditionFailure("\(self) must override rank") }
    public override class var flatCellConfig: Bool { true }
    override class var keras2CellInWeightNames: Bool { false }
    public var filters: Int { (cell as! ConvLSTMCell).filters }

    public required init(config: LayerConfig) throws {
        let cell = try makeFlatCell(config, name: "conv_lstm_cell") { try ConvLSTMCell(rank: Self.rank, config: $0) }
        try super.init(cell: cell, config: config)
    }

    /// A ConvLSTM layer; `kernelSize`, `strides` and `dilationRate` take one
    /// value for every spatial axis or one per axis.
    public convenience init(filters: Int, kernelSize: [Int], strides: [Int] = [1], padding: String = "valid",
                            dilationRate: [Int] = [1], activation: String = "tanh", recurrentActivation: String = "sigmoid",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            recurrentInitializer: Initializer = .orthogonal, biasInitializer: Initializer = .zeros,
                            unitForgetBias: Bool = true, dropout: Double = 0, recurrentDropout: Double = 0,
                            returnSequences: Bool = false, returnState: Bool = false, goBackwards: Bool = false,
                            unroll: Bool = false, name: String? = nil) throws {
        func tuple(_ v: [Int]) -> JSONValue { JSONValue(ints: v.count == 1 ? [Int](repeating: v[0], count: Self.rank) : v) }
        let cell = try ConvLSTMCell(rank: Self.rank, config: RecurrentCell.makeConfig(
            name: "conv_lstm_cell", activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
            recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer, dropout: dropout,
            recurrentDropout: recurrentDropout,
            ["filters": .int(filters), "kernel_size": tuple(kernelSize), "strides": tuple(strides),
             "padding": .string(padding), "dilation_rate": tuple(dilationRate),
             "recurrent_activation": .string(recurrentActivation), "unit_forget_bias": .bool(unitForgetBias)]))
        var c = Self.sequenceConfig(name: name, returnSequences: returnSequences, returnState: returnState,
                                    goBackwards: goBackwards, unroll: unroll)
        cell.writeConfig(to: &c)
        try self.init(config: LayerConfig(c))
    }
}

/// `keras.layers.ConvLSTM1D`: inputs `[batch, time, length, channels]`.
public final class ConvLSTM1D: ConvLSTM {
    override class var rank: Int { 1 }
}

/// `keras.layers.ConvLSTM2D`: inputs `[batch, time, height, width, channels]`.
///
/// ```swift
/// let layer = try ConvLSTM2D(filters: 8, kernelSize: [3], padding: "same", returnSequences: true)
/// ```
public final class ConvLSTM2D: ConvLSTM {
    override class var rank: Int { 2 }
}

/// `keras.layers.ConvLSTM3D`: inputs `[batch, time, depth, height, width, channels]`.
public final class ConvLSTM3D: ConvLSTM {
    override class var rank: Int { 3 }
}
