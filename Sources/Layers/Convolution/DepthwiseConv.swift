import Tensor

/// Keras's `BaseDepthwiseConv`: each input channel `c` is convolved with its
/// own `depthMultiplier` filters into output channels `c · depthMultiplier + m`,
/// then the bias and activation follow. The kernel has shape
/// `[kernelSize..., inputChannels, depthMultiplier]`; Keras 3 names it
/// `kernel`, tf-keras `depthwise_kernel`. The config keys are
/// `depthwise_initializer`, `depthwise_regularizer` and `depthwise_constraint`
/// in both.
public class BaseDepthwiseConv: ConvolutionLayer {
    /// Multiply-accumulates one input element feeds (DELTA_SPEC.md § deltaize).
    public override var macsPerInputElement: Double? { Double(kernelSize.reduce(1, *) * depthMultiplier) / Double(strides.reduce(1, *)) }

    public let depthMultiplier: Int
    public var depthwiseOptions: WeightOptions
    /// The kernel's weight name: `kernel` (Keras 3) or `depthwise_kernel` (tf-keras configs).
    public let kernelName: String
    public private(set) var kernel: Variable!

    /// Creates the layer from Swift arguments; a single value in `kernelSize`,
    /// `strides` or `dilationRate` applies to every spatial axis.
    ///
    /// ```swift
    /// let dw = try DepthwiseConv2D(kernelSize: [3, 3], padding: "same", depthMultiplier: 2)
    /// ```
    public convenience init(kernelSize: [Int], strides: [Int] = [1], padding: String = "valid",
                            depthMultiplier: Int = 1, dilationRate: [Int] = [1], activation: String = "linear",
                            useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform,
                            biasInitializer: Initializer = .zeros, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "data_format": "channels_last",
            "depth_multiplier": .int(depthMultiplier), "kernel_size": Self.tuple(kernelSize),
            "strides": Self.tuple(strides), "padding": .string(padding), "dilation_rate": Self.tuple(dilationRate),
            "activation": .string(activation), "use_bias": .bool(useBias),
            "depthwise_initializer": depthwiseInitializer.json, "bias_initializer": biasInitializer.json,
        ]))
    }

    public required init(config: LayerConfig) throws {
        depthMultiplier = try config.int("depth_multiplier", default: 1)
        guard depthMultiplier > 0 else { throw config.fail("depth_multiplier", "a positive integer") }
        depthwiseOptions = try WeightOptions(config: config, prefix: "depthwise", defaultInitializer: .glorotUniform)
        kernelName = config.keras2 ? "depthwise_kernel" : "kernel"
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["depth_multiplier"] = .int(depthMultiplier)
        depthwiseOptions.write(to: &c, prefix: "depthwise")
        return c
    }

    public override func build(inputShape: Shape) throws {
        let channels = try channels(of: inputShape)
        _ = try computeOutputShape(inputShape)
        kernel = try addWeight(name: kernelName, shape: kernelSize + [channels, depthMultiplier],
                               initializer: depthwiseOptions.initializer, regularizer: depthwiseOptions.regularizer,
                               constraint: depthwiseOptions.constraint)
        try addBias(units: channels * depthMultiplier)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try convOutputShape(inputShape, channels: try channels(of: inputShape) * depthMultiplier)
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try checkInput(x, channels: kernel.shape[Self.rank])
        return try finish(try Tensor.depthwiseConv(x, kernel.read(), strides: strides, padding: padding,
                                                   dilation: dilationRate))
    }
}

/// `keras.layers.DepthwiseConv1D` over `[batch, steps, channels]`.
public final class DepthwiseConv1D: BaseDepthwiseConv {
    override class var rank: Int { 1 }
}

/// `keras.layers.DepthwiseConv2D` over `[batch, height, width, channels]`.
public final class DepthwiseConv2D: BaseDepthwiseConv {
    override class var rank: Int { 2 }
}
