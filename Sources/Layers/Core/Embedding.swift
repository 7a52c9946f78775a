import Tensor

/// `keras.layers.Embedding`: maps integer indices in `[0, input_dim)` to rows
/// of the `embeddings` matrix `[input_dim, output_dim]`. Inputs hold the
/// indices as floats (truncated like TensorFlow's integer cast); an index out
/// of range is an error. With `mask_zero`, index 0 is padding: it is masked
/// for later layers.
public final class Embedding: UnaryLayer {
    public let inputDim: Int
    public let outputDim: Int
    public let maskZero: Bool
    public var embeddingsOptions: WeightOptions
    public private(set) var embeddings: Variable!

    public convenience init(inputDim: Int, outputDim: Int, embeddingsInitializer: Initializer = .randomUniform,
                            maskZero: Bool = false, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "input_dim": .int(inputDim), "output_dim": .int(outputDim),
            "embeddings_initializer": embeddingsInitializer.json, "mask_zero": .bool(maskZero),
        ]))
    }

    public required init(config: LayerConfig) throws {
        inputDim = try config.int("input_dim")
        outputDim = try config.int("output_dim")
        guard inputDim > 0 else { throw config.fail("input_dim", "a positive integer") }
        guard outputDim > 0 else { throw config.fail("output_dim", "a positive integer") }
        maskZero = try config.bool("mask_zero", default: false)
        embeddingsOptions = try WeightOptions(config: config, prefix: "embeddings", defaultInitializer: .randomUniform)
        if config.has("lora_rank") { throw config.fail("lora_rank", "null (LoRA embeddings are not supported)") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["input_dim"] = .int(inputDim)
        c["output_dim"] = .int(outputDim)
        embeddingsOptions.write(to: &c, prefix: "embeddings")
        c["mask_zero"] = .bool(maskZero)
        return c
    }

    public override func build(inputShape: Shape) throws {
        embeddings = try addWeight(name: "embeddings", shape: [inputDim, outputDim], initializer: embeddingsOptions.initializer,
                                   regularizer: embeddingsOptions.regularizer, constraint: embeddingsOptions.constraint)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape { inputShape + [outputDim] }

    public override var supportsMasking: Bool { maskZero }

    /// `inputs != 0`, for the indices the inputs hold.
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        let x = inputs[0]
        return [Tensor(shape: x.shape, scalars: x.scalars.map { $0.rounded(.towardZero) != 0 ? 1 : 0 })]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        let indices = try x.scalars.map { v -> Int in
            guard v.isFinite, let i = Int(exactly: v.rounded(.towardZero)), (0..<inputDim).contains(i) else {
                throw LayerError.shapeMismatch(layer: name, "index \(v) is out of range for input_dim \(inputDim)")
            }
            return i
        }
        return try embeddings.read().gather(indices, axis: 0).reshaped(to: x.shape + [outputDim])
    }
}
