import Tensor

/// A symbolic tensor of the functional API: a shape and the node that makes it.
///
/// ```swift
/// let x = Input(shape: [28, 28, 1])
/// let y = try Dense(units: 10)(Flatten()(x))
/// let model = try Model(inputs: [x], outputs: [y])
/// ```
public final class KerasTensor {
    /// The shape, `nil` where unknown (the batch).
    public let shape: Shape
    /// The call that produced this tensor.
    public let node: Node
    /// Which output of that call.
    public let index: Int
    /// A process-wide unique id (object identity can be reused after release).
    public let id: Int

    private static let ids = IDCounter()

    init(shape: Shape, node: Node, index: Int) {
        self.shape = shape
        self.node = node
        self.index = index
        self.id = KerasTensor.ids.next()
    }

    /// The producing layer.
    public var layer: Layer { node.layer }
}

/// One call of a layer on symbolic tensors.
public final class Node {
    public let layer: Layer
    /// Position among the layer's calls (Keras's `node_index`).
    public let index: Int
    public let inputs: [KerasTensor]
    /// Ids and shapes of the outputs (the outputs hold the node, not the reverse).
    public internal(set) var outputIDs: [Int] = []
    public internal(set) var outputShapes: [Shape] = []

    init(layer: Layer, index: Int, inputs: [KerasTensor]) {
        self.layer = layer
        self.index = index
        self.inputs = inputs
    }

    /// Whether this is the node of an `InputLayer`.
    public var isInput: Bool { layer is InputLayer }
    /// The nodes that produced this node's inputs.
    public var parentNodes: [Node] { inputs.map { $0.node } }

    /// Makes the output tensors of this node.
    func makeOutputs(_ shapes: [Shape]) -> [KerasTensor] {
        let ts = shapes.enumerated().map { KerasTensor(shape: $1, node: self, index: $0) }
        outputIDs = ts.map { $0.id }
        outputShapes = shapes
        return ts
    }
}
