import Foundation

// Every Keras activation with the formulas of Keras 3's TensorFlow backend
// (keras/src/backend/tensorflow/nn.py) and TensorFlow's registered gradients.

@inline(__always) private func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}

/// `tf.math.softplus`: `log(1 + eᕽ)`, switching to `x` or `eᕽ` where those are exact in Float.
@inline(__always) private func stableSoftplus(_ x: Float) -> Float {
    let threshold = Foundation.log(Float.ulpOfOne) + 2
    if x > -threshold { return x }
    if x < threshold { return Foundation.exp(x) }
    return Foundation.log1p(Foundation.exp(x))
}

/// `min(max(x, 0), cap)`, the rectifier capped at `cap` (∞ for none).
struct ClippedRelu: UnaryFunction {
    let cap: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, 0), cap) }
    /// 1 on `(0, cap]`, else 0.
    var derivative: Derivative { Derivative(cap: cap) }

    struct Derivative: BinaryFunction {
        let cap: Float
        @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x > 0 && x <= cap ? 1 : 0 }
    }
}

private let seluAlpha: Float = 1.6732632423543772848170429916717
private let seluScale: Float = 1.0507009873554804934193349852946

extension Tensor {
    /// `keras.activations.relu`: the standard rectifier, or with `negativeSlope`
    /// a leaky one, with `maxValue` a capped one, and with `threshold` a shifted one.
    public func relu(negativeSlope: Float = 0, maxValue: Float? = nil, threshold: Float = 0) -> Tensor {
        if negativeSlope == 0, threshold == 0 {
            let r = ClippedRelu(cap: maxValue ?? .infinity)
            return unary("relu", r, r.derivative)
        }
        if negativeSlope != 0, maxValue == nil, threshold == 0 { return leakyRelu(negativeSlope: negativeSlope) }
        let cap = maxValue ?? .infinity
        // Keras: where(x > threshold, x, 0) (or relu), clipped to [0, max], minus slope·relu(threshold − x).
        return unary("relu", { x in
            var y: Float = threshold != 0 ? (x > threshold ? x : 0) : Swift.max(x, 0)
            y = Swift.min(Swift.max(y, 0), cap)
            return negativeSlope != 0 ? y - negativeSlope * Swift.max(threshold - x, 0) : y
        }, { x, _ in
            var d: Float = threshold != 0 ? (x > threshold ? 1 : 0) : (x > 0 ? 1 : 0)
            if x > cap { d = 0 }
            if negativeSlope != 0 && threshold - x > 0 { d += negativeSlope }
            return d
        })
    }

    /// `tf.nn.relu6`: `min(max(x, 0), 6)`.
    public func relu6() -> Tensor {
        unary("relu6", ClippedRelu(cap: 6), BinaryClosure { x, _ in x > 0 && x < 6 ? 1 : 0 })
    }

    /// `tf.nn.leaky_relu`: `x` for `x > 0`, else `negativeSlope · x`.
    public func leakyRelu(negativeSlope: Float = 0.2) -> Tensor {
        unary("leaky_relu", { $0 > 0 ? $0 : negativeSlope * $0 }, { x, _ in x > 0 ? 1 : negativeSlope })
    }

    /// `keras.activations.elu`: `x` for `x > 0`, else `alpha · (eᕽ − 1)`.
    public func elu(alpha: Float = 1) -> Tensor {
        unary("elu", { $0 > 0 ? $0 : alpha * Foundation.expm1($0) }, { x, y in x > 0 ? 1 : y + alpha })
    }

    /// `tf.nn.selu` with Keras's constants.
    public func selu() -> Tensor {
        unary("selu", { $0 > 0 ? seluScale * $0 : seluScale * seluAlpha * Foundation.expm1($0) },
              { x, y in x > 0 ? seluScale : y + seluScale * seluAlpha })
    }

    /// `tf.math.softplus`: `log(1 + eᕽ)`.
    public func softplus() -> Tensor { unary("softplus", stableSoftplus, { x, _ in stableSigmoid(x) }) }

    /// `tf.nn.softsign`: `x / (1 + |x|)`.
    public func softsign() -> Tensor {
        unary("softsign", { $0 / (1 + Swift.abs($0)) }, { x, _ in let d = 1 + Swift.abs(x); return 1 / (d * d) })
    }

    /// `tf.nn.sigmoid`.
    /// The result keeps `self` as its ``kerasLogits``.
    public func sigmoid() -> Tensor {
        var y = Kernels.vectorMap(self, VectorSigmoid())
        if node != nil {
            let out = y
            y = Tensor.record("sigmoid", y, [self]) { g in [Kernels.zipMap(g, out, { g, y in g * y * (1 - y) })] }
        }
        y.kerasLogits = self
        return y
    }

    /// `tf.nn.tanh`.
    public func tanh() -> Tensor {
        let y = Kernels.vectorMap(self, VectorTanh())
        guard node != nil else { return y }
        return Tensor.record("tanh", y, [self]) { g in [Kernels.zipMap(g, y, { g, y in g * (1 - y * y) })] }
    }

    /// `keras.activations.exponential`: `eᕽ`.
    public func exponential() -> Tensor { exp() }

    /// `keras.activations.mish`: `x · tanh(softplus(x))`.
    public func mish() -> Tensor {
        unary("mish", { $0 * Foundation.tanh(stableSoftplus($0)) }, { x, _ in
            let t = Foundation.tanh(stableSoftplus(x))
            return t + x * (1 - t * t) * stableSigmoid(x)
        })
    }

    /// `tf.nn.silu` (swish): `x · sigmoid(x)`.
    public func silu() -> Tensor {
        let y = Kernels.vectorMap(self, VectorSilu())
        guard node != nil else { return y }
        let x = detached
        return Tensor.record("silu", y, [self]) { g in [Kernels.vectorZipMap(g, x, y, VectorSiluGradient())] }
    }

    /// `tf.nn.gelu`: exact `0.5·x·(1 + erf(x/√2))`, or the tanh approximation.
    public func gelu(approximate: Bool = false) -> Tensor {
        if approximate {
            let c: Float = 0.7978845608028654, k: Float = 0.044715
            return unary("gelu", { x in 0.5 * x * (1 + Foundation.tanh(c * (x + k * x * x * x))) }, { x, _ in
                let t = Foundation.tanh(c * (x + k * x * x * x))
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)
            })
        }
        let y = Kernels.vectorMap(self, VectorGelu())
        guard node != nil else { return y }
        let x = detached
        return Tensor.record("gelu", y, [self]) { g in [Kernels.vectorZipMap(g, x, y, VectorGeluGradient())] }
    }

    /// `tf.math.erf`, the error function.
    public func erf() -> Tensor {
        let y = Kernels.vectorMap(self, VectorErf())
        guard node != nil else { return y }
        let x = detached
        return Tensor.record("erf", y, [self]) { g in [Kernels.vectorZipMap(g, x, y, VectorErfGradient())] }
    }

    /// Keras 3 `hard_sigmoid`: `relu6(x + 3) / 6`.
    public func hardSigmoid() -> Tensor {
        unary("hard_sigmoid", { Swift.min(Swift.max($0 + 3, 0), 6) / 6 }, { x, _ in x > -3 && x < 3 ? 1 / 6 : 0 })
    }

    /// Keras 2 (tf-keras) `hard_sigmoid`: `clip(0.2·x + 0.5, 0, 1)`.
    public func hardSigmoidKeras2() -> Tensor {
        unary("hard_sigmoid", { Swift.min(Swift.max($0 * 0.2 + 0.5, 0), 1) }, { x, _ in
            let v = x * 0.2 + 0.5
            return v < 0 || v > 1 ? 0 : 0.2
        })
    }

    /// `hard_silu` / `hard_swish`: `x · relu6(x + 3) / 6`.
    public func hardSilu() -> Tensor {
        unary("hard_silu", { $0 * Swift.min(Swift.max($0 + 3, 0), 6) / 6 }, { x, _ in
            let h: Float = Swift.min(Swift.max(x + 3, 0), 6) / 6
            return h + (x > -3 && x < 3 ? x / 6 : 0)
        })
    }

    /// `keras.activations.celu`: `max(x, 0) + alpha · expm1(min(x, 0) / alpha)`.
    public func celu(alpha: Float = 1) -> Tensor {
        unary("celu", { Swift.max($0, 0) + alpha * Foundation.expm1(Swift.min($0, 0) / alpha) },
              { x, _ in x > 0 ? 1 : Foundation.exp(x / alpha) })
    }

    /// `keras.activations.squareplus`: `(x + √(x² + b)) / 2`.
    public func squareplus(b: Float = 4) -> Tensor {
        unary("squareplus", { ($0 + Foundation.sqrt($0 * $0 + b)) / 2 }, { x, _ in (1 + x / Foundation.sqrt(x * x + b)) / 2 })
    }

    /// `keras.activations.soft_shrink`: `x − t` above `t`, `x + t` below `−t`, else 0.
    public func softShrink(threshold t: Float = 0.5) -> Tensor {
        unary("soft_shrink", { $0 > t ? $0 - t : ($0 < -t ? $0 + t : 0) }, { x, _ in x > t || x < -t ? 1 : 0 })
    }

    /// `keras.activations.hard_shrink`: `x` where `|x| > t`, else 0.
    public func hardShrink(threshold t: Float = 0.5) -> Tensor {
        unary("hard_shrink", { Swift.abs($0) > t ? $0 : 0 }, { x, _ in Swift.abs(x) > t ? 1 : 0 })
    }

    /// `keras.activations.sparse_plus`: 0 below −1, `x` above 1, `(x + 1)² / 4` between.
    public func sparsePlus() -> Tensor {
        unary("sparse_plus", { $0 <= -1 ? 0 : ($0 >= 1 ? $0 : ($0 + 1) * ($0 + 1) / 4) },
              { x, _ in x <= -1 ? 0 : (x >= 1 ? 1 : (x + 1) / 2) })
    }

    /// `keras.activations.sparse_sigmoid`: 0 below −1, 1 above 1, `(x + 1) / 2` between.
    public func sparseSigmoid() -> Tensor {
        unary("sparse_sigmoid", { $0 <= -1 ? 0 : ($0 >= 1 ? 1 : 0.5 * ($0 + 1)) }, { x, _ in x <= -1 || x >= 1 ? 0 : 0.5 })
    }

    /// `keras.activations.tanh_shrink`: `x − tanh(x)`.
    public func tanhShrink() -> Tensor {
        unary("tanh_shrink", { $0 - Foundation.tanh($0) }, { x, _ in let t = Foundation.tanh(x); return t * t })
    }

    /// `keras.activations.hard_tanh`: `clip(x, −1, 1)`.
    public func hardTanh() -> Tensor { clip(-1, 1) }

    /// `keras.activations.log_sigmoid`: `−softplus(−x)`.
    public func logSigmoid() -> Tensor {
        unary("log_sigmoid", { -stableSoftplus(-$0) }, { x, _ in stableSigmoid(-x) })
    }

    /// `keras.activations.glu`: the first half along `axis` times the sigmoid of the second.
    public func glu(axis: Int = -1) throws -> Tensor {
        let halves = try split(count: 2, axis: axis)
        return try halves[0] * halves[1].sigmoid()
    }

    /// Softmax over `axis`: `exp(x − max) / Σ exp(x − max)`. The result keeps
    /// `self` as its ``kerasLogits``.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let a = try checkAxis(axis, "softmax")
        let y = try withoutGradient { () -> Tensor in
            let e = try (try detached - (try detached.max(axes: [a], keepDims: true))).exp()
            return try e / (try e.sum(axes: [a], keepDims: true))
        }
        var output = Tensor.record("softmax", y, [self]) { g in
            [try y * (try g - (try (try g * y).sum(axes: [a], keepDims: true)))]
        }
        output.kerasLogits = self
        return output
    }

    /// Log-softmax over `axis`: `x − max − log Σ exp(x − max)`.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let a = try checkAxis(axis, "log_softmax")
        let y = try withoutGradient { () -> Tensor in
            let shifted = try detached - (try detached.max(axes: [a], keepDims: true))
            return try shifted - (try shifted.exp().sum(axes: [a], keepDims: true).log())
        }
        return Tensor.record("log_softmax", y, [self]) { g in
            [try g - (try y.exp() * (try g.sum(axes: [a], keepDims: true)))]
        }
    }

    /// Sparsemax over `axis` as Keras computes it (`keras.ops.sparsemax`): with
    /// the values sorted in decreasing order, `z₍ⱼ₎`, and `cⱼ = z₍₁₎ + … + z₍ⱼ₎`,
    /// the support is the positions where `z₍ⱼ₎ − (cⱼ − 1)/j > 0`, `k` their
    /// count, `τ = (Σ_support cⱼ − 1)/k`, and the output `max(x − τ, 0)`.
    /// Its gradient is that of those ops (sorting and the support are constants).
    public func sparsemax(axis: Int = -1) throws -> Tensor {
        let a = try checkAxis(axis, "sparsemax")
        let n = shape[a], inner = shape[(a + 1)...].reduce(1, *), outer = count / Swift.max(1, n * inner)
        var y = [Float](repeating: 0, count: count)
        // Per row: ∂τ/∂x for each element, and whether the element is at or above τ.
        var tauGradient = [Float](repeating: 0, count: count), active = [Bool](repeating: false, count: count)
        var sorted = [Int](repeating: 0, count: n), sums = [Float](repeating: 0, count: n)
        var support = [Bool](repeating: false, count: n)
        let x = scalars
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                func at(_ j: Int) -> Int { base + j * inner }
                for j in 0..<n { sorted[j] = j }
                sorted.sort { x[at($0)] > x[at($1)] }
                var sum: Float = 0, count = 0
                for j in 0..<n {
                    sum += x[at(sorted[j])]
                    sums[j] = sum
                    support[j] = x[at(sorted[j])] - (sum - 1) / Float(j + 1) > 0
                    if support[j] { count += 1 }
                }
                let k = Float(count)
                var total: Float = 0
                for j in 0..<n where support[j] { total += sums[j] }
                let tau = (total - 1) / k
                // τ's sum counts z₍ⱼ₎ once for each support position at or after j.
                var later: Float = 0
                for j in stride(from: n - 1, through: 0, by: -1) {
                    if support[j] { later += 1 }
                    tauGradient[at(sorted[j])] = later / k
                }
                for j in 0..<n {
                    y[at(j)] = Swift.max(x[at(j)] - tau, 0)
                    active[at(j)] = x[at(j)] - tau >= 0
                }
            }
        }
        let result = Tensor(shape: shape, scalars: y)
        return Tensor.record("sparsemax", result, [self]) { g in
            // ∂yᵢ/∂xₘ = [i active](δᵢₘ − ∂τ/∂xₘ); `maximum` passes the gradient where x − τ ≥ 0.
            let masked = zip(g.scalars, active).map { $1 ? $0 : 0 }
            let rowSums = try Tensor(shape: self.shape, scalars: masked).sum(axes: [a], keepDims: true)
            let spread = try rowSums.broadcast(to: self.shape).scalars
            return [Tensor(shape: self.shape, scalars: (0..<self.count).map { masked[$0] - tauGradient[$0] * spread[$0] })]
        }
    }
}

/// A Keras activation by its serialized name, e.g. `"relu"` or `"hard_sigmoid"`.
public enum Activation: String, CaseIterable, Sendable {
    case linear, relu, relu6, leakyRelu = "leaky_relu", elu, selu, softplus, softsign
    case sigmoid, tanh, exponential, mish, swish, silu, gelu
    case hardSigmoid = "hard_sigmoid", hardSilu = "hard_silu", hardSwish = "hard_swish"
    case softmax, logSoftmax = "log_softmax"
    case celu, squareplus, softShrink = "soft_shrink", hardShrink = "hard_shrink", sparsePlus = "sparse_plus"
    case sparseSigmoid = "sparse_sigmoid", tanhShrink = "tanh_shrink", hardTanh = "hard_tanh"
    case logSigmoid = "log_sigmoid", glu, sparsemax

    /// The activation for a Keras name, or nil when unknown.
    public init?(keras name: String) { self.init(rawValue: name) }

    /// Applies the activation. `keras2` selects tf-keras formulas where they
    /// differ from Keras 3 (`hard_sigmoid`).
    public func callAsFunction(_ x: Tensor, keras2: Bool = false) throws -> Tensor {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .relu6: return x.relu6()
        case .leakyRelu: return x.leakyRelu()
        case .elu: return x.elu()
        case .selu: return x.selu()
        case .softplus: return x.softplus()
        case .softsign: return x.softsign()
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .exponential: return x.exponential()
        case .mish: return x.mish()
        case .swish, .silu: return x.silu()
        case .gelu: return x.gelu(approximate: false)
        case .hardSigmoid: return keras2 ? x.hardSigmoidKeras2() : x.hardSigmoid()
        case .hardSilu, .hardSwish: return x.hardSilu()
        case .softmax: return try x.softmax(axis: -1)
        case .logSoftmax: return try x.logSoftmax(axis: -1)
        case .celu: return x.celu()
        case .squareplus: return x.squareplus()
        case .softShrink: return x.softShrink()
        case .hardShrink: return x.hardShrink()
        case .sparsePlus: return x.sparsePlus()
        case .sparseSigmoid: return x.sparseSigmoid()
        case .tanhShrink: return x.tanhShrink()
        case .hardTanh: return x.hardTanh()
        case .logSigmoid: return x.logSigmoid()
        case .glu: return try x.glu()
        case .sparsemax: return try x.sparsemax(axis: -1)
        }
    }
}

/// An activation on eight lanes, with the float operations of its Tensor op
/// lane by lane (so a lane gives the element the op gives): what a streaming
/// step applies inside its vector loops. Inlinable, so that those loops
/// inline it instead of calling it per vector.
public enum LaneActivation: Sendable {
    case sigmoid, tanh, silu, gelu, hardSilu

    @inlinable @inline(__always)
    public func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .sigmoid: return VectorSigmoid()(x)
        case .tanh: return VectorTanh()(x)
        case .silu: return VectorSilu()(x)
        case .gelu: return VectorGelu()(x)
        case .hardSilu:
            // `x · min(max(x + 3, 0), 6) / 6` as `hardSilu()` computes it, NaN included.
            var h = x + 3
            h = h.replacing(with: 0, where: h .<= 0)
            h = h.replacing(with: 6, where: h .> 6)
            return x * h / 6
        }
    }

    /// One value, in lane 0, so that it rounds as the lanes do.
    @inlinable @inline(__always)
    public func callAsFunction(_ x: Float) -> Float { self(SIMD8(repeating: x))[0] }
}

extension Activation {
    /// The activation on eight lanes, for the ones a streaming step applies
    /// in its vector loops; nil for the others.
    public var lanes: LaneActivation? {
        switch self {
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .swish, .silu: return .silu
        case .gelu: return .gelu
        case .hardSilu, .hardSwish: return .hardSilu
        default: return nil
        }
    }
}
