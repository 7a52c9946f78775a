import Foundation

// Elementwise arithmetic and math with NumPy broadcasting and gradients.
// Gradient rules follow TensorFlow's registered gradients (math_grad.py).

extension Tensor {
    /// A broadcasting binary op with gradients `(g, a, b) -> (ga, gb)` before
    /// reduction to the operand shapes.
    static func binary<F: BinaryFunction>(_ op: String, _ a: Tensor, _ b: Tensor, _ f: F,
                                          grad: @escaping (Tensor, Tensor, Tensor) throws -> (Tensor?, Tensor?)) throws -> Tensor {
        let out = try Kernels.broadcastMap(a, b, op: op, f)
        let (ad, bd) = (a.detached, b.detached)
        return record(op, out, [a, b]) { g in
            let (ga, gb) = try grad(g, ad, bd)
            return [try ga?.unbroadcast(to: ad.shape), try gb?.unbroadcast(to: bd.shape)]
        }
    }

    /// A unary op whose derivative is `df(x, y)` with `y = f(x)`.
    func unary<F: UnaryFunction, D: BinaryFunction>(_ op: String, _ f: F, _ df: D) -> Tensor {
        let y = Kernels.map(self, f)
        guard node != nil else { return y }
        let x = detached
        return Tensor.record(op, y, [self]) { g in [Kernels.zipMap(g, x, y, ChainRule(derivative: df))] }
    }

    /// ``unary(_:_:_:)`` for closures.
    func unary(_ op: String, _ f: (Float) -> Float, _ df: @escaping (Float, Float) -> Float) -> Tensor {
        withoutActuallyEscaping(f) { unary(op, UnaryClosure(body: $0), BinaryClosure(body: df)) }
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try binary("add", a, b, Add()) { g, _, _ in (g, g) }
    }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try binary("subtract", a, b, Subtract()) { g, _, _ in (g, -g) }
    }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try binary("multiply", a, b, Multiply()) { g, a, b in (try g * b, try g * a) }
    }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try binary("divide", a, b, Divide()) { g, a, b in
            (try g / b, try Kernels.broadcastMap(try g * a, try b * b, op: "divide", { -$0 / $1 }))
        }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.unary("add", BindSecond(f: Add(), b: s), Constant(value: 1)) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a.unary("subtract", BindSecond(f: Subtract(), b: s), Constant(value: 1)) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.unary("subtract", BindFirst(f: Subtract(), a: s), Constant(value: -1)) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.unary("multiply", Scale(s: s), Constant(value: s)) }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a.unary("divide", BindSecond(f: Divide(), b: s), Constant(value: 1 / s)) }
    public static func / (s: Float, a: Tensor) -> Tensor { a.unary("divide", { s / $0 }, { x, _ in -s / (x * x) }) }
    public static prefix func - (a: Tensor) -> Tensor { a.unary("negative", Scale(s: -1), Constant(value: -1)) }

    public func exp() -> Tensor { unary("exp", Foundation.exp, { _, y in y }) }
    public func log() -> Tensor { unary("log", Foundation.log, { x, _ in 1 / x }) }
    public func sqrt() -> Tensor { unary("sqrt", Foundation.sqrt, { _, y in 0.5 / y }) }
    public func rsqrt() -> Tensor { unary("rsqrt", { 1 / Foundation.sqrt($0) }, { _, y in -0.5 * y * y * y }) }
    public func square() -> Tensor { unary("square", { $0 * $0 }, { x, _ in 2 * x }) }
    public func abs() -> Tensor { unary("abs", Swift.abs, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// -1, 0 or 1 by the sign of each element (0 for NaN as in TF: NaN stays NaN).
    public func sign() -> Tensor { unary("sign", { $0 > 0 ? 1 : ($0 < 0 ? -1 : $0) }, { _, _ in 0 }) }
    /// Rounds half to even, as `tf.round`; the gradient is zero.
    public func round() -> Tensor { unary("round", { $0.rounded(.toNearestOrEven) }, { _, _ in 0 }) }
    public func floor() -> Tensor { unary("floor", { $0.rounded(.down) }, { _, _ in 0 }) }
    public func ceil() -> Tensor { unary("ceil", { $0.rounded(.up) }, { _, _ in 0 }) }
    /// `x ** p` for a scalar exponent.
    public func pow(_ p: Float) -> Tensor {
        unary("pow", { Foundation.pow($0, p) }, { x, _ in p * Foundation.pow(x, p - 1) })
    }
    /// Clips every element to `[low, high]`; the gradient passes where `low ≤ x ≤ high`
    /// (`tf.clip_by_value`).
    public func clip(_ low: Float, _ high: Float) -> Tensor {
        unary("clip", { Swift.min(Swift.max($0, low), high) }, { x, _ in x < low || x > high ? 0 : 1 })
    }

    /// `a ** b` elementwise with broadcasting; the gradient to `b` is `a**b · log a`
    /// where `a > 0` and zero elsewhere (`tf.pow`).
    public static func pow(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary("pow", a, b, BinaryClosure { Foundation.pow($0, $1) }) { g, a, b in
            let ga = try g * (try Kernels.broadcastMap(a, b, op: "pow") { $1 * Foundation.pow($0, $1 - 1) })
            let gb = try g * (try Kernels.broadcastMap(a, b, op: "pow") { $0 > 0 ? Foundation.pow($0, $1) * Foundation.log($0) : 0 })
            return (ga, gb)
        }
    }

    /// The larger of each pair; ties send the gradient to `a` (`tf.maximum`).
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary("maximum", a, b, BinaryClosure { Swift.max($0, $1) }) { g, a, b in
            let mask = try Kernels.broadcastMap(a, b, op: "maximum") { $0 >= $1 ? 1 : 0 }
            return (try g * mask, try g * (1 - mask))
        }
    }

    /// The smaller of each pair; ties send the gradient to `a` (`tf.minimum`).
    public static func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try binary("minimum", a, b, BinaryClosure { Swift.min($0, $1) }) { g, a, b in
            let mask = try Kernels.broadcastMap(a, b, op: "minimum") { $0 <= $1 ? 1 : 0 }
            return (try g * mask, try g * (1 - mask))
        }
    }

    /// Elements of `a` where `condition` is non-zero, else of `b`, with broadcasting.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(try Broadcast.shape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let c = try condition.broadcast(to: shape).detached, ab = try a.broadcast(to: shape), bb = try b.broadcast(to: shape)
        let out = Kernels.zipMap(c, ab, bb) { $0 != 0 ? $1 : $2 }
        let (ashape, bshape) = (a.shape, b.shape)
        return record("where", out, [a, b]) { g in
            [try Kernels.zipMap(c, g) { $0 != 0 ? $1 : 0 }.unbroadcast(to: ashape),
             try Kernels.zipMap(c, g) { $0 != 0 ? 0 : $1 }.unbroadcast(to: bshape)]
        }
    }

    /// 1 where `a > b`, else 0 (no gradient).
    public static func greater(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try Kernels.broadcastMap(a.detached, b.detached, op: "greater") { $0 > $1 ? 1 : 0 }
    }
    /// 1 where `a == b`, else 0 (no gradient).
    public static func equal(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try Kernels.broadcastMap(a.detached, b.detached, op: "equal") { $0 == $1 ? 1 : 0 }
    }
}
