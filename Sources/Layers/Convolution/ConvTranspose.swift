import Tensor

/// Keras's `BaseConvTranspose`: the transposed convolution (the gradient of a
/// convolution with respect to its input) with a kernel of shape
/// `[kernelSize..., filters, inputChannels]`, then the bias and activation.
/// ``outputPadding`` adds to the output size as in Keras's
/// `compute_conv_transpose_output_shape`.
public class BaseConvTranspose: ConvolutionLayer {
    /// Multiply-accumulates one input element feeds (DELTA_SPEC.md § deltaize).
    public override var macsPerInputElement: Double? { Double(kernelSize.reduce(1, *) * filters) }

    public let filters: Int
    /// Extra output size per axis, each smaller than its stride; nil for Keras's default.
    public let outputPadding: [Int]?
    public var kernelOptions: WeightOptions
    public private(set) var kernel: Variable!

    /// Creates the layer from Swift arguments; a single value in `kernelSize`,
    /// `strides`, `outputPadding` or `dilationRate` applies to every spatial axis.
    ///
    /// ```swift
    /// let up = try Conv2DTranspose(filters: 8, kernelSize: [3, 3], strides: [2, 2], padding: "same")
    /// ```
    public convenience init(filters: Int, kernelSize: [Int], strides: [Int] = [1], padding: String = "valid",
                            outputPadding: [Int]? = nil, dilationRate: [Int] = [1], activation: String = "linear",
                            useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                            biasInitializer: Initializer = .zeros, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "data_format": "channels_last",
            "filters": .int(filters), "kernel_size": Self.tuple(kernelSize), "strides": Self.tuple(strides),
            "padding": .string(padding), "output_padding": outputPadding.map(Self.tuple) ?? .null,
            "dilation_rate": Self.tuple(dilationRate), "activation": .string(activation), "use_bias": .bool(useBias),
            "kernel_initializer": kernelInitializer.json, "bias_initializer": biasInitializer.json,
        ]))
    }

    public required init(config: LayerConfig) throws {
        filters = try config.int("filters")
        guard filters > 0 else { throw config.fail("filters", "a positive integer") }
        outputPadding = config.has("output_padding") ? try config.ints("output_padding", count: Self.rank) : nil
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        try super.init(config: config)
        try rejectStridedDilation()
        if let outputPadding {
            guard zip(outputPadding, strides).allSatisfy({ $0 >= 0 && $0 < $1 }) else {
                throw config.fail("output_padding", "non-negative and smaller than strides \(strides)")
            }
        }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["filters"] = .int(filters)
        c["output_padding"] = outputPadding.map { JSONValue(ints: $0) } ?? .null
        kernelOptions.write(to: &c, prefix: "kernel")
        return c
    }

    public override func build(inputShape: Shape) throws {
        let channels = try channels(of: inputShape)
        kernel = try addWeight(name: "kernel", shape: kernelSize + [filters, channels],
                               initializer: kernelOptions.initializer, regularizer: kernelOptions.regularizer,
                               constraint: kernelOptions.constraint)
        try addBias(units: filters)
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireSpatialInput(inputShape)
        var out: Shape = [inputShape[0]]
        for i in 0..<Self.rank {
            let k = (kernelSize[i] - 1) * dilationRate[i] + 1, s = strides[i]
            out.append(inputShape[i + 1].map { n in
                switch (padding, outputPadding?[i]) {
                case (.valid, nil): return (n - 1) * s + Swift.max(k, s)
                case (.valid, let p?): return (n - 1) * s + k + p
                case (_, nil): return n * s
                case (_, let p?): return (n - 1) * s + k % 2 + p
                }
            })
        }
        return out + [filters]
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try checkInput(x, channels: kernel.shape[Self.rank + 1], window: false)
        return try finish(try Tensor.convTranspose(x, kernel.read(), strides: strides, padding: padding,
                                                   outputPadding: outputPadding, dilation: dilationRate))
    }
}

/// `keras.layers.Conv1DTranspose` over `[batch, steps, channels]`.
public final class Conv1DTranspose: BaseConvTranspose {
    override class var rank: Int { 1 }
}

/// `keras.layers.Conv2DTranspose` over `[batch, height, width, channels]`.
public final class Conv2DTranspose: BaseConvTranspose {
    override class var rank: Int { 2 }
}

/// `keras.layers.Conv3DTranspose` over `[batch, depth, height, width, channels]`.
public final class Conv3DTranspose: BaseConvTranspose {
    override class var rank: Int { 3 }
}
