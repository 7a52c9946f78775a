import Tensor

/// Options of a weight that Keras configures by prefix: `kernel_initializer`,
/// `kernel_regularizer`, `kernel_constraint` (and `bias_…`, `depthwise_…`, ...).
public struct WeightOptions {
    public var initializer: Initializer
    public var regularizer: Regularizer?
    public var constraint: Constraint?

    public init(initializer: Initializer, regularizer: Regularizer? = nil, constraint: Constraint? = nil) {
        self.initializer = initializer
        self.regularizer = regularizer
        self.constraint = constraint
    }

    /// Reads `<prefix>_initializer`, `<prefix>_regularizer` and `<prefix>_constraint`.
    public init(config: LayerConfig, prefix: String, defaultInitializer: Initializer) throws {
        let layer = config.layerName
        initializer = config.has("\(prefix)_initializer")
            ? try Initializer(json: config["\(prefix)_initializer"]!, layer: layer, key: "\(prefix)_initializer") : defaultInitializer
        regularizer = config.has("\(prefix)_regularizer")
            ? try Regularizer(json: config["\(prefix)_regularizer"]!, layer: layer, key: "\(prefix)_regularizer") : nil
        constraint = config.has("\(prefix)_constraint")
            ? try Constraint(json: config["\(prefix)_constraint"]!, layer: layer, key: "\(prefix)_constraint") : nil
    }

    /// Writes the three keys into `config`.
    public func write(to config: inout JSONObject, prefix: String) {
        config["\(prefix)_initializer"] = initializer.json
        config["\(prefix)_regularizer"] = regularizer?.json ?? .null
        config["\(prefix)_constraint"] = constraint?.json ?? .null
    }
}

/// A Keras activation as layers hold it: its serialized name and the function.
public struct ActivationFunction {
    public let name: String
    public let function: Activation
    /// Use tf-keras formulas where they differ (`hard_sigmoid`).
    public let keras2: Bool

    public init(_ name: String, layer: String, keras2: Bool = false) throws {
        guard let f = Activation(keras: name) else {
            throw LayerError.badConfig(layer: layer, "unknown activation '\(name)'; known: \(Activation.allCases.map { $0.rawValue })")
        }
        self.name = name
        self.function = f
        self.keras2 = keras2
    }

    /// Reads the `activation` key (a name, or a serialized `{"config": {"name": ...}}`); absent means linear.
    public init(config: LayerConfig, key: String = "activation", default d: String = "linear") throws {
        let v = config[key]
        if let s = v?.stringValue { try self.init(s, layer: config.layerName, keras2: config.keras2) }
        else if let n = v?["config"]?["name"]?.stringValue ?? v?["config"]?.stringValue {
            try self.init(n, layer: config.layerName, keras2: config.keras2)
        } else if v == nil || v!.isNull { try self.init(d, layer: config.layerName, keras2: config.keras2) }
        else { throw LayerError.badConfig(layer: config.layerName, "cannot read activation \(v!.serialized())") }
    }

    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try function(x, keras2: keras2) }
}

/// `keras.layers.Dense`: `activation(x · kernel + bias)` over the last axis.
public final class Dense: UnaryLayer {
    /// Multiply-accumulates one input element feeds (DELTA_SPEC.md § deltaize).
    public override var macsPerInputElement: Double? { Double(units) }

    /// Passes the input mask on, as Keras does.
    public override var supportsMasking: Bool { true }

    public let units: Int
    public var activation: ActivationFunction
    public let useBias: Bool
    public var kernelOptions: WeightOptions
    public var biasOptions: WeightOptions
    public private(set) var kernel: Variable!
    public private(set) var bias: Variable?

    public init(units: Int, activation: String = "linear", useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                name: String? = nil) throws {
        self.units = units
        self.activation = try ActivationFunction(activation, layer: name ?? "dense")
        self.useBias = useBias
        self.kernelOptions = WeightOptions(initializer: kernelInitializer)
        self.biasOptions = WeightOptions(initializer: biasInitializer)
        super.init(name: name)
    }

    public required init(config: LayerConfig) throws {
        units = try config.int("units")
        activation = try ActivationFunction(config: config)
        useBias = try config.bool("use_bias", default: true)
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        biasOptions = try WeightOptions(config: config, prefix: "bias", defaultInitializer: .zeros)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["units"] = .int(units)
        c["activation"] = .string(activation.name)
        c["use_bias"] = .bool(useBias)
        kernelOptions.write(to: &c, prefix: "kernel")
        biasOptions.write(to: &c, prefix: "bias")
        return c
    }

    public override func build(inputShape: Shape) throws {
        guard let last = inputShape.last, let inputDim = last else {
            throw LayerError.shapeMismatch(layer: name, "needs a known last input dimension, got \(formatShape(inputShape))")
        }
        kernel = try addWeight(name: "kernel", shape: [inputDim, units], initializer: kernelOptions.initializer,
                               regularizer: kernelOptions.regularizer, constraint: kernelOptions.constraint)
        if useBias {
            bias = try addWeight(name: "bias", shape: [units], initializer: biasOptions.initializer,
                                 regularizer: biasOptions.regularizer, constraint: biasOptions.constraint)
        }
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        guard !inputShape.isEmpty else { throw LayerError.shapeMismatch(layer: name, "needs an input of rank ≥ 1") }
        return inputShape.dropLast() + [units]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        guard x.shape.last == kernel.shape[0] else {
            throw LayerError.shapeMismatch(layer: name, "expects last input dimension \(kernel.shape[0]), got shape \(x.shape)")
        }
        var y = try Tensor.matmul(x, kernel.read())
        if let bias { y = try y + bias.read() }
        return try activation(y)
    }
}
