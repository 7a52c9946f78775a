import CBLAS
import Dispatch

/// Splits `0..<count` into contiguous chunks and runs them on all cores when
/// the work is large enough to pay for the dispatch; inline otherwise.
@inline(__always)
func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let workers = min(Parallelism.cores, count / max(grain, 1))
    if workers <= 1 {
        body(0..<count)
        return
    }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let start = w * chunk
        let end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// The number of worker threads the kernels use.
public enum Parallelism {
    /// Active processor count, read once.
    public static let cores: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` with OpenBLAS's own threading on `threads` cores, for a
    /// baseline of plain `cblas_sgemm` (the kernels run it single-threaded).
    public static func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        Runtime.setUp()
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        return try body()
    }
}

import Foundation
