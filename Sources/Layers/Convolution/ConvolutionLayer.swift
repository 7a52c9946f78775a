import Tensor

/// What every convolution layer shares (Keras's `BaseConv`,
/// `BaseDepthwiseConv`, `BaseSeparableConv`, `BaseConvTranspose`): the window
/// geometry, the bias, the activation, and their config keys.
///
/// Subclasses create their kernels in `build`, then call ``addBias(units:)``,
/// and end `call` with ``finish(_:)``.
public class ConvolutionLayer: SpatialLayer {
    /// Whether `padding="causal"` is allowed (Conv1D, and tf-keras's SeparableConv1D).
    class var allowsCausal: Bool { false }

    public let kernelSize: [Int]
    public let strides: [Int]
    public let padding: Padding
    public let dilationRate: [Int]
    public var activation: ActivationFunction
    public let useBias: Bool
    public var biasOptions: WeightOptions
    public private(set) var bias: Variable?

    public required init(config: LayerConfig) throws {
        let rank = Self.rank
        kernelSize = try config.positiveInts("kernel_size", count: rank)
        strides = try config.positiveInts("strides", count: rank, default: 1)
        dilationRate = try config.positiveInts("dilation_rate", count: rank, default: 1)
        padding = try config.padding(allowCausal: Self.allowsCausal)
        activation = try ActivationFunction(config: config)
        useBias = try config.bool("use_bias", default: true)
        biasOptions = try WeightOptions(config: config, prefix: "bias", defaultInitializer: .zeros)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["kernel_size"] = JSONValue(ints: kernelSize)
        c["strides"] = JSONValue(ints: strides)
        c["padding"] = .string(padding.rawValue)
        c["dilation_rate"] = JSONValue(ints: dilationRate)
        c["activation"] = .string(activation.name)
        c["use_bias"] = .bool(useBias)
        biasOptions.write(to: &c, prefix: "bias")
        return c
    }

    /// Throws when both strides and dilation exceed 1, which Keras rejects for
    /// `Conv` and `ConvTranspose` layers.
    func rejectStridedDilation() throws {
        guard strides.allSatisfy({ $0 == 1 }) || dilationRate.allSatisfy({ $0 == 1 }) else {
            throw LayerError.badConfig(layer: name, "strides > 1 cannot be combined with dilation_rate > 1; "
                                       + "got strides \(strides) and dilation_rate \(dilationRate)")
        }
    }

    /// `[batch, outSpatial..., channels]` of the convolution window over `inputShape`.
    func convOutputShape(_ inputShape: Shape, channels: Int) throws -> Shape {
        try windowOutputShape(inputShape, window: kernelSize, strides: strides, dilation: dilationRate,
                              padding: padding) + [channels]
    }

    /// Creates the bias of `units` values when ``useBias`` is set.
    func addBias(units: Int) throws {
        guard useBias else { return }
        bias = try addWeight(name: "bias", shape: [units], initializer: biasOptions.initializer,
                             regularizer: biasOptions.regularizer, constraint: biasOptions.constraint)
    }

    /// Throws unless `x` is `[batch, spatial..., channels]` with the channels
    /// the layer was built for and, when `window` is set, spatial sizes the
    /// convolution window fits.
    func checkInput(_ x: Tensor, channels: Int, window: Bool = true) throws {
        guard x.rank == Self.rank + 2, x.shape[x.rank - 1] == channels else {
            throw LayerError.shapeMismatch(layer: name, "expects an input of rank \(Self.rank + 2) with \(channels) channels, "
                                           + "got shape \(x.shape)")
        }
        if window { _ = try convOutputShape(x.shape.map { $0 }, channels: channels) }
    }

    /// Adds the bias and applies the activation.
    func finish(_ y: Tensor) throws -> Tensor {
        try activation(bias.map { try y + $0.read() } ?? y)
    }

    /// Adds `bias` (the bias variable's value as read) and applies the activation.
    func finish(_ y: Tensor, bias: Tensor?) throws -> Tensor {
        try activation(bias.map { try y + $0 } ?? y)
    }
}
