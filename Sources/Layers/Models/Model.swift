import Tensor

/// A graph of layers built with the functional API (`keras.Model(inputs, outputs)`,
/// Keras class `Functional`). It is itself a layer, so models nest.
open class Model: Layer {
    /// Keras 3 saves a model's layers under `layers`.
    open override func saveableChildren() throws -> [(name: String, child: SaveableChild)] { [("layers", .list(layers))] }

    /// The symbolic inputs and outputs the graph was built from.
    public private(set) var inputs: [KerasTensor] = []
    public private(set) var outputs: [KerasTensor] = []
    /// Layers in Keras's order (`model.layers`): by decreasing depth, then first use.
    public private(set) var graphLayers: [Layer] = []
    /// Nodes to run, in execution order, input nodes excluded (public as ``executionOrder``).
    private(set) var graphExecutionOrder: [Node] = []
    /// How many nodes read each tensor id, model outputs counted once (public as ``readCounts``).
    private(set) var graphConsumers: [Int: Int] = [:]
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
        graphExecutionOrder = nodesByDepth.joined().filter { !$0.isInput }
        graphConsumers = [:]
        for node in graphExecutionOrder { for t in node.inputs { graphConsumers[t.id, default: 0] += 1 } }
        for o in outputs { graphConsumers[o.id, default: 0] += 1 }
        fusion = nil
        built = true
        builtInputShapes = inputs.map { $0.shape }
    }

    /// The output shapes for these input shapes, inferred node by node.
    open override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        try checkInputShapes(inputShapes)
        if inputShapes == inputs.map({ $0.shape }) { return outputs.map { $0.shape } }
        return try runThroughGraph(inputShapes) { node, shapes, _ in try node.layer.computeOutputShapes(shapes) }
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
        let (fused, absorbed) = !training && GradientTape.isDisabled ? inferencePlan : ([:], [])
        let results = try runThroughGraph(zip(inputValues, inputMasks).map { MaskedValue(value: $0, mask: $1) },
                                          skipping: absorbed, freeing: true) { node, args, values in
            if let chain = fused[ObjectIdentifier(node)] {
                let residual = try chain.residualID.map { id -> Tensor in
                    guard let v = values[id] else { throw LayerError.invalidGraph("missing value for an input of '\(node.layer.name)'") }
                    return v.value
                }
                // The chain makes the tensor of its last node; the nodes it absorbs are skipped.
                values[chain.outputID] = MaskedValue(value: try NodeObserver.run(node.layer) { try chain.run(args[0].value, residual: residual) },
                                                     mask: nil)
                // A first node that is not the last (a ZeroPadding) has an output only absorbed nodes read.
                return node.outputIDs.map { values[$0] ?? MaskedValue(value: Tensor(0), mask: nil) }
            }
            let (outs, outMasks) = try NodeObserver.run(node.layer) {
                try node.layer.callAsFunction(args.map { $0.value }, masks: args.map { $0.mask }, training: training)
            }
            return zip(outs, outMasks).map { MaskedValue(value: $0, mask: $1) }
        }
        outputMasks = results.map { $0.mask }
        return results.map { $0.value }
    }

    /// The convolution chains that run fused at inference, by first node.
    var inferenceFusion: [ObjectIdentifier: FusedConvolution] { inferencePlan.chains }

    /// The fused chains and the nodes they absorb, planned on the first
    /// inference after the graph is set (the graph and configs fix them).
    private var inferencePlan: (chains: [ObjectIdentifier: FusedConvolution], absorbed: Set<ObjectIdentifier>) {
        if let fusion { return fusion }
        let chains = FusedConvolution.plan(graphExecutionOrder, consumers: graphConsumers)
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

/// A tensor and its Keras mask (`nil`: unmasked), as a graph walk carries them.
public struct MaskedValue {
    public var value: Tensor
    public var mask: Tensor?
    public init(value: Tensor, mask: Tensor?) { (self.value, self.mask) = (value, mask) }
}
