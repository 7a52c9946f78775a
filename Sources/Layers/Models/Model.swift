import Tensor

/// A graph of layers built with the functional API (`keras.Model(inputs, outputs)`,
/// Keras class `Functional`). It is itself a layer, so models nest.
open class Model: Layer {
    /// The symbolic inputs and outputs the graph was built from.
    public private(set) var inputs: [KerasTensor] = []
    public private(set) var outputs: [KerasTensor] = []
    /// Layers in Keras's order (`model.layers`): by decreasing depth, then first use.
    public private(set) var graphLayers: [Layer] = []
    /// Nodes to run, in execution order, input nodes excluded.
    private var executionOrder: [Node] = []
    /// How many nodes read each tensor id, to free values early at inference.
    private var consumers: [Int: Int] = [:]
    /// Nodes of the graph grouped by depth, deepest (inputs) first.
    public private(set) var nodesByDepth: [[Node]] = []

    /// Training state set by `compile` (see the Training target).
    public var compileState: AnyObject?

    public override class var className: String { "Functional" }

    /// Builds a model from symbolic inputs to outputs.
    public init(inputs: [KerasTensor], outputs: [KerasTensor], name: String? = nil, trainable: Bool = true) throws {
        super.init(name: name ?? NameScope.unique(for: "functional"), trainable: trainable)
        try setGraph(inputs: inputs, outputs: outputs)
    }

    /// For subclasses that set their graph later (`Sequential`).
    public override init(name: String? = nil, trainable: Bool = true) {
        super.init(name: name, trainable: trainable)
    }

    public required init(config: LayerConfig) throws {
        try super.init(config: config)
    }

    open override var sublayers: [Layer] { graphLayers }

    /// Layers as `model.layers`.
    open var layers: [Layer] { graphLayers }

    /// The layer with this name.
    public func layer(named name: String) throws -> Layer {
        guard let l = layers.first(where: { $0.name == name }) else {
            throw LayerError.badConfig(layer: self.name, "no layer named '\(name)'; layers are \(layers.map { $0.name })")
        }
        return l
    }

    /// Input and output shapes as declared by the graph.
    public var inputShapes: [Shape] { inputs.map { $0.shape } }
    public var outputShapes: [Shape] { outputs.map { $0.shape } }

    /// Sorts the graph as Keras's `map_graph` does and checks it is connected.
    public func setGraph(inputs: [KerasTensor], outputs: [KerasTensor]) throws {
        guard !inputs.isEmpty, !outputs.isEmpty else { throw LayerError.invalidGraph("a model needs inputs and outputs") }
        let inputIDs = Set(inputs.map { $0.id })

        // Depth-first post-order from the outputs (Keras's `_build_map`).
        var finished = Set<ObjectIdentifier>(), inProgress = Set<ObjectIdentifier>()
        var ordered: [Node] = []
        var layerIndex: [ObjectIdentifier: Int] = [:]
        func visit(_ t: KerasTensor) throws {
            let node = t.node, key = ObjectIdentifier(node)
            if finished.contains(key) { return }
            if !node.isInput && inputIDs.contains(t.id) { finished.insert(key); return }
            if node.isInput && !inputIDs.contains(t.id) {
                throw LayerError.invalidGraph("graph disconnected: input '\(node.layer.name)' feeds the outputs but is not among the model inputs")
            }
            guard !inProgress.contains(key) else { throw LayerError.invalidGraph("a cycle passes through layer '\(node.layer.name)'") }
            if layerIndex[ObjectIdentifier(node.layer)] == nil { layerIndex[ObjectIdentifier(node.layer)] = layerIndex.count }
            inProgress.insert(key)
            if !node.isInput { for i in node.inputs { try visit(i) } }
            finished.insert(key)
            inProgress.remove(key)
            ordered.append(node)
        }
        for o in outputs { try visit(o) }
        let inGraph = Set(ordered.map { ObjectIdentifier($0) })

        // Depths: outputs at 0, growing toward the inputs.
        var nodeDepth: [ObjectIdentifier: Int] = [:], layerDepth: [ObjectIdentifier: Int] = [:]
        var depthOrder: [ObjectIdentifier] = []   // insertion order of nodeDepth, as Python dicts keep
        func setNodeDepth(_ n: Node, _ d: Int) {
            if nodeDepth.updateValue(d, forKey: ObjectIdentifier(n)) == nil { depthOrder.append(ObjectIdentifier(n)) }
        }
        var layerOrder: [ObjectIdentifier] = []
        var nodeByID: [ObjectIdentifier: Node] = [:], layerByID: [ObjectIdentifier: Layer] = [:]
        for node in ordered.reversed() {
            nodeByID[ObjectIdentifier(node)] = node
            layerByID[ObjectIdentifier(node.layer)] = node.layer
            let key = ObjectIdentifier(node)
            if nodeDepth[key] == nil { setNodeDepth(node, 0) }
            let depth = Swift.max(nodeDepth[key]!, layerDepth[ObjectIdentifier(node.layer)] ?? 0)
            if layerDepth.updateValue(depth, forKey: ObjectIdentifier(node.layer)) == nil { layerOrder.append(ObjectIdentifier(node.layer)) }
            setNodeDepth(node, depth)
            for parent in node.parentNodes where inGraph.contains(ObjectIdentifier(parent)) {
                setNodeDepth(parent, Swift.max(depth + 1, nodeDepth[ObjectIdentifier(parent)] ?? 0))
            }
        }
        for t in inputs where layerDepth[ObjectIdentifier(t.layer)] == nil && t.node.isInput {
            layerDepth[ObjectIdentifier(t.layer)] = 0
            layerOrder.append(ObjectIdentifier(t.layer))
            layerIndex[ObjectIdentifier(t.layer)] = -1
            layerByID[ObjectIdentifier(t.layer)] = t.layer
            nodeByID[ObjectIdentifier(t.node)] = t.node
            setNodeDepth(t.node, 0)
        }

        var byDepth: [Int: [Node]] = [:]
        for key in depthOrder { byDepth[nodeDepth[key]!, default: []].append(nodeByID[key]!) }
        var layersByDepth: [Int: [Layer]] = [:]
        for key in layerOrder { layersByDepth[layerDepth[key]!, default: []].append(layerByID[key]!) }
        graphLayers = layersByDepth.keys.sorted(by: >).flatMap { d in
            layersByDepth[d]!.sorted { layerIndex[ObjectIdentifier($0)]! < layerIndex[ObjectIdentifier($1)]! }
        }
        nodesByDepth = byDepth.keys.sorted(by: >).map { byDepth[$0]! }

        // Check connectivity and names.
        var computable = inputIDs
        for node in nodesByDepth.joined() {
            for t in node.inputs where !computable.contains(t.id) {
                throw LayerError.invalidGraph("graph disconnected: layer '\(node.layer.name)' needs a tensor that no model input leads to")
            }
            computable.formUnion(node.outputIDs)
        }
        var names = Set<String>()
        for l in graphLayers where !names.insert(l.name).inserted {
            throw LayerError.invalidGraph("the name '\(l.name)' is used more than once in the model; layer names must be unique")
        }

        self.inputs = inputs
        self.outputs = outputs
        executionOrder = nodesByDepth.joined().filter { !$0.isInput }
        consumers = [:]
        for node in executionOrder { for t in node.inputs { consumers[t.id, default: 0] += 1 } }
        for o in outputs { consumers[o.id, default: 0] += 1 }
        fusion = nil
        built = true
        builtInputShapes = inputs.map { $0.shape }
    }

    open override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        try checkInputShapes(inputShapes)
        return outputs.map { $0.shape }
    }

    /// Throws unless each shape fits the declared input (unknown dims match anything).
    func checkInputShapes(_ shapes: [Shape]) throws {
        guard shapes.count == inputs.count else {
            throw LayerError.shapeMismatch(layer: name, "expects \(inputs.count) input(s), got \(shapes.count)")
        }
        for (i, (given, declared)) in zip(shapes, inputs.map { $0.shape }).enumerated() {
            let fits = given.count == declared.count && zip(given, declared).allSatisfy { g, d in d == nil || g == nil || g == d }
            guard fits else {
                throw LayerError.shapeMismatch(layer: name, "input \(i) must have shape \(formatShape(declared)), got \(formatShape(given))")
            }
        }
    }

    /// Runs the graph. At inference without gradients, convolutions run fused
    /// with the BatchNormalization and ReLU nodes that follow them (see
    /// ``FusedConvolution``).
    open override func call(_ inputValues: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputValues, masks: inputValues.map { _ in nil }, training: training)
    }

    /// The masks of the outputs of the latest call, as Keras leaves them on
    /// the output tensors (`_keras_mask`); `nil` where unmasked.
    public internal(set) var outputMasks: [Tensor?] = []

    /// A model passes on the masks its graph computes.
    open override var supportsMasking: Bool { true }

    open override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] { outputMasks }

    /// Runs the graph with masks on the inputs: each node gets its inputs'
    /// masks and gives its outputs theirs (see ``Layer/callAsFunction(_:masks:training:)``).
    /// A fused convolution chain's output is unmasked, as a convolution drops masks.
    open override func call(_ inputValues: [Tensor], masks inputMasks: [Tensor?], training: Bool) throws -> [Tensor] {
        try checkInputShapes(inputValues.map { $0.shape.map { Optional($0) } })
        for l in graphLayers { l.clearLosses() }
        var values: [Int: Tensor] = [:], masks: [Int: Tensor] = [:]
        var remaining = consumers
        for (t, v) in zip(inputs, inputValues) { values[t.id] = v }
        for (t, m) in zip(inputs, inputMasks) { masks[t.id] = m }
        let (fused, absorbed) = !training && GradientTape.isDisabled ? inferencePlan : ([:], [])
        for node in executionOrder where !absorbed.contains(ObjectIdentifier(node)) {
            let args = try node.inputs.map { t -> Tensor in
                guard let v = values[t.id] else { throw LayerError.invalidGraph("missing value for an input of '\(node.layer.name)'") }
                return v
            }
            var reads = node.inputs.map { $0.id }
            if let chain = fused[ObjectIdentifier(node)] {
                let residual = try chain.residualID.map { id -> Tensor in
                    guard let v = values[id] else { throw LayerError.invalidGraph("missing value for an input of '\(node.layer.name)'") }
                    return v
                }
                values[chain.outputID] = try NodeObserver.run(node.layer) { try chain.run(args[0], residual: residual) }
                reads += [chain.residualID].compactMap { $0 }
            } else {
                let (outs, outMasks) = try NodeObserver.run(node.layer) {
                    try node.layer.callAsFunction(args, masks: node.inputs.map { masks[$0.id] }, training: training)
                }
                guard outs.count == node.outputIDs.count else {
                    throw LayerError.shapeMismatch(layer: node.layer.name, "returned \(outs.count) outputs, expected \(node.outputIDs.count)")
                }
                for (id, v) in zip(node.outputIDs, outs) { values[id] = v }
                for (id, m) in zip(node.outputIDs, outMasks) { masks[id] = m }
            }
            for id in reads {
                remaining[id]! -= 1
                if remaining[id] == 0 { (values[id], masks[id]) = (nil, nil) }
            }
        }
        outputMasks = outputs.map { masks[$0.id] }
        return outputs.map { values[$0.id]! }
    }

    /// The convolution chains that run fused at inference, by first node.
    var inferenceFusion: [ObjectIdentifier: FusedConvolution] { inferencePlan.chains }

    /// The fused chains and the nodes they absorb, planned on the first
    /// inference after the graph is set (the graph and configs fix them).
    private var inferencePlan: (chains: [ObjectIdentifier: FusedConvolution], absorbed: Set<ObjectIdentifier>) {
        if let fusion { return fusion }
        let chains = FusedConvolution.plan(executionOrder, consumers: consumers)
        let planned = (chains, Set(chains.values.flatMap { $0.absorbed.map { ObjectIdentifier($0) } }))
        fusion = planned
        return planned
    }
    private var fusion: (chains: [ObjectIdentifier: FusedConvolution], absorbed: Set<ObjectIdentifier>)?

    /// Runs the model on a batch without recording gradients.
    public func predictOnBatch(_ inputs: [Tensor]) throws -> [Tensor] {
        try withoutGradient { try callAsFunction(inputs, training: false) }
    }
}
