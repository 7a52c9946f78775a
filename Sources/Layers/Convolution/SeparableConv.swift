import Tensor

/// Keras's `BaseSeparableConv`: a depthwise convolution (kernel
/// `[kernelSize..., inputChannels, depthMultiplier]`, carrying the strides,
/// dilation and padding) followed by a pointwise 1×1 convolution (kernel
/// `[1..., inputChannels · depthMultiplier, filters]`), then the bias and
/// activation. Weights: `depthwise_kernel`, `pointwise_kernel`, `bias`.
public class BaseSeparableConv: ConvolutionLayer {
    /// Multiply-accumulates one input element feeds (DELTA_SPEC.md § deltaize).
    public override var macsPerInputElement: Double? { Double(kernelSize.reduce(1, *) * depthMultiplier + depthMultiplier * filters) / Double(strides.reduce(1, *)) }

    public let filters: Int
    public let depthMultiplier: Int
    public var depthwiseOptions: WeightOptions
    public var pointwiseOptions: WeightOptions
    public private(set) var depthwiseKernel: Variable!
    public private(set) var pointwiseKernel: Variable!

    /// Creates the layer from Swift arguments; a single value in `kernelSize`,
    /// `strides` or `dilationRate` applies to every spatial axis.
    ///
    /// ```swift
    /// let sep = try SeparableConv2D(filters: 16, kernelSize: [3, 3], padding: "same", activation: "relu")
    /// ```
    public convenience init(filters: Int, kernelSize: [Int], strides: [Int] = [1], padding: String = "valid",
                            dilationRate: [Int] = [1], depthMultiplier: Int = 1, activation: String = "linear",
                            useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform,
                            pointwiseInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "data_format": "channels_last",
            "depth_multiplier": .int(depthMultiplier), "filters": .int(filters), "kernel_size": Self.tuple(kernelSize),
            "strides": Self.tuple(strides), "padding": .string(padding), "dilation_rate": Self.tuple(dilationRate),
            "activation": .string(activation), "use_bias": .bool(useBias),
            "depthwise_initializer": depthwiseInitializer.json, "pointwise_initializer": pointwiseInitializer.json,
            "bias_initializer": biasInitializer.json,
        ]))
    }

    public required init(config: LayerConfig) throws {
        filters = try config.int("filters")
        depthMultiplier = try config.int("depth_multiplier", default: 1)
        guard filters > 0 else { throw config.fail("filters", "a positive integer") }
        guard depthMultiplier > 0 else { throw config.fail("depth_multiplier", "a positive integer") }
        depthwiseOptions = try WeightOptions(config: config, prefix: "depthwise", defaultInitializer: .glorotUniform)
        pointwiseOptions = try WeightOptions(config: config, prefix: "pointwise", defaultInitializer: .glorotUniform)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["filters"] = .int(filters)
        c["depth_multiplier"] = .int(depthMultiplier)
        depthwiseOptions.write(to: &c, prefix: "depthwise")
        pointwiseOptions.write(to: &c, prefix: "pointwise")
        return c
    }

    public override func build(inputShape: Shape) throws {
        let channels = try channels(of: inputShape)
        _ = try computeOutputShape(inputShape)
        depthwiseKernel = try addWeight(
            name: "depthwise_kernel", shape: kernelSize + [channels, depthMultiplier],
            initializer: depthwiseOptions.initializer, regularizer: depthwiseOptions.regularizer,
            constraint: depthwiseOptions.constraint)
        pointwiseKernel = try addWeight(
            name: "pointwise_kernel", shape: [Int](repeating: 1, count: Self.rank) + [channels * depthMultiplier, filters],
            initializer: pointwiseOptions.initializer, regularizer: pointwiseOptions.regularizer,
            constraint: pointwiseOptions.constraint)
        try addBias(units: filters)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try convOutputShape(inputShape, channels: filters)
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try checkInput(x, channels: depthwiseKernel.shape[Self.rank])
        var input = x, windowPadding = padding
        if padding == .causal {
            // tf-keras's SeparableConv1D: pad the past, then a valid convolution.
            input = try x.padded([(0, 0), (dilationRate[0] * (kernelSize[0] - 1), 0), (0, 0)])
            windowPadding = .valid
        }
        let depthwise = try Tensor.depthwiseConv(input, depthwiseKernel.read(), strides: strides,
                                                 padding: windowPadding, dilation: dilationRate)
        return try finish(try Tensor.conv(depthwise, pointwiseKernel.read()))
    }
}

/// `keras.layers.SeparableConv1D` over `[batch, steps, channels]`; accepts
/// tf-keras's `padding="causal"`.
public final class SeparableConv1D: BaseSeparableConv {
    override class var rank: Int { 1 }
    override class var allowsCausal: Bool { true }
}

/// `keras.layers.SeparableConv2D` over `[batch, height, width, channels]`.
public final class SeparableConv2D: BaseSeparableConv {
    override class var rank: Int { 2 }
}
