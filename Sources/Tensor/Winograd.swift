import Foundation
// 3×3 stride-1 convolution by Winograd's F(2×2, 3×3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2015). Each 4×4 input tile d
// and 3×3 filter g are transformed, V = Bᵀ d B and U = G g Gᵀ, so that a 2×2
// output tile is Aᵀ [Σ_c U ⊙ V] A: 16 multiplications per channel pair
// instead of 36, done as 16 GEMMs [tiles, Cin] · [Cin, Cout]. The transforms
// only add, subtract and halve, so the result differs from the direct sum by
// rounding alone.

/// A Winograd schedule for a convolution plan it applies to.
struct WinogradPlan {
    let geometry: WindowGeometry
    let outChannels: Int
    let tilesHigh: Int, tilesWide: Int

    /// The schedule for `plan` when it is a 2-D, 3×3, stride-1, undilated,
    /// ungrouped convolution with at least 32 input and 16 output channels and
    /// 32 output tiles; nil otherwise. Below that the transforms and small
    /// GEMMs cost more than they save: with 16 input channels the 16 GEMMs
    /// have K = 16, and OpenBLAS spends as long zeroing C as multiplying
    /// (ConvLSTM2D(16)'s recurrent convolution), where the im2col GEMM has K = 144.
    init?(_ plan: ConvolutionPlan) {
        let g = plan.geometry, one = Extent3(d: 1, h: 1, w: 1)
        guard g.spatialRank == 2, plan.groups == 1, g.window == Extent3(d: 1, h: 3, w: 3), g.strides == one,
              g.dilations == one, g.channels >= 32, plan.outChannels >= 16 else { return nil }
        geometry = g
        outChannels = plan.outChannels
        tilesHigh = (g.output.h + 1) / 2
        tilesWide = (g.output.w + 1) / 2
        guard tiles >= 32 else { return nil }
    }

    var tiles: Int { geometry.batch * tilesHigh * tilesWide }

    /// `y = conv(x, w)` followed by the epilogue; `w` is HWIO. With `cache`,
    /// the transformed kernel is kept there for the kernel's `version`.
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                 epilogue: BoundEpilogue?, cache: (WinogradKernelCache, version: Int)? = nil) {
        let (cin, cout) = (geometry.channels, outChannels)
        let zeros = UnsafeMutablePointer<Float>.allocate(capacity: cin)
        defer { zeros.deallocate() }
        zeros.initialize(repeating: 0, count: cin)
        let transformed = cache.map { $0.0.transformed(version: $0.version, count: 16 * cin * cout) { transformKernel(w, into: $0) } }
            ?? [Float](unsafeUninitializedCapacity: 16 * cin * cout) { u, done in
                transformKernel(w, into: u.baseAddress!)
                done = 16 * cin * cout
            }
        transformed.withUnsafeBufferPointer { u in runBlocks(x, u.baseAddress!, y, zeros, epilogue) }
    }

    /// Runs every tile, in cache-sized blocks.
    private func runBlocks(_ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           _ zeros: UnsafePointer<Float>, _ epilogue: BoundEpilogue?) {
        let (cin, cout) = (geometry.channels, outChannels)
        // Tiles per block: its transformed inputs and products, 16 · tiles · (Cin + Cout)
        // floats, stay near 1 MB, a core's L2.
        let perBlock = Swift.min(256, Swift.max(16, 16_384 / (cin + cout)))
        if tiles >= 2 * perBlock * Parallelism.cores {
            // At least two blocks per core, a whole number per core, each with
            // single-threaded GEMMs.
            let cores = Parallelism.cores
            let blocks = ((tiles + perBlock - 1) / perBlock + cores - 1) / cores * cores
            let size = (tiles + blocks - 1) / blocks
            parallelFor(blocks, grain: 1) { range in
                let scratch = Scratch(tiles: size, cin: cin, cout: cout)
                defer { scratch.deallocate() }
                for block in range where block * size < tiles {
                    let first = block * size
                    run(first..<Swift.min(tiles, first + size), x, u, y, zeros, scratch, epilogue, parallel: false)
                }
            }
        } else {
            // Few tiles: one block, each phase split across the cores.
            let scratch = Scratch(tiles: tiles, cin: cin, cout: cout)
            defer { scratch.deallocate() }
            run(0..<tiles, x, u, y, zeros, scratch, epilogue, parallel: true)
        }
    }

    /// Buffers of one block: V as 16 matrices [tiles, Cin], the products as 16 [tiles, Cout].
    private struct Scratch {
        let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>

        init(tiles: Int, cin: Int, cout: Int) {
            v = .allocate(capacity: 16 * tiles * cin)
            m = .allocate(capacity: 16 * tiles * cout)
        }

        func deallocate() {
            v.deallocate()
            m.deallocate()
        }
    }

    /// `U[ξ][c][o] = (G g Gᵀ)[ξ]` for the filter `g = w[·][·][c][o]`, eight
    /// output channels at a time.
    private func transformKernel(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (cin, cout) = (geometry.channels, outChannels)
        let plane = cin * cout
        parallelFor(cin, grain: Swift.max(1, 2048 / cout)) { range in
            for c in range {
                for o in stride(from: 0, to: cout, by: 8) {
                    let lanes = Swift.min(8, cout - o), g = w + c * cout + o
                    func tap(_ k: Int) -> SIMD8<Float> { .load(g + k * plane, lanes: lanes) }
                    // G g by columns, then each row of it times Gᵀ.
                    let c0 = filterTransform(tap(0), tap(3), tap(6))
                    let c1 = filterTransform(tap(1), tap(4), tap(7))
                    let c2 = filterTransform(tap(2), tap(5), tap(8))
                    store((filterTransform(c0.0, c1.0, c2.0), filterTransform(c0.1, c1.1, c2.1),
                           filterTransform(c0.2, c1.2, c2.2), filterTransform(c0.3, c1.3, c2.3)),
                          to: u + c * cout + o, stride: plane, lanes: lanes)
                }
            }
        }
    }

    /// The tile, row and column of tile `t`.
    @inline(__always)
    private func tile(_ t: Int) -> (n: Int, row: Int, column: Int) {
        (t / (tilesHigh * tilesWide), t / tilesWide % tilesHigh, t % tilesWide)
    }

    /// Transforms, multiplies and writes back the tiles `range`, then runs the
    /// epilogue on their output pixels. With `parallel`, each phase is split
    /// across the cores, and each core takes its share of the 16 GEMMs whole,
    /// so each transformed kernel matrix is packed once.
    private func run(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ u: UnsafePointer<Float>,
                     _ y: UnsafeMutablePointer<Float>, _ zeros: UnsafePointer<Float>, _ scratch: Scratch,
                     _ epilogue: BoundEpilogue?, parallel: Bool) {
        let (cin, cout, count) = (geometry.channels, outChannels, range.count)
        let (vStride, mStride) = (count * cin, count * cout)
        /// Runs `body` on ranges of the block's tiles, across the cores when `parallel`.
        func forTiles(_ body: (Range<Int>) -> Void) {
            if parallel { parallelFor(count, grain: 8, body) } else { body(0..<count) }
        }
        forTiles { locals in
            for local in locals {
                transformInput(tile: range.lowerBound + local, x, zeros, into: scratch.v + local * cin, stride: vStride)
            }
        }
        parallelFor(16, grain: parallel ? 1 : 16) { points in
            for xi in points {
                sgemm(m: count, n: cout, k: cin, a: scratch.v + xi * vStride, lda: cin, b: u + xi * cin * cout, ldb: cout,
                      c: scratch.m + xi * mStride, ldc: cout, parallel: false)
            }
        }
        forTiles { locals in
            // Receives the outputs past the edge of the image.
            let discard = UnsafeMutablePointer<Float>.allocate(capacity: cout)
            defer { discard.deallocate() }
            for local in locals {
                transformOutput(tile: range.lowerBound + local, from: scratch.m + local * cout, stride: mStride, y,
                                discard: discard, epilogue)
            }
        }
    }

    /// V = Bᵀ d B for the input tile of tile `t`, into the 16 rows `stride` apart from `v`.
    @inline(__always)
    private func transformInput(tile t: Int, _ x: UnsafePointer<Float>, _ zeros: UnsafePointer<Float>,
                                into v: UnsafeMutablePointer<Float>, stride vStride: Int) {
        let g = geometry, cin = g.channels
        let (n, ty, tx) = tile(t)
        let (r0, c0) = (2 * ty - g.padBefore.h, 2 * tx - g.padBefore.w)
        func pixel(_ i: Int, _ j: Int) -> UnsafePointer<Float> {
            let (r, c) = (r0 + i, c0 + j)
            guard r >= 0, r < g.input.h, c >= 0, c < g.input.w else { return zeros }
            return x + ((n * g.input.h + r) * g.input.w + c) * cin
        }
        let (d00, d01, d02, d03) = (pixel(0, 0), pixel(0, 1), pixel(0, 2), pixel(0, 3))
        let (d10, d11, d12, d13) = (pixel(1, 0), pixel(1, 1), pixel(1, 2), pixel(1, 3))
        let (d20, d21, d22, d23) = (pixel(2, 0), pixel(2, 1), pixel(2, 2), pixel(2, 3))
        let (d30, d31, d32, d33) = (pixel(3, 0), pixel(3, 1), pixel(3, 2), pixel(3, 3))
        for c in stride(from: 0, to: cin, by: 8) {
            let lanes = Swift.min(8, cin - c)
            func at(_ p: UnsafePointer<Float>) -> SIMD8<Float> { .load(p + c, lanes: lanes) }
            // Bᵀ d by columns, then each row of it times B.
            let e0 = inputTransform(at(d00), at(d10), at(d20), at(d30))
            let e1 = inputTransform(at(d01), at(d11), at(d21), at(d31))
            let e2 = inputTransform(at(d02), at(d12), at(d22), at(d32))
            let e3 = inputTransform(at(d03), at(d13), at(d23), at(d33))
            store((inputTransform(e0.0, e1.0, e2.0, e3.0), inputTransform(e0.1, e1.1, e2.1, e3.1),
                   inputTransform(e0.2, e1.2, e2.2, e3.2), inputTransform(e0.3, e1.3, e2.3, e3.3)),
                  to: v + c, stride: vStride, lanes: lanes)
        }
    }

    /// Writes Aᵀ M A for tile `t`, M being the 16 product rows `stride` apart
    /// from `m`, into the output pixels of the tile, then runs the epilogue on them.
    @inline(__always)
    private func transformOutput(tile t: Int, from m: UnsafePointer<Float>, stride mStride: Int,
                                 _ y: UnsafeMutablePointer<Float>, discard: UnsafeMutablePointer<Float>,
                                 _ epilogue: BoundEpilogue?) {
        let (oh, ow, cout) = (geometry.output.h, geometry.output.w, outChannels)
        let (n, ty, tx) = tile(t)
        let (rows, columns) = (Swift.min(2, oh - 2 * ty), Swift.min(2, ow - 2 * tx))
        let first = (n * oh + 2 * ty) * ow + 2 * tx
        let y00 = y + first * cout
        let y01 = columns > 1 ? y00 + cout : discard
        let y10 = rows > 1 ? y00 + ow * cout : discard
        let y11 = rows > 1 && columns > 1 ? y00 + (ow + 1) * cout : discard
        for o in stride(from: 0, to: cout, by: 8) {
            let lanes = Swift.min(8, cout - o)
            func at(_ k: Int) -> SIMD8<Float> { .load(m + k * mStride + o, lanes: lanes) }
            // Aᵀ m by columns, then each row of it times A.
            let t0 = outputTransform(at(0), at(4), at(8), at(12))
            let t1 = outputTransform(at(1), at(5), at(9), at(13))
            let t2 = outputTransform(at(2), at(6), at(10), at(14))
            let t3 = outputTransform(at(3), at(7), at(11), at(15))
            let top = outputTransform(t0.0, t1.0, t2.0, t3.0), bottom = outputTransform(t0.1, t1.1, t2.1, t3.1)
            top.0.store(to: y00 + o, lanes: lanes)
            top.1.store(to: y01 + o, lanes: lanes)
            bottom.0.store(to: y10 + o, lanes: lanes)
            bottom.1.store(to: y11 + o, lanes: lanes)
        }
        if let epilogue {
            for i in 0..<rows { epilogue.apply(y, rows: (first + i * ow)..<(first + i * ow + columns)) }
        }
    }
}

/// Four vectors.
private typealias Row = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// Stores a 4×4 tile of vectors in row-major order, the 16 vectors `stride` apart.
@inline(__always)
private func store(_ rows: (Row, Row, Row, Row), to p: UnsafeMutablePointer<Float>, stride: Int, lanes: Int) {
    func row(_ r: Row, _ i: Int) {
        r.0.store(to: p + (4 * i) * stride, lanes: lanes)
        r.1.store(to: p + (4 * i + 1) * stride, lanes: lanes)
        r.2.store(to: p + (4 * i + 2) * stride, lanes: lanes)
        r.3.store(to: p + (4 * i + 3) * stride, lanes: lanes)
    }
    row(rows.0, 0)
    row(rows.1, 1)
    row(rows.2, 2)
    row(rows.3, 3)
}

/// `G (a, b, c)` with G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
@inline(__always)
private func filterTransform(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> Row {
    (a, (a + b + c) * 0.5, (a - b + c) * 0.5, c)
}

/// `Bᵀ (a, b, c, d)` with Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
@inline(__always)
private func inputTransform(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) -> Row {
    (a - c, b + c, c - b, b - d)
}

/// `Aᵀ (a, b, c, d)` with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
@inline(__always)
private func outputTransform(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>)
    -> (SIMD8<Float>, SIMD8<Float>) {
    (a + b + c, b - c - d)
}

/// The Winograd transform of one convolution kernel, kept by the layer that
/// owns the kernel so inference does not redo it while the kernel is unchanged.
public final class WinogradKernelCache: @unchecked Sendable {
    private var version = -1
    private var values: [Float] = []
    private let lock = NSLock()

    public init() {}

    /// The values for `version`, made by `transform` when they are missing or older.
    func transformed(version: Int, count: Int, _ transform: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        lock.lock()
        defer { lock.unlock() }
        if self.version != version || values.count != count {
            values = [Float](unsafeUninitializedCapacity: count) { u, done in
                transform(u.baseAddress!)
                done = count
            }
            self.version = version
        }
        return values
    }
}
