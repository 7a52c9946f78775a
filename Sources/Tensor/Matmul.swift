import CBLAS

/// Row-major single-precision GEMM through OpenBLAS:
/// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`.
///
/// OpenBLAS runs single-threaded (its idle threads spin and would steal the
/// cores from the other kernels); a large product is split into row or
/// column blocks of C, one per core, unless `parallel` is false (for callers
/// that already run on every core).
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        return
    }
    // One row or column of a product whose matrix operand is at least 256 kB
    // (smaller ones pack cheaply, and keep the results of a row independent
    // of how many rows share the call).
    if (m == 1 || n == 1) && Swift.max(m, n) * k >= 1 << 16 {
        return sgemv(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                     beta: beta, c: c, ldc: ldc, parallel: parallel)
    }
    func call(_ rows: Range<Int>, _ columns: Range<Int>) {
        let aStart = transA ? rows.lowerBound : rows.lowerBound * lda
        let bStart = transB ? columns.lowerBound * ldb : columns.lowerBound
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(rows.count), Int32(columns.count), Int32(k), alpha, a + aStart, Int32(lda),
                    b + bStart, Int32(ldb), beta, c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
    }
    // Blocks of at least 32 rows or columns and about 1 MFLOP each.
    let byRows = m >= n
    let extent = byRows ? m : n
    let workers = parallel ? Swift.min(Parallelism.cores, extent / 32, m * n * k / (1 << 19)) : 1
    guard workers > 1 else { return call(0..<m, 0..<n) }
    // Block edges on multiples of 16 keep OpenBLAS's micro-kernels full.
    let block = (extent / workers + 15) / 16 * 16
    Parallelism.perform(iterations: workers) { w in
        let part = Swift.min(extent, w * block)..<(w == workers - 1 ? extent : Swift.min(extent, (w + 1) * block))
        if part.isEmpty { return }
        if byRows { call(part, 0..<n) } else { call(0..<m, part) }
    }
}

/// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:parallel:)`` with
/// one row or one column of C, as a matrix-vector product (Dense at batch 1,
/// a one-unit output). OpenBLAS's GEMM packs the whole matrix operand first
/// and takes several times longer than its GEMV, which streams it once.
/// The outputs are split into one block per core when the matrix is large.
private func sgemv(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                   parallel: Bool) {
    // The matrix, the vector and where the outputs go: C's one row is
    // op(B)ᵀ · (A's row); C's one column is op(A) · (B's column).
    let row = m == 1
    let outputs = row ? n : m, incC = row ? 1 : ldc
    let matrix = row ? b : a, ld = row ? ldb : lda
    let vector = row ? a : b, incVector = row ? (transA ? lda : 1) : (transB ? 1 : ldb)
    // In row-major storage the matrix is [outputs, k] (no transpose) or [k, outputs].
    let outputsAreRows = row ? transB : !transA
    // OpenBLAS scales C by beta first; with beta 0 C may hold anything (NaN).
    if beta == 0 { for i in 0..<outputs { c[i * incC] = 0 } }
    func call(_ part: Range<Int>) {
        let start = outputsAreRows ? part.lowerBound * ld : part.lowerBound
        cblas_sgemv(CblasRowMajor, outputsAreRows ? CblasNoTrans : CblasTrans,
                    Int32(outputsAreRows ? part.count : k), Int32(outputsAreRows ? k : part.count), alpha,
                    matrix + start, Int32(ld), vector, Int32(incVector), beta,
                    c + part.lowerBound * incC, Int32(incC))
    }
    // Blocks of at least 64 outputs and 64 K multiply-adds.
    let workers = parallel ? Swift.min(Parallelism.cores, outputs / 64, outputs * k / (1 << 16)) : 1
    guard workers > 1 else { return call(0..<outputs) }
    let block = (outputs / workers + 15) / 16 * 16
    Parallelism.perform(iterations: workers) { w in
        let part = Swift.min(outputs, w * block)..<(w == workers - 1 ? outputs : Swift.min(outputs, (w + 1) * block))
        if !part.isEmpty { call(part) }
    }
}

extension Tensor {
    /// Matrix product over the last two axes, with batch axes broadcast
    /// (`tf.linalg.matmul` / `keras.ops.matmul`). A rank-1 operand is treated as
    /// a row (left) or column (right) vector and that axis is dropped.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
        if a.rank == 1 { return try matmul(a.expandingDims(at: 0), b, transposeB: transposeB).squeezed(axes: [-2]) }
        if b.rank == 1 { return try matmul(a, b.expandingDims(at: 1), transposeA: transposeA).squeezed(axes: [-1]) }
        guard a.rank >= 2, b.rank >= 2 else {
            throw TensorError.shapeMismatch("matmul: operands of shape \(a.shape) and \(b.shape) need rank ≥ 1")
        }
        let (ar, br) = (a.rank, b.rank)
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        guard k == kb else {
            throw TensorError.shapeMismatch("matmul: inner dimensions differ for shapes \(a.shape) and \(b.shape)"
                                            + (transposeA || transposeB ? " (transposeA: \(transposeA), transposeB: \(transposeB))" : ""))
        }
        // A rank-2 right operand shared by all leading axes (Dense on a rank-4
        // input): one GEMM over every row, forward and backward.
        if br == 2 && ar > 2 && !transposeA {
            let rows = try a.reshaped(to: [a.shape.dropLast().reduce(1, *), k])
            return try matmul(rows, b, transposeB: transposeB).reshaped(to: Array(a.shape.dropLast()) + [n])
        }
        let batch = try Broadcast.shape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
        let batchCount = batch.reduce(1, *)
        let aFull = try a.detached.broadcast(to: batch + Array(a.shape.suffix(2)))
        let bFull = try b.detached.broadcast(to: batch + Array(b.shape.suffix(2)))
        // A right operand shared by every batch entry folds the batch into M.
        let foldBatch = b.rank == 2 && !transposeA
        var out = [Float](repeating: 0, count: batchCount * m * n)
        aFull.scalars.withUnsafeBufferPointer { pa in
            bFull.scalars.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    if foldBatch {
                        sgemm(transB: transposeB, m: batchCount * m, n: n, k: k, a: pa.baseAddress!, lda: k,
                              b: pb.baseAddress!, ldb: transposeB ? k : n, c: pc.baseAddress!, ldc: n)
                        return
                    }
                    for i in 0..<batchCount {
                        sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                              a: pa.baseAddress! + i * m * k, lda: transposeA ? m : k,
                              b: pb.baseAddress! + i * k * n, ldb: transposeB ? k : n,
                              c: pc.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
        let result = Tensor(shape: batch + [m, n], scalars: out)
        let (ad, bd) = (a.detached, b.detached)
        return record("matmul", result, [a, b]) { g in
            // d(AB)/dA = G·Bᵀ, d(AB)/dB = Aᵀ·G, adjusted for the transposes.
            let ga = transposeA ? try matmul(bd, g, transposeA: transposeB, transposeB: true)
                                : try matmul(g, bd, transposeB: !transposeB)
            let gb = transposeB ? try matmul(g, ad, transposeA: true, transposeB: transposeA)
                                : try matmul(ad, g, transposeA: !transposeA)
            return [try ga.unbroadcast(to: ad.shape), try gb.unbroadcast(to: bd.shape)]
        }
    }
}
