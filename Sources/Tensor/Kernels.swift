import Foundation

/// A scalar function as a type. The kernels are generic over it, so each
/// specialization inlines the function into its loop, which then vectorizes;
/// a closure value would cost an indirect call per element.
protocol UnaryFunction { func callAsFunction(_ x: Float) -> Float }
protocol BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float }
protocol TernaryFunction { func callAsFunction(_ a: Float, _ b: Float, _ c: Float) -> Float }

/// A closure as a kernel function, for the ops too rare to deserve a type.
struct UnaryClosure: UnaryFunction {
    let body: (Float) -> Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { body(x) }
}
struct BinaryClosure: BinaryFunction {
    let body: (Float, Float) -> Float
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { body(a, b) }
}
struct TernaryClosure: TernaryFunction {
    let body: (Float, Float, Float) -> Float
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float, _ c: Float) -> Float { body(a, b, c) }
}

struct Add: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct Subtract: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct Multiply: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct Divide: BinaryFunction { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
/// `x · s` for a fixed `s`.
struct Scale: UnaryFunction {
    let s: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * s }
}
/// `f(a)` for the first operand and `b` held fixed: broadcasting a scalar operand.
struct BindSecond<F: BinaryFunction>: UnaryFunction {
    let f: F, b: Float
    @inline(__always) func callAsFunction(_ a: Float) -> Float { f(a, b) }
}
struct BindFirst<F: BinaryFunction>: UnaryFunction {
    let f: F, a: Float
    @inline(__always) func callAsFunction(_ b: Float) -> Float { f(a, b) }
}

/// A derivative that does not depend on its point.
struct Constant: BinaryFunction {
    let value: Float
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { value }
}
/// `g · d(x, y)`: the gradient of a unary op with derivative `d` at `x`, `y = f(x)`.
struct ChainRule<D: BinaryFunction>: TernaryFunction {
    let derivative: D
    @inline(__always) func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * derivative(x, y) }
}

/// Elementwise loops shared by the ops: same-shape fast paths, broadcasting,
/// and both cores for large tensors.
enum Kernels {
    /// `f` applied to every element.
    static func map<F: UnaryFunction>(_ x: Tensor, _ f: F) -> Tensor {
        let n = x.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            x.scalars.withUnsafeBufferPointer { px in
                guard let src = px.baseAddress, let dst = buf.baseAddress else { return }
                parallelFor(n) { r in for i in r { dst[i] = f(src[i]) } }
            }
            done = n
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// `f` applied to pairs of elements of two tensors of the same shape.
    static func zipMap<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    guard let x = pa.baseAddress, let y = pb.baseAddress, let dst = buf.baseAddress else { return }
                    parallelFor(n) { r in for i in r { dst[i] = f(x[i], y[i]) } }
                }
            }
            done = n
        }
        return Tensor(shape: a.shape, scalars: out)
    }

    /// `f` applied to triples of elements of three tensors of the same shape.
    static func zipMap<F: TernaryFunction>(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: F) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeBufferPointer { pc in
                        guard let x = pa.baseAddress, let y = pb.baseAddress, let z = pc.baseAddress,
                              let dst = buf.baseAddress else { return }
                        parallelFor(n) { r in for i in r { dst[i] = f(x[i], y[i], z[i]) } }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: a.shape, scalars: out)
    }

    /// `f` applied to pairs of elements of `a` and `b` under NumPy broadcasting.
    static func broadcastMap<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) throws -> Tensor {
        if a.shape == b.shape { return zipMap(a, b, f) }
        let shape = try Broadcast.shape(a.shape, b.shape, op: op)
        let n = shape.reduce(1, *)
        if b.count == 1 && a.count == n {
            return map(a, BindSecond(f: f, b: b.scalars[0])).reshapedUnchecked(shape)
        }
        if a.count == 1 && b.count == n {
            return map(b, BindFirst(f: f, a: a.scalars[0])).reshapedUnchecked(shape)
        }
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    Broadcast.forEachRun(out: shape, a: a.shape, b: b.shape) { o, ia, ib, len, sa, sb in
                        let (x, y, dst) = (pa.baseAddress! + ia, pb.baseAddress! + ib, buf.baseAddress! + o)
                        if sa == 1 && sb == 1 {
                            for i in 0..<len { dst[i] = f(x[i], y[i]) }
                        } else if sb == 0 {
                            let v = y[0]
                            for i in 0..<len { dst[i] = f(x[i * sa], v) }
                        } else if sa == 0 {
                            let v = x[0]
                            for i in 0..<len { dst[i] = f(v, y[i * sb]) }
                        } else {
                            for i in 0..<len { dst[i] = f(x[i * sa], y[i * sb]) }
                        }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: shape, scalars: out)
    }

    // Closure forms, for the rare ops.
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { map(x, UnaryClosure(body: $0)) }
    }
    static func zipMap(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { zipMap(a, b, BinaryClosure(body: $0)) }
    }
    static func zipMap(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { zipMap(a, b, c, TernaryClosure(body: $0)) }
    }
    static func broadcastMap(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        try withoutActuallyEscaping(f) { try broadcastMap(a, b, op: op, BinaryClosure(body: $0)) }
    }
}

extension Tensor {
    /// The same elements under a new shape of equal count (no checks, no tape).
    func reshapedUnchecked(_ newShape: [Int]) -> Tensor {
        var t = Tensor(shape: newShape, scalars: scalars)
        t.node = nil
        return t
    }
}

extension SIMD8 where Scalar == Float {
    /// Eight floats from `p`, which need not be aligned.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// The first `lanes` (1...8) floats from `p`, zeros after.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, lanes: Int) -> SIMD8<Float> {
        if lanes == 8 { return load(p) }
        var v = SIMD8<Float>()
        for i in 0..<lanes { v[i] = p[i] }
        return v
    }

    /// Stores the eight floats at `p`, which need not be aligned.
    @inline(__always)
    func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }

    /// Stores the first `lanes` (1...8) floats at `p`.
    @inline(__always)
    func store(to p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == 8 { return store(to: p) }
        for i in 0..<lanes { p[i] = self[i] }
    }
}
