import Tensor

/// `keras.layers.TimeDistributed`: applies a layer to every timestep of a
/// `[batch, time, ...]` input by folding time into the batch.
///
/// ```swift
/// let td = TimeDistributed(try Dense(units: 3))
/// let y = try td(x)   // [batch, time, 3]
/// ```
/// The wrapped layer's weights are this layer's weights. Folding means a
/// layer that mixes samples (BatchNormalization in training) sees all
/// timesteps as one batch, as in tf-keras.
public final class TimeDistributed: Layer {
    public override var nestedConfigLayers: [(key: String, layer: Layer)] { [("layer", layer)] }
    public override func saveableChildren() throws -> [(name: String, child: SaveableChild)] { [("layer", .layer(layer))] }

    /// The wrapped layer's delta roles.
    public override var macsPerInputElement: Double? { layer.macsPerInputElement }
    public override var hasNonLinearOutput: Bool { layer.hasNonLinearOutput }
    public override var passesDeltas: Bool { layer.passesDeltas }
    public override func passThroughRatio(_ inputShape: Shape) -> Double {
        layer.passThroughRatio(Array(inputShape.prefix(1)) + inputShape.dropFirst(2))
    }

    public let layer: Layer
    private let keras2: Bool

    public override var sublayers: [Layer] { [layer] }

    /// Wraps `layer` itself (not a copy).
    public init(_ layer: Layer, name: String? = nil) {
        self.layer = layer
        keras2 = false
        super.init(name: name)
    }

    public required init(config: LayerConfig) throws {
        layer = try makeNestedLayer(config, key: "layer")
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["layer"] = serializeNestedLayer(layer, source: sourceConfig["layer"])
        return c
    }

    /// The wrapped layer's input shape: `[batch, step...]`.
    private func stepShape(_ inputShapes: [Shape]) throws -> Shape {
        guard inputShapes.count == 1, let shape = inputShapes.first, shape.count >= 3 else {
            throw LayerError.shapeMismatch(layer: name, "expects one input of rank ≥ 3 (batch, time, ...), got "
                + inputShapes.map(formatShape).joined(separator: ", "))
        }
        return [shape[0]] + shape.dropFirst(2)
    }

    public override func build(_ inputShapes: [Shape]) throws {
        try layer.buildIfNeeded([try stepShape(inputShapes)])
        // Keras 3: `time_distributed/dense/kernel`; tf-keras: `time_distributed/kernel`.
        adoptWeights(of: layer, dropping: keras2 ? layer.name : nil)
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        let time = inputShapes[0].count > 1 ? inputShapes[0][1] : nil
        return try layer.computeOutputShapes([try stepShape(inputShapes)]).map { s in
            s.isEmpty ? [nil, time] : [s[0], time] + s.dropFirst()
        }
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: [nil], training: training)
    }

    /// The `[batch, time, ...]` mask reaches the wrapped layer folded like
    /// the input, as Keras passes each timestep's slice; the output keeps
    /// the input mask (Keras 3's default `compute_mask`).
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        _ = try stepShape(inputs.map { $0.shape.map { $0 } })
        let x = inputs[0]
        let (batch, time) = (x.shape[0], x.shape[1])
        let folded = try x.reshaped(to: [batch * time] + x.shape.dropFirst(2))
        let mask = try (masks.first ?? nil).map { m -> Tensor in
            guard m.rank >= 2, m.shape[0] == batch, m.shape[1] == time else {
                throw LayerError.shapeMismatch(layer: name, "expects a mask of shape starting (\(batch), \(time)), got \(m.shape)")
            }
            return try m.reshaped(to: [batch * time] + m.shape.dropFirst(2))
        }
        // Keras 3 runs the wrapped layer's `call`; tf-keras calls the layer
        // (which also applies its activity regularizer).
        let outputs = keras2 ? try layer([folded], masks: [mask], training: training).outputs
            : try layer.call([folded], masks: [mask], training: training)
        return try outputs.map { try $0.reshaped(to: [batch, time] + $0.shape.dropFirst()) }
    }

    public override var supportsMasking: Bool { true }
}

/// `keras.layers.Bidirectional`: runs a recurrent layer forwards and a copy
/// backwards over the sequence and merges their outputs.
///
/// ```swift
/// let bi = try Bidirectional(LSTM(units: 4, returnSequences: true), mergeMode: "concat")
/// let y = try bi(x)   // [batch, time, 8]
/// ```
/// As in Keras, the forward layer is rebuilt from `layer`'s config under the
/// name `forward_<name>`; the backward layer is `backwardLayer`'s config or
/// `layer`'s with `go_backwards` flipped, named `backward_<name>`. Its
/// sequence output is flipped back to forward time before merging.
/// `mergeMode` is `"concat"`, `"sum"`, `"mul"`, `"ave"`, or nil to return
/// both outputs. With `return_state`, the forward then backward final states
/// follow the output(s). Extra inputs are initial states, forward half first.
public final class Bidirectional: Layer {
    public override var nestedConfigLayers: [(key: String, layer: Layer)] {
        [("layer", forwardLayer), ("backward_layer", backwardLayer)]
    }
    public override func saveableChildren() throws -> [(name: String, child: SaveableChild)] {
        [("backward_layer", .layer(backwardLayer)), ("forward_layer", .layer(forwardLayer))]
    }

    public let forwardLayer: RNN
    public let backwardLayer: RNN
    public let mergeMode: String?
    private let keras2: Bool

    public static let mergeModes = ["concat", "sum", "mul", "ave"]

    public override var sublayers: [Layer] { [forwardLayer, backwardLayer] }
    public var returnSequences: Bool { forwardLayer.returnSequences }
    public var returnState: Bool { forwardLayer.returnState }

    public required init(config: LayerConfig) throws {
        let layerName = config.layerName
        func recurrent(_ key: String) throws -> RNN {
            let l = try makeNestedLayer(config, key: key)
            guard let rnn = l as? RNN else {
                throw LayerError.badConfig(layer: layerName, "'\(key)' must be a recurrent layer, got \(type(of: l).className)")
            }
            return rnn
        }
        func removing(_ prefix: String, from s: String) -> String { s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s }

        if let mode = config["merge_mode"], mode.isNull { mergeMode = nil } else {
            mergeMode = try config.string("merge_mode", default: "concat")
        }
        if let mergeMode, !Self.mergeModes.contains(mergeMode) {
            throw config.fail("merge_mode", "one of \(Self.mergeModes) or null")
        }
        keras2 = config.keras2
        let template = try recurrent("layer")
        forwardLayer = template
        // Keras 3 strips an existing prefix (a saved forward layer keeps its name); tf-keras always adds one.
        let base = template.name
        forwardLayer.name = "forward_" + (keras2 ? base : removing("forward_", from: base))
        if config.has("backward_layer") {
            backwardLayer = try recurrent("backward_layer")
            if keras2 { backwardLayer.name = "backward_" + backwardLayer.name }
        } else {
            var c = template.getConfig()
            c["name"] = .string("backward_" + (keras2 ? base : removing("backward_", from: base)))
            c["go_backwards"] = .bool(!template.goBackwards)
            backwardLayer = try type(of: template).init(config: LayerConfig(c, keras2: keras2, makeNested: config.makeNested))
        }
        guard forwardLayer.goBackwards != backwardLayer.goBackwards else {
            throw LayerError.badConfig(layer: layerName, "the forward and backward layers must differ in go_backwards")
        }
        guard forwardLayer.returnSequences == backwardLayer.returnSequences,
              forwardLayer.returnState == backwardLayer.returnState, forwardLayer.timeMajor == backwardLayer.timeMajor else {
            throw LayerError.badConfig(layer: layerName, "the forward and backward layers must agree in "
                + "return_sequences, return_state and time_major")
        }
        // Keras outputs zeros at masked steps of returned sequences, so the two directions line up.
        for layer in [forwardLayer, backwardLayer] { layer.zeroOutputForMask = layer.returnSequences }
        try super.init(config: config)
    }

    /// Wraps `layer`; see the type's documentation for how the two directions are made.
    public convenience init(_ layer: RNN, mergeMode: String? = "concat", backwardLayer: RNN? = nil,
                            name: String? = nil) throws {
        var c: JSONObject = ["name": .string(name ?? NameScope.unique(for: Self.className)),
                             "merge_mode": mergeMode.map { .string($0) } ?? .null,
                             "layer": serializeNestedLayer(layer, source: nil)]
        if let backwardLayer { c["backward_layer"] = serializeNestedLayer(backwardLayer, source: nil) }
        try self.init(config: LayerConfig(c))
    }

    /// Keras 3 writes both directions; tf-keras writes the original layer and
    /// `backward_layer` only if one was given.
    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["merge_mode"] = mergeMode.map { .string($0) } ?? .null
        /// The layer as given, before its name prefix and the forced `zero_output_for_mask`.
        func original(_ layer: RNN, _ prefix: String, _ source: JSONValue?) -> JSONObject {
            var config = layer.getConfig()
            config["name"] = .string(String(layer.name.dropFirst(prefix.count)))
            config["zero_output_for_mask"] = source?["config"]?["zero_output_for_mask"]
            return config
        }
        if keras2 {
            c["layer"] = serializeNestedLayer(forwardLayer, config: original(forwardLayer, "forward_", sourceConfig["layer"]),
                                              source: sourceConfig["layer"])
            if let given = sourceConfig["backward_layer"], !given.isNull {
                c["backward_layer"] = serializeNestedLayer(backwardLayer, config: original(backwardLayer, "backward_", given),
                                                           source: given)
            }
        } else {
            c["layer"] = serializeNestedLayer(forwardLayer, source: sourceConfig["layer"])
            c["backward_layer"] = serializeNestedLayer(backwardLayer, source: sourceConfig["backward_layer"])
        }
        return c
    }

    public override func build(_ inputShapes: [Shape]) throws {
        for layer in [forwardLayer, backwardLayer] {
            try layer.buildIfNeeded(Array(inputShapes.prefix(1)))
            adoptWeights(of: layer)
        }
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        let sequence = Array(inputShapes.prefix(1))
        let f = try forwardLayer.computeOutputShapes(sequence), b = try backwardLayer.computeOutputShapes(sequence)
        var outputs: [Shape]
        switch mergeMode {
        case nil: outputs = [f[0], b[0]]
        case "concat":
            var s = f[0]
            if let a = s[s.count - 1], let c = b[0].last ?? nil { s[s.count - 1] = a + c } else { s[s.count - 1] = nil }
            outputs = [s]
        default: outputs = [f[0]]
        }
        return outputs + f.dropFirst() + b.dropFirst()
    }

    public override var supportsMasking: Bool { true }

    /// Returned sequences keep the input mask (both of them without a merge mode).
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        let mask = masks.first ?? nil
        return returnSequences ? (mergeMode == nil ? [mask, mask] : [mask]) : []
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: inputs.map { _ in nil }, training: training)
    }

    /// Both directions see the sequence's mask, as in Keras 3 not when initial states are given.
    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        let states = inputs.dropFirst()
        guard states.count % 2 == 0 else {
            throw LayerError.shapeMismatch(layer: name, "expects as many forward as backward initial states, got \(states.count) in all")
        }
        let half = states.count / 2
        let mask = states.isEmpty ? masks.first ?? nil : nil
        let f = try forwardLayer([inputs[0]] + states.prefix(half), masks: [mask] + states.prefix(half).map { _ in nil },
                                 training: training).outputs
        let b = try backwardLayer([inputs[0]] + states.suffix(half), masks: [mask] + states.suffix(half).map { _ in nil },
                                  training: training).outputs
        let y = f[0]
        let yRev = returnSequences ? try b[0].flipped(axes: [forwardLayer.timeMajor ? 0 : 1]) : b[0]
        let outputs: [Tensor]
        switch mergeMode {
        case nil: outputs = [y, yRev]
        case "concat": outputs = [try Tensor.concatenate([y, yRev], axis: -1)]
        case "sum": outputs = [try y + yRev]
        case "mul": outputs = [try y * yRev]
        default: outputs = [try (y + yRev) / 2]
        }
        return outputs + f.dropFirst() + b.dropFirst()
    }
}
