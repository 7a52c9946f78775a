import CBLAS

/// Process-wide settings the kernels rely on, applied once, before the first
/// tensor is made.
enum Runtime {
    private static let applied: Void = {
        // The kernels split GEMMs across cores themselves (see `sgemm`);
        // OpenBLAS's own idle threads would spin and steal those cores.
        openblas_set_num_threads(1)
        #if os(Linux)
        // Every op returns a fresh buffer of up to a few MB. By default glibc
        // maps such blocks afresh and trims freed heap, so each activation
        // faults in new zeroed pages; keeping freed blocks for reuse halves
        // the page faults of a training step.
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 1024 << 20)
        // Blocks of 32 MB and more (the largest threshold glibc accepts) are
        // still mapped afresh unless the top of the heap holds them; growing
        // the heap 256 MB beyond each request keeps room there (ConvLSTM's
        // 32 MB input transforms at batch 16 faulted in 8,192 pages each;
        // with a 64 MB pad a 10-step ConvLSTM training run still faulted
        // 1.1 M pages, with 256 MB 0.14 M). Untouched pad is not resident.
        _ = mallopt(topPad, 256 << 20)
        #endif
    }()

    @inline(__always)
    static func setUp() { _ = applied }
}

#if os(Linux)
// glibc's <malloc.h>, which the Glibc module does not export.
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
private let topPad: Int32 = -2  // M_TOP_PAD
private let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
#endif
