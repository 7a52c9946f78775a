/// Elementwise loops shared by the ops: same-shape fast paths, broadcasting,
/// and both cores for large tensors.
enum Kernels {
    /// `f` applied to every element.
    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let n = x.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            x.scalars.withUnsafeBufferPointer { px in
                parallelFor(n) { r in for i in r { buf[i] = f(px[i]) } }
            }
            done = n
        }
        return Tensor(shape: x.shape, scalars: out)
    }

    /// `f` applied to pairs of elements of two tensors of the same shape.
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    parallelFor(n) { r in for i in r { buf[i] = f(pa[i], pb[i]) } }
                }
            }
            done = n
        }
        return Tensor(shape: a.shape, scalars: out)
    }

    /// `f` applied to triples of elements of three tensors of the same shape.
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
        let n = a.count
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.scalars.withUnsafeBufferPointer { pc in
                        parallelFor(n) { r in for i in r { buf[i] = f(pa[i], pb[i], pc[i]) } }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: a.shape, scalars: out)
    }

    /// `f` applied to pairs of elements of `a` and `b` under NumPy broadcasting.
    @inline(__always)
    static func broadcastMap(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) throws -> Tensor {
        if a.shape == b.shape { return zipMap(a, b, f) }
        let shape = try Broadcast.shape(a.shape, b.shape, op: op)
        let n = shape.reduce(1, *)
        if b.count == 1 && a.count == n {
            let s = b.scalars[0]
            return map(a, { f($0, s) }).reshapedUnchecked(shape)
        }
        if a.count == 1 && b.count == n {
            let s = a.scalars[0]
            return map(b, { f(s, $0) }).reshapedUnchecked(shape)
        }
        let out = [Float](unsafeUninitializedCapacity: n) { buf, done in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    Broadcast.forEachRun(out: shape, a: a.shape, b: b.shape) { o, ia, ib, len, sa, sb in
                        var ia = ia, ib = ib
                        for i in o..<(o + len) {
                            buf[i] = f(pa[ia], pb[ib])
                            ia += sa; ib += sb
                        }
                    }
                }
            }
            done = n
        }
        return Tensor(shape: shape, scalars: out)
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
