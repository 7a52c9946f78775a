import Tensor

/// What a clone does with the weights of the layers it does not replace.
public enum CloneWeights {
    /// The clone calls the same layer objects: weights are shared.
    case share
    /// Each layer is rebuilt from its config and given a copy of the weights.
    case copy
    /// Each layer is rebuilt from its config with new initial weights (Keras's `clone_model` default).
    case fresh
}

extension Model {
    /// A new model with the same graph, as Keras's
    /// `keras.models.clone_model(model, clone_function=…, call_function=…)`.
    ///
    /// - Parameters:
    ///   - weights: how layers that `cloneFunction` does not replace get their weights.
    ///   - cloneFunction: the layer to use in place of each layer (called once per
    ///     layer, so shared layers stay shared); `nil` uses `weights`.
    ///   - callFunction: calls a (cloned) layer on the new inputs of one of its
    ///     nodes; return more than the layer's call to insert layers after it
    ///     (`{ layer, x, _ in try delta(layer(x)) }`). `nil` calls the layer.
    /// - Returns: a `Sequential` for a `Sequential` whose clone is still a chain, else a functional model.
    ///
    /// ```swift
    /// let copy = try model.clone(weights: .copy)
    /// let withNoise = try model.clone { layer, x, _ in
    ///     layer is Conv2D ? [try GaussianNoise(stddev: 0.1)(try layer(x)[0])] : try layer(x)
    /// }
    /// ```
    public func clone(weights: CloneWeights = .copy,
                      cloneFunction: ((Layer) throws -> Layer)? = nil,
                      callFunction: ((_ layer: Layer, _ inputs: [KerasTensor], _ node: Node) throws -> [KerasTensor])? = nil) throws -> Model {
        var clones: [ObjectIdentifier: Layer] = [:]
        func cloned(_ layer: Layer) throws -> Layer {
            if let done = clones[ObjectIdentifier(layer)] { return done }
            let made = try cloneFunction?(layer) ?? Self.copyLayer(layer, weights: weights)
            clones[ObjectIdentifier(layer)] = made
            return made
        }
        let newInputs = freshInputs()
        let newOutputs = try runThroughGraph(newInputs) { node, args, _ in
            let layer = try cloned(node.layer)
            return try callFunction?(layer, args, node) ?? layer(args)
        }
        if self is Sequential, let chain = Self.chain(from: newInputs, to: newOutputs) {
            return try Sequential([newInputs[0].layer] + chain, name: name)
        }
        return try Model(inputs: newInputs, outputs: newOutputs, name: name, trainable: trainable)
    }

    /// A new layer like `layer`: the same object (`.share`), or rebuilt from
    /// its config (under `name`, if given), built for the same shapes, with
    /// copied or new weights. Models are cloned whole.
    public static func copyLayer(_ layer: Layer, weights: CloneWeights, name: String? = nil) throws -> Layer {
        if weights == .share { return layer }
        if let model = layer as? Model { return try model.clone(weights: weights) }
        var object = layer.getConfig()
        if let name { object["name"] = .string(name) }
        let config = LayerConfig(object)
        let copy = try type(of: layer).init(config: config)
        copy.callArguments = layer.callArguments
        guard layer.built else { return copy }
        if weights == .copy {
            // Placeholders: no initializer runs for values that are overwritten at once.
            try RandomState.withPlaceholderWeights { try copy.buildIfNeeded(layer.builtInputShapes) }
            try copy.setWeights(layer.getWeights())
        } else {
            try copy.buildIfNeeded(layer.builtInputShapes)
        }
        return copy
    }

    /// A copy with the layers of every nested model inlined into one graph,
    /// weights copied. A nested model called twice shares its layers between
    /// the calls, as it did; a frozen one leaves its layers frozen. A name
    /// seen before gets a `_1`, `_2`, … suffix. The model itself when it
    /// holds no nested model.
    public func flattened() throws -> Model {
        guard layers.contains(where: { $0 is Model }) else { return self }
        var clones: [ObjectIdentifier: Layer] = [:]
        var names = Set(inputs.map { $0.layer.name })
        func cloned(_ layer: Layer, frozen: Bool) throws -> Layer {
            if let done = clones[ObjectIdentifier(layer)] { return done }
            var name = layer.name, n = 0
            while names.contains(name) { n += 1; name = "\(layer.name)_\(n)" }
            names.insert(name)
            let made = try Self.copyLayer(layer, weights: .copy, name: name)
            if frozen { made.trainable = false }
            clones[ObjectIdentifier(layer)] = made
            return made
        }
        func inline(_ model: Model, _ args: [KerasTensor], frozen: Bool) throws -> [KerasTensor] {
            try model.runThroughGraph(args) { node, args, _ in
                if let inner = node.layer as? Model { return try inline(inner, args, frozen: frozen || !inner.trainable) }
                return try cloned(node.layer, frozen: frozen)(args)
            }
        }
        let newInputs = freshInputs()
        let newOutputs = try inline(self, newInputs, frozen: !trainable)
        if self is Sequential, let chain = Self.chain(from: newInputs, to: newOutputs) {
            return try Sequential([newInputs[0].layer] + chain, name: name)
        }
        return try Model(inputs: newInputs, outputs: newOutputs, name: name, trainable: trainable)
    }

    /// New input layers like this model's.
    private func freshInputs() -> [KerasTensor] {
        inputs.map { t in
            let input = t.layer as? InputLayer
            return InputLayer(batchShape: input?.batchShape ?? t.shape, name: t.layer.name).output
        }
    }

    /// The layers from one input to one output when each takes the previous one's output alone.
    private static func chain(from inputs: [KerasTensor], to outputs: [KerasTensor]) -> [Layer]? {
        guard inputs.count == 1, outputs.count == 1 else { return nil }
        var layers: [Layer] = [], t = outputs[0]
        while t.id != inputs[0].id {
            guard t.node.inputs.count == 1, t.node.outputIDs.count == 1, !(t.layer is InputLayer) else { return nil }
            layers.append(t.layer)
            t = t.node.inputs[0]
        }
        return layers.reversed()
    }
}
