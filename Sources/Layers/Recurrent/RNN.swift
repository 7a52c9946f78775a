import Tensor

/// One timestep of a recurrent layer, as `keras.layers.LSTMCell` and friends:
/// the weights, the input transform of a whole sequence, and the step.
///
/// ``RNN`` owns a cell as a sublayer and runs the loop. It transforms every
/// timestep's input at once with ``projectInputs(_:)`` (one matmul or one
/// convolution over `[time·batch, ...]`), reads the recurrent weights once
/// with ``recurrentWeights()``, and then calls
/// ``step(_:states:weights:recurrentMask:)`` per timestep, so only the
/// recurrent transform is computed step by step.
///
/// A subclass creates its weights in `build` through
/// ``addCellWeights(kernel:recurrentKernel:bias:forgetGateWidth:)`` and writes
/// its own config keys in ``writeConfig(to:)``.
open class RecurrentCell: Layer {
    /// The activation of the candidate (and of the LSTM output).
    public var activation: ActivationFunction
    public let useBias: Bool
    public var kernelOptions: WeightOptions
    public var recurrentOptions: WeightOptions
    public var biasOptions: WeightOptions
    /// Fraction of the input units dropped in training; one mask per sequence.
    public let dropout: Double
    /// Fraction of the previous output dropped before the recurrent transform in training.
    public let recurrentDropout: Double
    public private(set) var kernel: Variable!
    public private(set) var recurrentKernel: Variable!
    public private(set) var bias: Variable?

    /// The rank of one timestep's input, batch included: 2 for `[batch, features]`.
    open var stepRank: Int { 2 }

    public required init(config: LayerConfig) throws {
        activation = try ActivationFunction(config: config, default: "tanh")
        useBias = try config.bool("use_bias", default: true)
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        recurrentOptions = try WeightOptions(config: config, prefix: "recurrent", defaultInitializer: .orthogonal)
        biasOptions = try WeightOptions(config: config, prefix: "bias", defaultInitializer: .zeros)
        // Keras clips both rates to [0, 1].
        dropout = min(1, max(0, config.has("dropout") ? try config.double("dropout") : 0))
        recurrentDropout = min(1, max(0, config.has("recurrent_dropout") ? try config.double("recurrent_dropout") : 0))
        try super.init(config: config)
    }

    /// The config a Swift initializer passes to ``init(config:)``: the keys
    /// every cell shares, then `values`.
    static func makeConfig(name: String?, activation: String, useBias: Bool, kernelInitializer: Initializer,
                           recurrentInitializer: Initializer, biasInitializer: Initializer, dropout: Double,
                           recurrentDropout: Double, _ values: JSONObject) -> LayerConfig {
        var c: JSONObject = [
            "name": .string(name ?? NameScope.unique(for: className)), "activation": .string(activation),
            "use_bias": .bool(useBias), "kernel_initializer": kernelInitializer.json,
            "recurrent_initializer": recurrentInitializer.json, "bias_initializer": biasInitializer.json,
            "dropout": .double(dropout), "recurrent_dropout": .double(recurrentDropout),
        ]
        for (key, value) in values { c[key] = value }
        return LayerConfig(c)
    }

    /// A positive integer config value such as `units` or `filters`.
    static func positiveInt(_ config: LayerConfig, _ key: String) throws -> Int {
        let v = try config.int(key)
        guard v > 0 else { throw config.fail(key, "a positive integer") }
        return v
    }

    /// Writes the keys this cell models; a layer such as `LSTM` writes them flat into its own config.
    open func writeConfig(to c: inout JSONObject) {
        c["activation"] = .string(activation.name)
        c["use_bias"] = .bool(useBias)
        kernelOptions.write(to: &c, prefix: "kernel")
        recurrentOptions.write(to: &c, prefix: "recurrent")
        biasOptions.write(to: &c, prefix: "bias")
        c["dropout"] = .double(dropout)
        c["recurrent_dropout"] = .double(recurrentDropout)
    }

    open override func getConfig() -> JSONObject {
        var c = super.getConfig()
        writeConfig(to: &c)
        return c
    }

    /// The shapes of the states, batch excluded, for a step input shape
    /// (batch excluded). The first state is also the step's output.
    open func stateShapes(stepInputShape: Shape) throws -> [Shape] {
        throw LayerError.badConfig(layer: name, "\(Self.className) does not implement stateShapes")
    }

    /// The input contribution of many timesteps at once: `x` is
    /// `[time·batch, step...]`, the result `[time·batch, ...]`. By default
    /// `x · kernel + bias`.
    open func projectInputs(_ x: Tensor) throws -> Tensor {
        let projected = try Tensor.matmul(x, kernel.read())
        return try bias.map { try projected + $0.read() } ?? projected
    }

    /// The weights a step uses, read once per sequence (by default the recurrent kernel).
    open func recurrentWeights() throws -> [Tensor] { [recurrentKernel.read()] }

    /// One timestep: `projected` is this step's slice of ``projectInputs(_:)``,
    /// `weights` the result of ``recurrentWeights()``. `recurrentMask`, when
    /// set, multiplies the previous output where it enters the recurrent
    /// transform. Returns the output and the new states.
    open func step(_ projected: Tensor, states: [Tensor], weights: [Tensor],
                   recurrentMask: Tensor?) throws -> (output: Tensor, states: [Tensor]) {
        throw LayerError.badConfig(layer: name, "\(Self.className) does not implement step")
    }

    /// Timestep `t` of an untracked sequence of input transforms
    /// `[time, batch, ...]`, without a recurrent mask, at inference. By default
    /// ``step(_:states:weights:recurrentMask:)`` on a copy of the step's slice;
    /// a cell may read the slice in place.
    open func step(sequence: Tensor, at t: Int, states: [Tensor], weights: [Tensor]) throws
        -> (output: Tensor, states: [Tensor]) {
        try step(timestep(sequence, t), states: states, weights: weights, recurrentMask: nil)
    }

    /// At inference, the weights of ``jointStep(sequence:at:states:weights:)``,
    /// which runs a step's input and recurrent transforms as one; nil (the
    /// default) when the cell has no such step or cannot take it.
    open func jointStepWeights() throws -> [Tensor]? { nil }

    /// Timestep `t` of an untracked input sequence `[time, batch, step...]`
    /// (not transformed), without a recurrent mask, with the weights of
    /// ``jointStepWeights()``.
    open func jointStep(sequence: Tensor, at t: Int, states: [Tensor], weights: [Tensor]) throws
        -> (output: Tensor, states: [Tensor]) {
        throw LayerError.badConfig(layer: name, "\(Self.className) does not implement jointStep")
    }

    /// Creates `kernel`, `recurrent_kernel` and, with ``useBias``, `bias`, in
    /// Keras's order. `forgetGateWidth` sets `bias[w..<2w]` to one after the
    /// bias initializer, as `unit_forget_bias` does.
    public func addCellWeights(kernel kernelShape: [Int], recurrentKernel recurrentShape: [Int], bias biasShape: [Int],
                               forgetGateWidth: Int? = nil) throws {
        kernel = try addWeight(name: "kernel", shape: kernelShape, initializer: kernelOptions.initializer,
                               regularizer: kernelOptions.regularizer, constraint: kernelOptions.constraint)
        recurrentKernel = try addWeight(name: "recurrent_kernel", shape: recurrentShape,
                                        initializer: recurrentOptions.initializer,
                                        regularizer: recurrentOptions.regularizer, constraint: recurrentOptions.constraint)
        guard useBias else { return }
        let b = try addWeight(name: "bias", shape: biasShape, initializer: biasOptions.initializer,
                              regularizer: biasOptions.regularizer, constraint: biasOptions.constraint)
        if let w = forgetGateWidth {
            let initial = biasOptions.initializer
            try b.assign(try Tensor.concatenate([
                try initial([w], generator: &RandomState.generator), .ones([w]),
                try initial([biasShape[0] - 2 * w], generator: &RandomState.generator),
            ], axis: 0))
        }
        bias = b
    }

    /// The `[features]` step shape of a vector cell, with a known feature count.
    func featureCount(_ stepInputShape: Shape) throws -> Int {
        guard stepInputShape.count == stepRank - 1, let f = stepInputShape.last ?? nil else {
            throw LayerError.shapeMismatch(layer: name, "needs steps of shape (features,) with known features, got \(formatShape(stepInputShape))")
        }
        return f
    }
}

/// `keras.layers.RNN`: runs a ``RecurrentCell`` over the time axis of
/// `[batch, time, step...]` inputs. Also the base of `SimpleRNN`, `LSTM`,
/// `GRU` and the `ConvLSTM` layers.
///
/// ```swift
/// let rnn = try RNN(cell: LSTMCell(units: 4), returnSequences: true)
/// let y = try rnn(x)   // [batch, time, 4]
/// ```
/// `call` returns `[output]`, or `[output] + states` with ``returnState``.
/// Extra inputs after the sequence are initial states (Keras's `initial_state`).
/// `stateful=True` is rejected; `unroll` is accepted and has no effect.
///
/// A `[batch, time]` mask on the sequence skips timesteps as Keras's
/// `backend.rnn` does: a masked step keeps the previous states and repeats
/// the previous output (zeros before the first unmasked step), or outputs
/// zeros with ``zeroOutputForMask``. The sequence output keeps the mask; the
/// last output and the states are unmasked. As in Keras 3, the mask is not
/// applied when initial states are given as inputs (it still propagates).
open class RNN: Layer {
    /// The cell, unless the class writes a flat config (LSTM, GRU, SimpleRNN).
    open override var nestedConfigLayers: [(key: String, layer: Layer)] { Self.flatCellConfig ? [] : [("cell", cell)] }
    open override func saveableChildren() throws -> [(name: String, child: SaveableChild)] { [("cell", .layer(cell))] }
    /// Extra inputs are initial states: `build(sequences_shape, initial_state_shape)`.
    open override func namedBuildShapes(_ shapes: [Shape]) -> JSONObject? {
        guard shapes.count > 1 else { return nil }
        return ["sequences_shape": JSONValue(shape: shapes[0]),
                "initial_state_shape": .array(shapes.dropFirst().map { JSONValue(shape: $0) })]
    }

    public let cell: RecurrentCell
    /// Output every timestep (`[batch, time, ...]`) instead of the last one.
    public let returnSequences: Bool
    /// Also return the final states.
    public let returnState: Bool
    /// Process the sequence from the last timestep; sequence outputs stay in processing order.
    public let goBackwards: Bool
    /// Accepted for Keras compatibility; the loop is never unrolled.
    public let unroll: Bool
    /// tf-keras `time_major`: inputs and sequence outputs are `[time, batch, ...]`.
    public let timeMajor: Bool
    /// Output zeros at masked timesteps instead of the previous output.
    public var zeroOutputForMask: Bool
    let keras2: Bool

    /// Whether the cell's keys are written flat into this layer's config
    /// (`LSTM`, `GRU`, ...) rather than nested under `cell` (`RNN`).
    open class var flatCellConfig: Bool { false }

    /// Whether tf-keras names this layer's weights through the cell (`lstm/lstm_cell/kernel`
    /// rather than `conv_lstm2d/kernel`).
    class var keras2CellInWeightNames: Bool { true }

    open override var sublayers: [Layer] { [cell] }

    /// Keras 3 passes initial states as the `initial_state` keyword argument.
    open override class var tensorCallArgumentKeys: [String] { ["initial_state"] }

    /// Wraps `cell`, reading the sequence keys (`return_sequences`,
    /// `return_state`, `go_backwards`, `stateful`, `unroll`, `time_major`) from `config`.
    public init(cell: RecurrentCell, config: LayerConfig) throws {
        self.cell = cell
        returnSequences = try config.bool("return_sequences", default: false)
        returnState = try config.bool("return_state", default: false)
        goBackwards = try config.bool("go_backwards", default: false)
        unroll = try config.bool("unroll", default: false)
        timeMajor = try config.bool("time_major", default: false)
        zeroOutputForMask = try config.bool("zero_output_for_mask", default: false)
        keras2 = config.keras2
        guard try !config.bool("stateful", default: false) else {
            throw LayerError.badConfig(layer: config.layerName, "stateful=True is not supported: "
                + "pass the previous final states as initial states instead")
        }
        try super.init(config: config)
    }

    /// Creates the layer from a Keras config whose `cell` key holds a serialized cell.
    public required convenience init(config: LayerConfig) throws {
        let layer = try makeNestedLayer(config, key: "cell")
        guard let cell = layer as? RecurrentCell else {
            throw LayerError.badConfig(layer: config.layerName, "cell '\(layer.name)' (\(type(of: layer).className)) is not a recurrent cell")
        }
        try self.init(cell: cell, config: config)
    }

    /// Wraps `cell` with the given sequence options.
    public convenience init(cell: RecurrentCell, returnSequences: Bool = false, returnState: Bool = false,
                            goBackwards: Bool = false, unroll: Bool = false, name: String? = nil) throws {
        var c = Self.sequenceConfig(name: name, returnSequences: returnSequences, returnState: returnState,
                                    goBackwards: goBackwards, unroll: unroll)
        c["cell"] = serializeNestedLayer(cell, source: nil)
        try self.init(cell: cell, config: LayerConfig(c))
    }

    /// The config keys every recurrent layer shares, for Swift initializers.
    static func sequenceConfig(name: String?, returnSequences: Bool, returnState: Bool,
                               goBackwards: Bool, unroll: Bool) -> JSONObject {
        ["name": .string(name ?? NameScope.unique(for: className)), "return_sequences": .bool(returnSequences),
         "return_state": .bool(returnState), "go_backwards": .bool(goBackwards), "stateful": false,
         "unroll": .bool(unroll)]
    }

    open override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["return_sequences"] = .bool(returnSequences)
        c["return_state"] = .bool(returnState)
        c["go_backwards"] = .bool(goBackwards)
        c["stateful"] = false
        c["unroll"] = .bool(unroll)
        // tf-keras writes the key only when set.
        if !keras2 || zeroOutputForMask { c["zero_output_for_mask"] = .bool(zeroOutputForMask) }
        if Self.flatCellConfig {
            cell.writeConfig(to: &c)
        } else {
            c["cell"] = serializeNestedLayer(cell, source: sourceConfig["cell"])
        }
        return c
    }

    // MARK: Shapes

    private var timeAxis: Int { timeMajor ? 0 : 1 }
    private var batchAxis: Int { timeMajor ? 1 : 0 }

    /// The sequence input's shape, checked to be `[batch, time, step...]`.
    private func sequenceShape(_ inputShapes: [Shape]) throws -> Shape {
        guard let shape = inputShapes.first else { throw LayerError.shapeMismatch(layer: name, "expects a sequence input") }
        let rank = cell.stepRank + 1
        guard shape.count == rank else {
            let axes = timeMajor ? "time, batch" : "batch, time"
            throw LayerError.shapeMismatch(layer: name, "expects an input of rank \(rank) (\(axes), "
                + (rank == 3 ? "features" : "spatial..., channels") + "), got shape \(formatShape(shape))")
        }
        return shape
    }

    open override func build(_ inputShapes: [Shape]) throws {
        let shape = try sequenceShape(inputShapes)
        try reportingAsLayer { try cell.buildIfNeeded([[shape[batchAxis]] + shape.dropFirst(2)]) }
        // Keras 3 names cell variables under the layer (`lstm/lstm_cell/kernel`).
        adoptWeights(of: cell, dropping: keras2 && !Self.keras2CellInWeightNames ? cell.name : nil)
    }

    /// Runs `body`, reporting the cell's errors under this layer's name.
    private func reportingAsLayer<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let LayerError.shapeMismatch(layer, message) where layer == cell.name {
            throw LayerError.shapeMismatch(layer: name, message)
        } catch let LayerError.badConfig(layer, message) where layer == cell.name {
            throw LayerError.badConfig(layer: name, message)
        }
    }

    open override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        let shape = try sequenceShape(inputShapes)
        let states = try reportingAsLayer { try cell.stateShapes(stepInputShape: Array(shape.dropFirst(2))) }
        let (batch, time) = (shape[batchAxis], shape[timeAxis])
        let output = returnSequences ? (timeMajor ? [time, batch] : [batch, time]) + states[0] : [batch] + states[0]
        return [output] + (returnState ? states.map { [batch] + $0 } : [])
    }

    // MARK: Calling

    open override var supportsMasking: Bool { true }

    /// The sequence output keeps the input mask; the last output and states have none.
    open override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        [returnSequences ? masks.first ?? nil : nil]
    }

    open override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: inputs.map { _ in nil }, training: training)
    }

    open override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        let sequence = inputs[0]
        let shape = try sequenceShape([sequence.shape.map { $0 }])
        if let expected = builtInputShapes.first {
            for axis in 2..<shape.count where expected[axis] != nil && expected[axis] != shape[axis] {
                throw LayerError.shapeMismatch(layer: name, "expects inputs of shape \(formatShape(expected)), got \(sequence.shape)")
            }
        }
        // Time-major from here on: [time, batch, step...].
        var x = timeMajor ? sequence : try sequence.transposed([1, 0] + Array(2..<sequence.rank))
        let (time, batch) = (x.shape[0], x.shape[1])
        guard time > 0 else { throw LayerError.shapeMismatch(layer: name, "needs at least one timestep, got shape \(sequence.shape)") }
        let stepShape = Array(x.shape.dropFirst(2))
        let stateShapes = try reportingAsLayer { try cell.stateShapes(stepInputShape: stepShape.map { $0 }) }.map { $0.map { $0! } }

        if training, let mask = dropoutMask(rate: cell.dropout, shape: [1, batch] + stepShape) { x = try x * mask }
        var states = try initialStates(Array(inputs.dropFirst()), batch: batch, shapes: stateShapes)
        let stepMasks = try inputs.count == 1 ? (masks.first ?? nil).map { try timestepMasks($0, time: time, batch: batch) } : nil
        let recurrentMask = training ? dropoutMask(rate: cell.recurrentDropout, shape: [batch] + stateShapes[0]) : nil
        // At inference a cell may transform each step's input together with its recurrent input.
        let joint = x.isTracked || recurrentMask != nil || states.contains(where: { $0.isTracked })
            ? nil : try cell.jointStepWeights()
        let transforms: Tensor
        if joint != nil {
            transforms = x
        } else {
            let projected = try cell.projectInputs(try x.reshaped(to: [time * batch] + stepShape))
            transforms = try projected.reshaped(to: [time, batch] + projected.shape.dropFirst())
        }
        let weights = try joint ?? cell.recurrentWeights()
        // Untracked, each step reads its slice of the sequence (in place if the cell can).
        let untracked = !transforms.isTracked && recurrentMask == nil
        let steps = untracked ? [] : try unstack(transforms)
        var outputs: [Tensor] = []
        outputs.reserveCapacity(returnSequences ? time : 1)
        var previousOutput = Tensor(0)
        for t in goBackwards ? Array((0..<time).reversed()) : Array(0..<time) {
            var (y, next) = joint != nil
                ? try cell.jointStep(sequence: transforms, at: t, states: states, weights: weights)
                : untracked
                ? try cell.step(sequence: transforms, at: t, states: states, weights: weights)
                : try cell.step(steps[t], states: states, weights: weights, recurrentMask: recurrentMask)
            if let keep = stepMasks?[t] {
                y = try Tensor.where(keep, y, zeroOutputForMask ? Tensor(0) : previousOutput)
                next = try zip(next, states).map { try Tensor.where(keep, $0, $1) }
                previousOutput = y
            }
            states = next
            if returnSequences || t == (goBackwards ? 0 : time - 1) { outputs.append(y) }
        }
        let output = returnSequences ? try Tensor.stack(outputs, axis: timeAxis) : outputs[0]
        return [output] + (returnState ? states : [])
    }

    /// The per-timestep masks of a mask shaped like the input's first two
    /// axes, each `[batch, 1...]` to broadcast over a step's output and states.
    private func timestepMasks(_ mask: Tensor, time: Int, batch: Int) throws -> [Tensor] {
        let expected = timeMajor ? [time, batch] : [batch, time]
        guard mask.shape == expected else {
            throw LayerError.shapeMismatch(layer: name, "expects a mask of shape \(expected), got \(mask.shape)")
        }
        let timeFirst = timeMajor ? mask : try mask.transposed([1, 0])
        let ones = [Int](repeating: 1, count: cell.stepRank - 1)
        return try unstack(timeFirst).map { try $0.reshaped(to: [batch] + ones) }
    }

    /// Zero states, or the given initial states after checking their shapes.
    private func initialStates(_ given: [Tensor], batch: Int, shapes: [[Int]]) throws -> [Tensor] {
        guard !given.isEmpty else { return shapes.map { Tensor.zeros([batch] + $0) } }
        guard given.count == shapes.count else {
            throw LayerError.shapeMismatch(layer: name, "expects \(shapes.count) initial state(s), got \(given.count)")
        }
        for (s, shape) in zip(given, shapes) where s.shape != [batch] + shape {
            throw LayerError.shapeMismatch(layer: name, "expects initial states of shape \([batch] + shape), got \(s.shape)")
        }
        return given
    }
}

// MARK: - Helpers shared by the recurrent layers and wrappers

extension Layer {
    /// Prefixes a sublayer's variable names with this layer's name, as Keras
    /// names variables created while building inside a parent
    /// (`lstm/lstm_cell/kernel`). `dropping` first removes that leading
    /// component (tf-keras writes `time_distributed/kernel`).
    func adoptWeights(of sublayer: Layer, dropping: String? = nil) {
        for w in sublayer.weights {
            var rest = Substring(w.name)
            if let d = dropping, rest.hasPrefix(d + "/") { rest = rest.dropFirst(d.count + 1) }
            w.name = "\(name)/\(rest)"
        }
    }
}

/// The keys of a layer config that belong to the sequence loop, not the cell.
private let sequenceKeys: Set<String> = [
    "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask", "time_major",
    "activity_regularizer",
]

/// The cell of a flat layer config (`LSTM` → `LSTMCell`), created from every
/// key but the sequence ones (so config errors name the layer), then given
/// the name Keras gives it.
func makeFlatCell<C: RecurrentCell>(_ config: LayerConfig, name: String, _ make: (LayerConfig) throws -> C) throws -> C {
    var values = JSONObject()
    for (key, value) in config.values where !sequenceKeys.contains(key) { values[key] = value }
    let cell = try make(LayerConfig(values, keras2: config.keras2, makeNested: config.makeNested))
    cell.name = name
    return cell
}

/// Creates the layer serialized under `key` (`{"class_name", "config", ...}`).
func makeNestedLayer(_ config: LayerConfig, key: String) throws -> Layer {
    guard let object = config[key]?.objectValue, let className = object["class_name"]?.stringValue,
          let inner = object["config"]?.objectValue else {
        throw config.fail(key, "a serialized layer {\"class_name\": ..., \"config\": {...}}")
    }
    if let makeNested = config.makeNested { return try makeNested(.object(object)) }
    return try LayerRegistry.makeLayer(className: className, registeredName: object["registered_name"]?.stringValue,
                                       config: LayerConfig(inner, keras2: config.keras2))
}

/// A nested layer as Keras serializes it. Reuses the object it was loaded
/// from, so keys such as `module` and `build_config` are kept.
func serializeNestedLayer(_ layer: Layer, config: JSONObject? = nil, source: JSONValue?) -> JSONValue {
    let body = JSONValue.object(config ?? layer.getConfig())
    guard var object = source?.objectValue else {
        return ["module": "keras.layers", "class_name": .string(type(of: layer).className), "config": body, "registered_name": nil]
    }
    object["config"] = body
    return .object(object)
}

/// Keras's dropout mask: 0 with probability `rate`, else `1 / (1 - rate)`;
/// nil unless `0 < rate < 1`. Drawn from ``RandomState/generator``.
func dropoutMask(rate: Double, shape: [Int]) -> Tensor? {
    guard rate > 0, rate < 1 else { return nil }
    let keep = Float(1 - rate), scale = 1 / keep
    let n = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n where RandomState.generator.nextUnitFloat() < keep { values[i] = scale }
    return Tensor(shape: shape, scalars: values)
}

/// Slice `t` of an untracked `[time, ...]` tensor, as a copy of its contiguous run.
func timestep(_ x: Tensor, _ t: Int) -> Tensor {
    let size = x.count / Swift.max(1, x.shape[0])
    return Tensor(shape: Array(x.shape.dropFirst()), scalars: Array(x.scalars[(t * size)..<((t + 1) * size)]))
}

/// The slices of `x` along axis 0, each without that axis. Halving
/// recursively keeps the gradient pass at O(n·log T) for T slices of an
/// n-element tensor: a slice's gradient is materialized at its parent's
/// size, so slicing the whole tensor T times would cost O(n·T).
/// Untracked (inference), each slice is one copy of its contiguous run.
func unstack(_ x: Tensor) throws -> [Tensor] {
    let count = x.shape[0]
    if count == 1 { return [try x.reshaped(to: Array(x.shape.dropFirst()))] }
    if !x.isTracked { return (0..<count).map { timestep(x, $0) } }
    let halves = try x.split(sizes: [count / 2, count - count / 2], axis: 0)
    return try unstack(halves[0]) + unstack(halves[1])
}
