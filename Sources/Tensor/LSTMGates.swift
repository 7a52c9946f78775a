extension Tensor {
    /// One LSTM step's gates with their gradient, in one pass each way: with
    /// `z` holding the pre-activations `[i, f, g, o]` along its last axis and
    /// `carry` the previous cell state, `c = σ(f)·carry + σ(i)·tanh(g)` and
    /// `h = σ(o)·tanh(c)`, the same float operations as the step composed from
    /// ops (split, sigmoid, tanh, multiply, add) and their gradients. `h` is
    /// recorded as a function of `z` and `c`, `c` of `z` and `carry`.
    ///
    /// Nil when the units are not a multiple of 8 or the shapes do not fit:
    /// the caller then composes the step from ops.
    public static func lstmGates(_ z: Tensor, carry: Tensor) -> (h: Tensor, c: Tensor)? {
        guard let units = carry.shape.last, units > 0, units % 8 == 0, z.rank == carry.rank,
              z.shape.dropLast() == carry.shape.dropLast(), z.shape.last == 4 * units else { return nil }
        let recording = GradientTape.noGradientDepth == 0 && (z.isTracked || carry.isTracked)
        if !recording { return lstmGatesInference(z.detached, carry: carry.detached) }
        let n = carry.count, rows = n / units
        // The activations σ(i), σ(f), tanh(g), σ(o) per row, and tanh(c), kept for the gradients.
        var a = [Float](repeating: 0, count: 4 * n), c = [Float](repeating: 0, count: n)
        var tc = [Float](repeating: 0, count: n), h = [Float](repeating: 0, count: n)
        z.scalars.withUnsafeBufferPointer { pz in
            carry.scalars.withUnsafeBufferPointer { pcarry in
                a.withUnsafeMutableBufferPointer { pa in
                    c.withUnsafeMutableBufferPointer { pc in
                        tc.withUnsafeMutableBufferPointer { ptc in
                            h.withUnsafeMutableBufferPointer { ph in
                                let (zb, cb, ab, ob, tb, hb) = (pz.baseAddress!, pcarry.baseAddress!, pa.baseAddress!,
                                                                pc.baseAddress!, ptc.baseAddress!, ph.baseAddress!)
                                parallelFor(rows, grain: Swift.max(1, 4096 / units)) { range in
                                    for r in range {
                                        let zr = zb + r * 4 * units, ar = ab + r * 4 * units, base = r * units
                                        for j in stride(from: 0, to: units, by: 8) {
                                            let i = VectorMath.sigmoid(SIMD8.load(zr + j))
                                            let f = VectorMath.sigmoid(SIMD8.load(zr + units + j))
                                            let g = VectorMath.tanh(SIMD8.load(zr + 2 * units + j))
                                            let o = VectorMath.sigmoid(SIMD8.load(zr + 3 * units + j))
                                            i.store(to: ar + j); f.store(to: ar + units + j)
                                            g.store(to: ar + 2 * units + j); o.store(to: ar + 3 * units + j)
                                            let cell = f * SIMD8.load(cb + base + j) + i * g
                                            let t = VectorMath.tanh(cell)
                                            cell.store(to: ob + base + j)
                                            t.store(to: tb + base + j)
                                            (o * t).store(to: hb + base + j)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let shape = carry.shape, zShape = z.shape, carryValue = carry.detached
        let activations = a, tanhC = tc
        let cell = record("lstmGates.c", Tensor(shape: shape, scalars: c), [z, carry]) { gc in
            var dz = [Float](repeating: 0, count: 4 * n), dcarry = [Float](repeating: 0, count: n)
            gc.scalars.withUnsafeBufferPointer { pg in
                carryValue.scalars.withUnsafeBufferPointer { pcarry in
                    activations.withUnsafeBufferPointer { pa in
                        dz.withUnsafeMutableBufferPointer { pdz in
                            dcarry.withUnsafeMutableBufferPointer { pdc in
                                let (gb, cb, ab, db, dcb) = (pg.baseAddress!, pcarry.baseAddress!, pa.baseAddress!,
                                                             pdz.baseAddress!, pdc.baseAddress!)
                                parallelFor(rows, grain: Swift.max(1, 4096 / units)) { range in
                                    for r in range {
                                        let ar = ab + r * 4 * units, dr = db + r * 4 * units, base = r * units
                                        for j in stride(from: 0, to: units, by: 8) {
                                            let g = SIMD8.load(gb + base + j), carry = SIMD8.load(cb + base + j)
                                            let i = SIMD8.load(ar + j), f = SIMD8.load(ar + units + j)
                                            let t = SIMD8.load(ar + 2 * units + j)
                                            (g * t * i * (1 - i)).store(to: dr + j)
                                            (g * carry * f * (1 - f)).store(to: dr + units + j)
                                            (g * i * (1 - t * t)).store(to: dr + 2 * units + j)
                                            (g * f).store(to: dcb + base + j)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: zShape, scalars: dz), Tensor(shape: shape, scalars: dcarry)]
        }
        let output = record("lstmGates.h", Tensor(shape: shape, scalars: h), [z, cell]) { gh in
            var dz = [Float](repeating: 0, count: 4 * n), dc = [Float](repeating: 0, count: n)
            gh.scalars.withUnsafeBufferPointer { pg in
                tanhC.withUnsafeBufferPointer { ptc in
                    activations.withUnsafeBufferPointer { pa in
                        dz.withUnsafeMutableBufferPointer { pdz in
                            dc.withUnsafeMutableBufferPointer { pdc in
                                let (gb, tb, ab, db, dcb) = (pg.baseAddress!, ptc.baseAddress!, pa.baseAddress!,
                                                             pdz.baseAddress!, pdc.baseAddress!)
                                parallelFor(rows, grain: Swift.max(1, 4096 / units)) { range in
                                    for r in range {
                                        let ar = ab + r * 4 * units, dr = db + r * 4 * units, base = r * units
                                        for j in stride(from: 0, to: units, by: 8) {
                                            let g = SIMD8.load(gb + base + j), t = SIMD8.load(tb + base + j)
                                            let o = SIMD8.load(ar + 3 * units + j)
                                            (g * t * o * (1 - o)).store(to: dr + 3 * units + j)
                                            (g * o * (1 - t * t)).store(to: dcb + base + j)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: zShape, scalars: dz), Tensor(shape: shape, scalars: dc)]
        }
        return (output, cell)
    }
}
