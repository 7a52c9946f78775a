import Tensor

/// The base of layers over channels-last data `[batch, spatial..., channels]`
/// with 1–3 spatial axes: convolution, pooling, padding, cropping and
/// upsampling. A subclass sets ``rank``; the base rejects
/// `data_format="channels_first"` and checks input ranks.
public class SpatialLayer: UnaryLayer {
    /// The number of spatial axes (1, 2 or 3).
    class var rank: Int { preconditionFailure("\(self) must override rank") }

    public required init(config: LayerConfig) throws {
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw LayerError.badConfig(layer: config.layerName,
                                       "data_format '\(format)' is not supported; only 'channels_last' is")
        }
        try super.init(config: config)
    }

    /// A Swift tuple argument as Keras accepts it: one value for every axis, or one per axis.
    static func tuple(_ values: [Int]) -> JSONValue { values.count == 1 ? .int(values[0]) : JSONValue(ints: values) }

    /// Throws unless `shape` is `[batch, spatial..., channels]` with ``rank`` spatial axes.
    func requireSpatialInput(_ shape: Shape) throws { try requireRank(shape, Self.rank + 2) }

    /// Throws unless `x` is `[batch, spatial..., channels]` with ``rank`` spatial axes.
    func requireSpatialInput(_ x: Tensor) throws { try requireSpatialInput(x.shape.map { $0 }) }

    /// The known channel count of a `[batch, spatial..., channels]` input shape.
    func channels(of shape: Shape) throws -> Int {
        try requireSpatialInput(shape)
        guard let c = shape[shape.count - 1] else {
            throw LayerError.shapeMismatch(layer: name, "needs a known channel dimension, got \(formatShape(shape))")
        }
        return c
    }

    /// `[batch, outSpatial...]` for a window of `window` taps moved over the
    /// spatial axes of `inputShape`, with Keras's sizes
    /// (`compute_conv_output_shape`, `compute_pooling_output_shape`). Unknown
    /// sizes stay nil; a `valid` window larger than its input throws.
    func windowOutputShape(_ inputShape: Shape, window: [Int], strides: [Int], dilation: [Int]? = nil,
                           padding: Padding) throws -> Shape {
        try requireSpatialInput(inputShape)
        var out: Shape = [inputShape[0]]
        for i in 0..<Self.rank {
            guard let size = inputShape[i + 1] else { out.append(nil); continue }
            let extent = (window[i] - 1) * (dilation?[i] ?? 1) + 1
            switch padding {
            case .valid:
                guard size >= extent else {
                    throw LayerError.shapeMismatch(layer: name, "a window of size \(extent) does not fit spatial axis \(i + 1) "
                        + "of the input \(formatShape(inputShape)) with 'valid' padding")
                }
                out.append((size - extent) / strides[i] + 1)
            case .same, .causal:
                out.append((size + strides[i] - 1) / strides[i])
            }
        }
        return out
    }
}

extension LayerConfig {
    /// `count` positive integers (one integer stands for all of them), or
    /// `default` repeated when the key is absent.
    func positiveInts(_ key: String, count: Int, default d: Int? = nil) throws -> [Int] {
        let values = try d.map { try ints(key, count: count, default: [Int](repeating: $0, count: count)) }
            ?? ints(key, count: count)
        guard values.allSatisfy({ $0 > 0 }) else { throw fail(key, "positive integers") }
        return values
    }

    /// The `padding` key: `valid`, `same`, and `causal` where allowed (any case).
    func padding(allowCausal: Bool = false) throws -> Padding {
        let name = try choice("padding", allowCausal ? ["valid", "same", "causal"] : ["valid", "same"], default: "valid")
        return Padding(rawValue: name)!
    }
}
