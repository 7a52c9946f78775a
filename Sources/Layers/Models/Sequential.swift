import Tensor

/// A linear stack of layers (`keras.Sequential`).
///
/// ```swift
/// let model = try Sequential([Input(shape: [4]).layer, Dense(units: 8, activation: "relu"), Dense(units: 1)])
/// ```
open class Sequential: Model {
    /// The stacked layers, the InputLayer excluded (as `model.layers` in Keras).
    public private(set) var stack: [Layer] = []
    /// The input layer, when the input shape is known.
    public private(set) var inputLayer: InputLayer?

    public override class var className: String { "Sequential" }

    public init(_ layers: [Layer] = [], name: String? = nil) throws {
        super.init(name: name ?? NameScope.unique(for: "sequential"))
        for l in layers { try add(l) }
    }

    public required init(config: LayerConfig) throws {
        try super.init(config: config)
    }

    open override var layers: [Layer] { stack }
    open override var sublayers: [Layer] { stack }

    /// Appends a layer; an `InputLayer` (only first) fixes the input shape.
    public func add(_ layer: Layer) throws {
        if let input = layer as? InputLayer {
            guard stack.isEmpty, inputLayer == nil else {
                throw LayerError.invalidGraph("an InputLayer can only be the first layer of Sequential '\(name)'")
            }
            inputLayer = input
        } else {
            stack.append(layer)
            if let last = outputs.first, inputLayer != nil {
                // Extend the existing graph rather than rebuilding it.
                let out = try layer([last])
                guard out.count == 1 else {
                    throw LayerError.shapeMismatch(layer: layer.name, "a Sequential layer must have one output, got \(out.count)")
                }
                try setGraph(inputs: inputs, outputs: out)
                return
            }
        }
        try rebuildGraph()
    }

    /// Removes the last layer.
    public func pop() throws {
        guard !stack.isEmpty else { throw LayerError.invalidGraph("Sequential '\(name)' has no layers to pop") }
        stack.removeLast()
        try rebuildGraph()
    }

    /// Fixes the input shape (batch included) and builds every layer.
    open override func build(_ inputShapes: [Shape]) throws {
        guard inputLayer == nil else { return }
        guard inputShapes.count == 1 else { throw LayerError.shapeMismatch(layer: name, "Sequential takes one input") }
        inputLayer = InputLayer(batchShape: inputShapes[0].enumerated().map { $0.offset == 0 ? nil : $0.element })
        try rebuildGraph()
    }

    private func rebuildGraph() throws {
        guard let input = inputLayer else { return }
        var x = input.output!
        for l in stack {
            let out = try l([x])
            guard out.count == 1 else {
                throw LayerError.shapeMismatch(layer: l.name, "a Sequential layer must have one output, got \(out.count)")
            }
            x = out[0]
        }
        try setGraph(inputs: [input.output], outputs: [x])
    }

    open override func call(_ inputValues: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        guard inputValues.count == 1 else { throw LayerError.shapeMismatch(layer: name, "Sequential takes one input, got \(inputValues.count)") }
        if inputLayer != nil { try checkInputShapes(inputValues.map { $0.shape.map { Optional($0) } }) }
        for l in stack { l.clearLosses() }
        var (x, mask) = (inputValues[0], masks.first ?? nil)
        for l in stack {
            let (out, outMasks) = try NodeObserver.run(l) { try l([x], masks: [mask], training: training) }
            guard out.count == 1 else {
                throw LayerError.shapeMismatch(layer: l.name, "returns \(out.count) outputs; call it with an array")
            }
            (x, mask) = (out[0], outMasks[0])
        }
        outputMasks = [mask]
        return [x]
    }
}
