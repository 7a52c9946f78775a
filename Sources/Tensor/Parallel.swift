import CBLAS
import Foundation

/// Splits `0..<count` into contiguous chunks and runs them on all cores when
/// the work is large enough to pay for the dispatch; inline otherwise.
///
/// Up to four chunks per core are handed out to the cores as they come free,
/// so a core slowed by another process takes fewer of them. Each index is in
/// exactly one chunk, so results do not depend on the split.
@inline(__always)
public func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let chunks = min(4 * Parallelism.cores, count / max(grain, 1))
    if chunks <= 1 || Parallelism.cores == 1 {
        body(0..<count)
        return
    }
    Parallelism.perform(iterations: chunks) { c in
        let start = c * count / chunks, end = (c + 1) * count / chunks
        if start < end { body(start..<end) }
    }
}

/// The number of worker threads the kernels use.
public enum Parallelism {
    /// Active processor count, read once.
    public static let cores: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(0)`, …, `body(iterations - 1)` on all cores and returns
    /// when all have finished (`DispatchQueue.concurrentPerform` on the
    /// kernels' own ``WorkerPool``).
    @inline(__always)
    public static func perform(iterations: Int, _ body: (Int) -> Void) {
        WorkerPool.shared.perform(iterations: iterations, body)
    }

    /// Runs `body` with OpenBLAS's own threading on `threads` cores, for a
    /// baseline of plain `cblas_sgemm` (the kernels run it single-threaded).
    public static func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        Runtime.setUp()
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        return try body()
    }
}
