import Tensor

/// `keras.layers.Activation`: applies a named activation.
public final class ActivationLayer: UnaryLayer {
    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public var activation: ActivationFunction

    public override class var className: String { "Activation" }

    public init(_ activation: String, name: String? = nil) throws {
        self.activation = try ActivationFunction(activation, layer: name ?? "activation")
        super.init(name: name)
    }

    public required init(config: LayerConfig) throws {
        activation = try ActivationFunction(config: config)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["activation"] = .string(activation.name)
        return c
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor { try activation(x) }
}
