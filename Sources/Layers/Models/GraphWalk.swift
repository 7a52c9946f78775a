import Tensor

/// The values of a graph's tensors during one walk, by tensor id
/// (``KerasTensor/id``). A hook of ``Model/runThroughGraph(_:skipping:freeing:operation:)``
/// reads the values its node needs and may set values of other tensors (a
/// fused chain sets the output of the last node it absorbs).
public final class GraphValues<Value> {
    private var values: [Int: Value] = [:]
    private var remaining: [Int: Int]
    private let freeing: Bool

    init(consumers: [Int: Int], freeing: Bool) {
        remaining = consumers
        self.freeing = freeing
    }

    /// The value of a tensor, if computed and not yet released.
    public subscript(id: Int) -> Value? {
        get { values[id] }
        set { values[id] = newValue }
    }

    /// Counts one read of each tensor and, when freeing, drops the values
    /// that no later node reads.
    func release(_ ids: [Int]) {
        guard freeing else { return }
        for id in ids {
            guard let n = remaining[id] else { continue }
            if n <= 1 { remaining[id] = 0; values[id] = nil } else { remaining[id] = n - 1 }
        }
    }
}

extension Model {
    /// Nodes to run, in execution order (Keras's `map_graph` order), input nodes excluded.
    public var executionOrder: [Node] { graphExecutionOrder }

    /// The nodes of this model that read `tensor`, in execution order.
    public func consumers(of tensor: KerasTensor) -> [Node] {
        executionOrder.filter { node in node.inputs.contains { $0.id == tensor.id } }
    }

    /// The layer and node that compute `tensor` (an `InputLayer`'s node for a model input).
    public func producer(of tensor: KerasTensor) -> (layer: Layer, node: Node) { (tensor.layer, tensor.node) }

    /// How many reads each tensor id has in this model (model outputs count once).
    public var readCounts: [Int: Int] { graphConsumers }

    /// Walks the graph once, as Keras's `Functional._run_through_graph`: each
    /// node in execution order gets the values of its inputs and returns one
    /// value per output. Every executor of a model is a hook on this walk:
    /// the plain and fused calls, shape inference, and ``clone(weights:cloneFunction:callFunction:)``.
    ///
    /// - Parameters:
    ///   - inputValues: one value per model input.
    ///   - skipping: nodes that are not run (their outputs are made by another node's hook).
    ///   - freeing: drop each value after its last read, to bound memory.
    ///   - operation: the node's computation; `values` holds every live value.
    /// - Returns: the values of the model outputs.
    ///
    /// ```swift
    /// let shapes = try model.runThroughGraph([[nil, 4]]) { node, shapes, _ in
    ///     try node.layer.computeOutputShapes(shapes)
    /// }
    /// ```
    public func runThroughGraph<Value>(
        _ inputValues: [Value], skipping: Set<ObjectIdentifier> = [], freeing: Bool = false,
        operation: (_ node: Node, _ inputs: [Value], _ values: GraphValues<Value>) throws -> [Value]
    ) throws -> [Value] {
        guard inputValues.count == inputs.count else {
            throw LayerError.shapeMismatch(layer: name, "expects \(inputs.count) input(s), got \(inputValues.count)")
        }
        let values = GraphValues<Value>(consumers: graphConsumers, freeing: freeing)
        for (t, v) in zip(inputs, inputValues) { values[t.id] = v }
        for node in graphExecutionOrder {
            let reads = node.inputs.map { $0.id }
            if skipping.contains(ObjectIdentifier(node)) {
                values.release(reads)
                continue
            }
            let args = try node.inputs.map { t -> Value in
                guard let v = values[t.id] else {
                    throw LayerError.invalidGraph("missing value for an input of '\(node.layer.name)'")
                }
                return v
            }
            let outs = try operation(node, args, values)
            guard outs.count == node.outputIDs.count else {
                throw LayerError.shapeMismatch(layer: node.layer.name, "returned \(outs.count) outputs, expected \(node.outputIDs.count)")
            }
            for (id, v) in zip(node.outputIDs, outs) { values[id] = v }
            values.release(reads)
        }
        return try outputs.map { t in
            guard let v = values[t.id] else { throw LayerError.invalidGraph("model output '\(t.layer.name)' was not computed") }
            return v
        }
    }
}
