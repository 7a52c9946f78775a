import Tensor

extension Tensor {
    /// `tf.nn.batch_normalization`: `x · inv + (offset − mean · inv)` with
    /// `inv = rsqrt(variance + ε) · scale`; the arguments broadcast against `x`.
    func normalized(mean: Tensor, variance: Tensor, scale: Tensor?, offset: Tensor?, epsilon: Double) throws -> Tensor {
        var inv = (variance + Float(epsilon)).rsqrt()
        if let scale { inv = try inv * scale }
        let shift = try offset.map { try $0 - (try mean * inv) } ?? -(try mean * inv)
        return try self * inv + shift
    }

    /// `tf.nn.moments`: the mean and the biased variance over `axes`, kept as size-1 axes.
    func moments(axes: [Int]) throws -> (mean: Tensor, variance: Tensor) {
        let mean = try self.mean(axes: axes, keepDims: true)
        // The mean's gradient path through the variance is zero; TF stops it.
        let variance = try (self - mean.detached).square().mean(axes: axes, keepDims: true)
        return (mean, variance)
    }

    /// `self` reshaped so its axes line up with `axes` of a rank-`rank` tensor
    /// (size 1 elsewhere), for broadcasting per-axis parameters.
    func aligned(to axes: [Int], rank: Int) throws -> Tensor {
        if axes == [rank - 1] { return self }
        var shape = [Int](repeating: 1, count: rank)
        for (a, d) in zip(axes, self.shape) { shape[a] = d }
        return try reshaped(to: shape)
    }

    /// L2 normalization over `axes`. Keras 3 (`ops.normalize`) computes
    /// `x · min(rsqrt(Σx²), 1/ε)`; tf-keras (`tf.math.l2_normalize`) computes
    /// `x · rsqrt(max(Σx², ε))`.
    func l2Normalized(axes: [Int], epsilon: Double, keras2: Bool) throws -> Tensor {
        let squareSum = try square().sum(axes: axes, keepDims: true)
        if keras2 { return try self * (try Tensor.maximum(squareSum, Tensor(Float(epsilon)))).rsqrt() }
        return try self * Tensor.minimum(squareSum.rsqrt(), Tensor(Float(1 / epsilon)))
    }
}

/// Options of the `gamma` and `beta` weights of the normalization layers:
/// `center`, `scale` and their initializers, regularizers and constraints.
public struct AffineOptions {
    public var center: Bool
    public var scale: Bool
    public var gamma: WeightOptions
    public var beta: WeightOptions

    init(config: LayerConfig) throws {
        center = try config.bool("center", default: true)
        scale = try config.bool("scale", default: true)
        gamma = try WeightOptions(config: config, prefix: "gamma", defaultInitializer: .ones)
        beta = try WeightOptions(config: config, prefix: "beta", defaultInitializer: .zeros)
    }

    func write(to c: inout JSONObject) {
        c["center"] = .bool(center)
        c["scale"] = .bool(scale)
        gamma.write(to: &c, prefix: "gamma")
        beta.write(to: &c, prefix: "beta")
    }

    /// Creates `gamma` (when `scale`) then `beta` (when `center`) of `shape` on `layer`.
    func addWeights(to layer: Layer, shape: [Int]) throws -> (gamma: Variable?, beta: Variable?) {
        let g = scale ? try layer.addWeight(name: "gamma", shape: shape, initializer: gamma.initializer,
                                            regularizer: gamma.regularizer, constraint: gamma.constraint) : nil
        let b = center ? try layer.addWeight(name: "beta", shape: shape, initializer: beta.initializer,
                                             regularizer: beta.regularizer, constraint: beta.constraint) : nil
        return (g, b)
    }
}
