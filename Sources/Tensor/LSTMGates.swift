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
            // dc = g: through σ(i)·tanh(g) and σ(f)·carry into z, and into carry.
            let (dz, dcarry) = gateGradients(gc, carryValue.scalars, activations, units: units) { g, carry, a, dz, dcarry, u in
                let i = SIMD8.load(a), f = SIMD8.load(a + u), t = SIMD8.load(a + 2 * u)
                (g * t * i * (1 - i)).store(to: dz)
                (g * carry * f * (1 - f)).store(to: dz + u)
                (g * i * (1 - t * t)).store(to: dz + 2 * u)
                (g * f).store(to: dcarry)
            }
            return [Tensor(shape: zShape, scalars: dz), Tensor(shape: shape, scalars: dcarry)]
        }
        let output = record("lstmGates.h", Tensor(shape: shape, scalars: h), [z, cell]) { gh in
            // dh = g: through σ(o)·tanh(c) into z, and into c.
            let (dz, dc) = gateGradients(gh, tanhC, activations, units: units) { g, t, a, dz, dc, u in
                let o = SIMD8.load(a + 3 * u)
                (g * t * o * (1 - o)).store(to: dz + 3 * u)
                (g * o * (1 - t * t)).store(to: dc)
            }
            return [Tensor(shape: zShape, scalars: dz), Tensor(shape: shape, scalars: dc)]
        }
        return (output, cell)
    }

    /// The two gradients of one recorded gate output, over the rows in
    /// parallel blocks, eight lanes at a time: `body(g, s, a, dz, d, units)`
    /// gets the output's gradient `g` and the saved values `s` at those lanes,
    /// the row's activations `a` and gradient `dz` (`[i, f, g, o]` blocks,
    /// offset to the lanes), and the lanes of the second gradient `d`.
    @inline(__always) private static func gateGradients(_ gradient: Tensor, _ saved: [Float], _ activations: [Float], units: Int,
                                      _ body: (SIMD8<Float>, SIMD8<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                                               UnsafeMutablePointer<Float>, Int) -> Void) -> ([Float], [Float]) {
        let n = saved.count, rows = n / units
        var dz = [Float](repeating: 0, count: 4 * n), d = [Float](repeating: 0, count: n)
        gradient.scalars.withUnsafeBufferPointer { pg in
            saved.withUnsafeBufferPointer { ps in
                activations.withUnsafeBufferPointer { pa in
                    dz.withUnsafeMutableBufferPointer { pdz in
                        d.withUnsafeMutableBufferPointer { pd in
                            let (gb, sb, ab, db, dd) = (pg.baseAddress!, ps.baseAddress!, pa.baseAddress!, pdz.baseAddress!, pd.baseAddress!)
                            parallelFor(rows, grain: Swift.max(1, 4096 / units)) { range in
                                for r in range {
                                    let ar = ab + r * 4 * units, dr = db + r * 4 * units, base = r * units
                                    for j in stride(from: 0, to: units, by: 8) {
                                        body(SIMD8.load(gb + base + j), SIMD8.load(sb + base + j), ar + j, dr + j, dd + base + j, units)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dz, d)
    }
}
