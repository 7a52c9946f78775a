// Eight-lane exp, sigmoid, SiLU, tanh and erf for the activations that dominate
// EfficientNet- and ConvNeXt-style networks: glibc's scalar expf and a branch per element
// cost several times more than the memory traffic of the pass.

/// A function on eight floats at a time; the kernels run it on full vectors
/// and on a zero-padded tail.
protocol VectorUnaryFunction { func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> }
protocol VectorTernaryFunction {
    func callAsFunction(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float>
}

@usableFromInline enum VectorMath {
    /// `eˣ` for `x ≤ 0` (0 below −87.3, where it would be denormal):
    /// `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `eʳ` by its Taylor series to
    /// degree 7 (truncation below 1e-8 relative), times `2ⁿ` built in the
    /// exponent bits. Within 2 ulp of the exact value on the range.
    @inlinable @inline(__always)
    static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // (pointwiseMax compiles to a scalar loop; a compare and blend does not.)
        let underflows = x .< -87.3
        let x = x.replacing(with: -87.3, where: underflows)
        // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        // ln 2 split so that n·ln2Hi is exact for |n| < 2⁹.
        let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
        // By Estrin's scheme: four short chains instead of one of 14 dependent operations.
        let r2 = r * r, r4 = r2 * r2
        let p01 = 1 + r, p23 = 0.5 + r * (1.0 / 6), p45 = 1.0 / 24 + r * (1.0 / 120), p67 = 1.0 / 720 + r * (1.0 / 5040)
        let p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67)
        let exponent = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self) &+ 127) &<< 23
        return (p * unsafeBitCast(exponent, to: SIMD8<Float>.self)).replacing(with: 0, where: underflows)
    }

    /// `1 / (1 + e⁻ˣ)`, from `e^−|x|` so that nothing overflows.
    @inlinable @inline(__always)
    static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let negativeAbs = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) | 0x8000_0000, to: SIMD8<Float>.self)
        let e = expNonPositive(negativeAbs)
        let s = 1 / (1 + e)
        return s.replacing(with: e * s, where: x .< 0)
    }
}

extension VectorMath {
    /// `eʸ − 1` for `y ≤ 0`: its Taylor series to degree 8 where `|y| < 0.35`
    /// (truncation below 1e-9 relative), else from ``expNonPositive(_:)``,
    /// whose result is then at least 0.3 away from 1.
    @inlinable @inline(__always)
    static func expm1NonPositive(_ y: SIMD8<Float>) -> SIMD8<Float> {
        // y·(1 + y/2 + … + y⁷/8!) by Estrin's scheme.
        let y2 = y * y, y4 = y2 * y2
        let q01 = 1 + y * 0.5, q23 = 1.0 / 6 + y * (1.0 / 24), q45 = 1.0 / 120 + y * (1.0 / 720)
        let q67 = 1.0 / 5040 + y * (1.0 / 40320)
        let p = y * ((q01 + y2 * q23) + y4 * (q45 + y2 * q67))
        return p.replacing(with: expNonPositive(y) - 1, where: y .< -0.35)
    }

    /// `tanh x = sign(x) · (−m) / (2 + m)` with `m = e^(−2|x|) − 1`.
    @inlinable @inline(__always)
    static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let magnitude = unsafeBitCast(bits & 0x7fff_ffff, to: SIMD8<Float>.self)
        let m = expm1NonPositive(-2 * magnitude)
        let t = -m / (2 + m)
        return unsafeBitCast(unsafeBitCast(t, to: SIMD8<UInt32>.self) | (bits & 0x8000_0000), to: SIMD8<Float>.self)
    }
}

extension VectorMath {
    /// `erf(x)` for `|x| < 0.875`: `x + x·P(x²)`, within about 1 ulp.
    /// Coefficients from tools/derive/erf_coefficients.py.
    @inlinable @inline(__always)
    static func erfNearZero(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let s = x * x
        var p = SIMD8<Float>(repeating: 8.6946675e-05)
        p = p * s - 8.2155596e-04
        p = p * s + 5.2071344e-03
        p = p * s - 2.686174e-02
        p = p * s + 1.1283736e-01
        p = p * s - 3.7612635e-01
        p = p * s + 1.2837917e-01
        return x + x * p
    }

    /// `erfc(a)` for `a ≥ 0.875` (and its NaN): `e^(−a²) · u · S(u − 4/7)`
    /// with `u = 1/a`, within 4e-7 relative down to where `e^(−a²)`
    /// underflows (a ≈ 9.3). `a²` is split into two floats, so `e^(−a²)` is
    /// exact to float rounding. Coefficients from tools/derive/erf_coefficients.py.
    @inlinable @inline(__always)
    static func erfcAwayFromZero(_ a: SIMD8<Float>) -> SIMD8<Float> {
        let u = 1 / a, w = u - 5.714286e-01
        // S by Estrin's scheme: as one 12-step Horner chain the compiler
        // evaluated it one lane at a time.
        let w2 = w * w, w4 = w2 * w2, w8 = w4 * w4
        let r0 = (4.9870142e-01 - 1.707763e-01 * w) + (-1.430457e-02 + 9.028729e-02 * w) * w2
        let r1 = (-9.155005e-02 + 5.0474606e-02 * w) + (2.6593423e-03 - 4.3706927e-02 * w) * w2
        let r2 = (7.652355e-02 - 1.00784e-01 * w) + (3.185749e-02 + 1.0858887e-01 * w) * w2
        let p = (r0 + r1 * w4) + (r2 - 9.813061e-02 * w4) * w8
        let high = a * a
        let low = (-high).addingProduct(a, a)  // a·a − high, exactly (one fused multiply-add)
        return expNonPositive(-high) * (1 - low) * (u * p)
    }

    /// `(erf(x), 1 + erf(x))`; the second keeps its relative accuracy where
    /// `erf(x)` is near −1 (GELU's negative tail) instead of cancelling.
    @inlinable @inline(__always)
    static func erfAndOnePlusErf(_ x: SIMD8<Float>) -> (erf: SIMD8<Float>, onePlus: SIMD8<Float>) {
        let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let a = unsafeBitCast(bits & 0x7fff_ffff, to: SIMD8<Float>.self)
        let near = a .< 0.875
        let small = erfNearZero(x)
        // Every lane near zero (GELU's inputs mostly are): the same values without erfc's division and exponential.
        if all(near) { return (small, 1 + small) }
        // Far lanes only: a near lane gets a = 1 so that nothing there overflows;
        // above 10, erfc is 0 in float (and a² must not reach ∞).
        let c = erfcAwayFromZero(a.replacing(with: 1, where: near).replacing(with: 10, where: a .> 10))
        let magnitude = 1 - c
        let signed = unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | (bits & 0x8000_0000),
                                   to: SIMD8<Float>.self)
        let erf = signed.replacing(with: small, where: near)
        let onePlus = (2 - c).replacing(with: c, where: x .< 0).replacing(with: 1 + small, where: near)
        return (erf, onePlus)
    }
}

struct VectorErf: VectorUnaryFunction {
    @inline(__always) func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.erfAndOnePlusErf(x).erf }
}

/// `g · (2/√π) · e^(−x²)`, the erf gradient, for `(g, x, y)`.
struct VectorErfGradient: VectorTernaryFunction {
    @inline(__always) func callAsFunction(_ g: SIMD8<Float>, _ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        g * (1.1283791671 * VectorMath.expNonPositive(-(x * x)))
    }
}

/// Exact GELU, `x/2 · (1 + erf(x/√2))`.
@usableFromInline struct VectorGelu: VectorUnaryFunction {
    @inlinable init() {}
    @_transparent @usableFromInline func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> {
        0.5 * x * VectorMath.erfAndOnePlusErf(x * 0.70710678118654752).onePlus
    }
}

/// `g · ((1 + erf(x/√2))/2 + x · e^(−x²/2)/√(2π))`, the exact GELU gradient, for `(g, x, y)`.
struct VectorGeluGradient: VectorTernaryFunction {
    @inline(__always) func callAsFunction(_ g: SIMD8<Float>, _ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        let cdf = 0.5 * VectorMath.erfAndOnePlusErf(x * 0.70710678118654752).onePlus
        return g * (cdf + x * 0.3989422804014327 * VectorMath.expNonPositive(-0.5 * (x * x)))
    }
}

@usableFromInline struct VectorTanh: VectorUnaryFunction {
    @inlinable init() {}
    @_transparent @usableFromInline func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.tanh(x) }
}

@usableFromInline struct VectorSilu: VectorUnaryFunction {
    @inlinable init() {}
    @_transparent @usableFromInline func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { x * VectorMath.sigmoid(x) }
}

/// `g · s·(1 + x·(1 − s))`, the SiLU gradient, for `(g, x, y)`.
struct VectorSiluGradient: VectorTernaryFunction {
    @inline(__always) func callAsFunction(_ g: SIMD8<Float>, _ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        let s = VectorMath.sigmoid(x)
        return g * (s * (1 + x * (1 - s)))
    }
}

@usableFromInline struct VectorSigmoid: VectorUnaryFunction {
    @inlinable init() {}
    @_transparent @usableFromInline func callAsFunction(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorMath.sigmoid(x) }
}

extension Kernels {
    /// `f` on every element, eight at a time, on all cores for large tensors.
    static func vectorMap<F: VectorUnaryFunction>(_ x: Tensor, _ f: F) -> Tensor {
        let n = x.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            x.scalars.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = buf.baseAddress else { return }
                parallelFor((n + 7) / 8, grain: 1 << 12) { r in
                    for v in r {
                        let i = 8 * v
                        if i + 8 <= n {
                            f(SIMD8.load(src + i)).store(to: dst + i)
                        } else {
                            f(SIMD8.load(src + i, lanes: n - i)).store(to: dst + i, lanes: n - i)
                        }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// `f` on triples of elements of three same-shaped tensors, eight at a time.
    static func vectorZipMap<F: VectorTernaryFunction>(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: F) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeBufferPointer { pc in
                        guard let x = pa.baseAddress, let y = pb.baseAddress, let z = pc.baseAddress,
                              let dst = buf.baseAddress else { return }
                        parallelFor((n + 7) / 8, grain: 1 << 12) { r in
                            for v in r {
                                let i = 8 * v
                                if i + 8 <= n {
                                    f(SIMD8.load(x + i), SIMD8.load(y + i), SIMD8.load(z + i)).store(to: dst + i)
                                } else {
                                    let lanes = n - i
                                    f(SIMD8.load(x + i, lanes: lanes), SIMD8.load(y + i, lanes: lanes),
                                      SIMD8.load(z + i, lanes: lanes)).store(to: dst + i, lanes: lanes)
                                }
                            }
                        }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: a.shape, scalars: out)
    }
}

extension Tensor {
    /// One LSTM step's gates at inference, in one pass: with `z` holding the
    /// pre-activations `[i, f, g, o]` along its last axis (Keras's order) and
    /// `carry` the previous cell state, `c = σ(f)·carry + σ(i)·tanh(g)` and
    /// `h = σ(o)·tanh(c)`. Nil when either input is tracked by a tape, the
    /// units are not a multiple of 8, or the shapes do not fit: the caller
    /// then composes the step from ops.
    public static func lstmGatesInference(_ z: Tensor, carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard z.node == nil, carry.node == nil, let units = carry.shape.last, units > 0, units % 8 == 0, z.rank == carry.rank,
              z.shape.dropLast() == carry.shape.dropLast(), z.shape.last == 4 * units else { return nil }
        let n = carry.count, rows = n / units
        var c = [Float](repeating: 0, count: n), h = [Float](repeating: 0, count: n)
        z.scalars.withUnsafeBufferPointer { pz in
            carry.scalars.withUnsafeBufferPointer { pc in
                c.withUnsafeMutableBufferPointer { oc in
                    h.withUnsafeMutableBufferPointer { oh in
                        let (zb, cb, ocb, ohb) = (pz.baseAddress!, pc.baseAddress!, oc.baseAddress!, oh.baseAddress!)
                        parallelFor(rows, grain: Swift.max(1, 4096 / units)) { range in
                            VectorMath.lstmGates(zb, carry: cb, h: ohb, c: ocb, units: units, rows: range)
                        }
                    }
                }
            }
        }
        return (Tensor(shape: carry.shape, scalars: h), Tensor(shape: carry.shape, scalars: c))
    }
}

extension VectorMath {
    /// The LSTM gates of rows `rows` (see ``Tensor/lstmGatesInference(_:carry:)``):
    /// `z` is `[rows, 4·units]`, `carry`, `h` and `c` are `[rows, units]`;
    /// `units` is a multiple of 8. (Out of line: one copy for the kernels
    /// that call it, with the activations inlined.)
    @inline(never)
    static func lstmGates(_ z: UnsafePointer<Float>, carry: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                          c: UnsafeMutablePointer<Float>, units: Int, rows: Range<Int>) {
        for r in rows {
            let zr = z + r * 4 * units, base = r * units
            for v in 0..<(units / 8) {
                let j = 8 * v
                let i = sigmoid(SIMD8.load(zr + j))
                let f = sigmoid(SIMD8.load(zr + units + j))
                let g = tanh(SIMD8.load(zr + 2 * units + j))
                let o = sigmoid(SIMD8.load(zr + 3 * units + j))
                let cell = f * SIMD8.load(carry + base + j) + i * g
                cell.store(to: c + base + j)
                (o * tanh(cell)).store(to: h + base + j)
            }
        }
    }
}
