import Tensor

/// Keras's `BaseConv`: `activation(conv(x, kernel) + bias)` with a kernel of
/// shape `[kernelSize..., inputChannels / groups, filters]` (WIO, HWIO, DHWIO).
/// ``Conv1D``, ``Conv2D`` and ``Conv3D`` fix the number of spatial axes.
public class BaseConv: ConvolutionLayer {
    /// Multiply-accumulates one input element feeds (DELTA_SPEC.md § deltaize).
    public override var macsPerInputElement: Double? { Double(kernelSize.reduce(1, *) * (filters / groups)) / Double(strides.reduce(1, *)) }

    public let filters: Int
    public let groups: Int
    public var kernelOptions: WeightOptions
    public private(set) var kernel: Variable!
    /// The Winograd transform of `kernel` that fused inference reuses.
    let winogradKernel = WinogradKernelCache()

    /// Creates the layer from Swift arguments; a single value in `kernelSize`,
    /// `strides` or `dilationRate` applies to every spatial axis.
    ///
    /// ```swift
    /// let conv = try Conv2D(filters: 32, kernelSize: [3, 3], padding: "same", activation: "relu")
    /// ```
    public convenience init(filters: Int, kernelSize: [Int], strides: [Int] = [1], padding: String = "valid",
                            dilationRate: [Int] = [1], groups: Int = 1, activation: String = "linear",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            biasInitializer: Initializer = .zeros, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "data_format": "channels_last",
            "filters": .int(filters), "kernel_size": Self.tuple(kernelSize), "strides": Self.tuple(strides),
            "padding": .string(padding), "dilation_rate": Self.tuple(dilationRate), "groups": .int(groups),
            "activation": .string(activation), "use_bias": .bool(useBias),
            "kernel_initializer": kernelInitializer.json, "bias_initializer": biasInitializer.json,
        ]))
    }

    public required init(config: LayerConfig) throws {
        filters = try config.int("filters")
        groups = try config.int("groups", default: 1)
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        guard filters > 0 else { throw config.fail("filters", "a positive integer") }
        guard groups > 0, filters % groups == 0 else { throw config.fail("groups", "a positive divisor of filters (\(filters))") }
        guard !config.has("lora_rank") else {
            throw LayerError.badConfig(layer: config.layerName, "lora_rank is not supported (LoRA adapters)")
        }
        try super.init(config: config)
        try rejectStridedDilation()
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["filters"] = .int(filters)
        c["groups"] = .int(groups)
        kernelOptions.write(to: &c, prefix: "kernel")
        return c
    }

    public override func build(inputShape: Shape) throws {
        let channels = try channels(of: inputShape)
        guard channels % groups == 0 else {
            throw LayerError.shapeMismatch(layer: name, "input channels (\(channels)) must be divisible by groups (\(groups)), "
                                           + "got input shape \(formatShape(inputShape))")
        }
        _ = try computeOutputShape(inputShape)
        kernel = try addWeight(name: "kernel", shape: kernelSize + [channels / groups, filters],
                               initializer: kernelOptions.initializer, regularizer: kernelOptions.regularizer,
                               constraint: kernelOptions.constraint)
        try addBias(units: filters)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try convOutputShape(inputShape, channels: filters)
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try checkInput(x, channels: kernel.shape[Self.rank] * groups)
        let k = kernel.read(), b = bias?.read()
        // Untracked (inference, e.g. under TimeDistributed or outside a fused
        // chain): the bias and a ReLU are applied as the output is written.
        let relu = activation.function == .relu
        if relu || activation.function == .linear, !x.isTracked, !k.isTracked, b?.isTracked != true {
            return try convolve(x, zeroPadding: nil, epilogue: ChannelEpilogue(bias: b?.scalars, reluCap: relu ? .infinity : nil))
        }
        let y = try Tensor.conv(x, k, strides: strides, padding: padding, dilation: dilationRate, groups: groups)
        return try finish(y, bias: b)
    }
}

/// `keras.layers.Conv1D` over `[batch, steps, channels]`; also allows `padding="causal"`.
public final class Conv1D: BaseConv {
    override class var rank: Int { 1 }
    override class var allowsCausal: Bool { true }
}

/// `keras.layers.Conv2D` over `[batch, height, width, channels]`.
public final class Conv2D: BaseConv {
    override class var rank: Int { 2 }
}

/// `keras.layers.Conv3D` over `[batch, depth, height, width, channels]`.
public final class Conv3D: BaseConv {
    override class var rank: Int { 3 }
}
