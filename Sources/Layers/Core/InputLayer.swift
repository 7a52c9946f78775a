import Tensor

/// The entry point of a functional model (`keras.layers.InputLayer`).
public final class InputLayer: Layer {
    /// The full input shape, batch first (`batch_shape`).
    public let batchShape: Shape
    /// The symbolic tensor this layer produces.
    public private(set) var output: KerasTensor!

    public override class var className: String { "InputLayer" }

    public init(batchShape: Shape, name: String? = nil) {
        self.batchShape = batchShape
        super.init(name: name ?? NameScope.unique(for: "input_layer"))
        makeOutput()
    }

    /// Reads Keras 3 `batch_shape` or Keras 2 `batch_input_shape`.
    public required init(config: LayerConfig) throws {
        if config.has("batch_shape") {
            batchShape = try config.shape("batch_shape")
        } else if config.has("batch_input_shape") {
            batchShape = try config.shape("batch_input_shape")
        } else if config.has("input_shape") {
            batchShape = [nil] + (try config.shape("input_shape"))
        } else if config.has("shape") {
            batchShape = [nil] + (try config.shape("shape"))
        } else {
            throw LayerError.badConfig(layer: config.layerName, "InputLayer config needs 'batch_shape'")
        }
        var c = config
        if !c.has("name") { c["name"] = .string(NameScope.unique(for: "input_layer")) }
        try super.init(config: c)
        makeOutput()
    }

    private func makeOutput() {
        built = true
        let node = Node(layer: self, index: 0, inputs: [])
        inboundNodeCount = 1
        lastOutputShapes = [batchShape]
        output = node.makeOutputs([batchShape])[0]
    }

    public override func getConfig() -> JSONObject {
        ["batch_shape": JSONValue(shape: batchShape), "dtype": dtype, "sparse": false, "name": .string(name)]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] { inputs }
}

/// A symbolic model input (`keras.Input`): `shape` excludes the batch.
public func Input(shape: Shape, batchSize: Int? = nil, name: String? = nil) -> KerasTensor {
    InputLayer(batchShape: [batchSize] + shape, name: name).output
}

/// A symbolic model input with all dimensions known except the batch.
public func Input(shape: [Int], batchSize: Int? = nil, name: String? = nil) -> KerasTensor {
    Input(shape: shape.map { Optional($0) }, batchSize: batchSize, name: name)
}
