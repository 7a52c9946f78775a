import CBLAS
import Delta
import Dispatch
import Foundation
import Tensor

/// `keras-delta bench gemm`: GFLOP/s of `Tensor.matmul` and of conv2d forward,
/// backward-data and backward-filter on typical CNN shapes, each next to plain
/// `cblas_sgemm` on the same-sized GEMM measured in the same run.
///
/// ```swift
/// let results = GemmBenchmark().run()
/// print(GemmBenchmark.table(results))
/// ```
public struct GemmBenchmark: Sendable {
    /// A conv2d shape: `[batch, size, size, inChannels]` convolved with a
    /// `kernel × kernel` kernel to `outChannels`, stride 1, `same` padding.
    public struct ConvShape: Codable, Sendable {
        public var batch: Int, size: Int, inChannels: Int, outChannels: Int, kernel: Int

        public init(batch: Int, size: Int, inChannels: Int, outChannels: Int, kernel: Int = 3) {
            (self.batch, self.size, self.inChannels, self.outChannels, self.kernel) =
                (batch, size, inChannels, outChannels, kernel)
        }

        var inputShape: [Int] { [batch, size, size, inChannels] }
        var kernelShape: [Int] { [kernel, kernel, inChannels, outChannels] }
        var outputShape: [Int] { [batch, size, size, outChannels] }
        /// GEMM rows (output pixels) and depth (patch length).
        var rows: Int { batch * size * size }
        var depth: Int { kernel * kernel * inChannels }
        var label: String { "\(batch)×\(size)×\(size)×\(inChannels) ⊛ \(kernel)×\(kernel)→\(outChannels)" }
    }

    /// One measured operation and its `cblas_sgemm` baseline.
    public struct Result: Codable, Sendable {
        /// `matmul`, `conv2d forward`, `conv2d backward data`, `conv2d backward filter`
        /// or `conv2d backward` (data + filter).
        public var operation: String
        /// The tensor shapes, e.g. `8×56×56×64 ⊛ 3×3→64`.
        public var shape: String
        /// The equivalent GEMM(s), e.g. `25088×64×576`  (M×N×K).
        public var gemm: String
        /// Floating-point operations of one run (2·M·N·K per GEMM).
        public var flops: Double
        /// Median seconds of the operation and of the plain `cblas_sgemm` call(s).
        public var seconds: Double
        public var sgemmSeconds: Double

        public var gflops: Double { flops / seconds / 1e9 }
        public var sgemmGflops: Double { flops / sgemmSeconds / 1e9 }
        /// The operation's speed as a fraction of plain `cblas_sgemm`'s.
        public var ratio: Double { sgemmSeconds / seconds }

        private enum CodingKeys: String, CodingKey {
            case operation, shape, gemm, flops, seconds, sgemmSeconds, gflops, sgemmGflops, ratio
        }

        public init(operation: String, shape: String, gemm: String, flops: Double, seconds: Double, sgemmSeconds: Double) {
            (self.operation, self.shape, self.gemm, self.flops, self.seconds, self.sgemmSeconds) =
                (operation, shape, gemm, flops, seconds, sgemmSeconds)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(operation: try c.decode(String.self, forKey: .operation),
                      shape: try c.decode(String.self, forKey: .shape),
                      gemm: try c.decode(String.self, forKey: .gemm),
                      flops: try c.decode(Double.self, forKey: .flops),
                      seconds: try c.decode(Double.self, forKey: .seconds),
                      sgemmSeconds: try c.decode(Double.self, forKey: .sgemmSeconds))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(operation, forKey: .operation)
            try c.encode(shape, forKey: .shape)
            try c.encode(gemm, forKey: .gemm)
            try c.encode(flops, forKey: .flops)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(sgemmSeconds, forKey: .sgemmSeconds)
            try c.encode(gflops, forKey: .gflops)
            try c.encode(sgemmGflops, forKey: .sgemmGflops)
            try c.encode(ratio, forKey: .ratio)
        }
    }

    /// Square matmul sizes (`n×n · n×n`).
    public var matmulSizes: [Int]
    public var convShapes: [ConvShape]
    /// Timed runs per measurement; the median is reported.
    public var repeats: Int

    /// The default set: 512 and 1024 matmuls, and 3×3 convolutions with 32–256
    /// channels at 14–56 px: about 15 s on two idle cores.
    public init(matmulSizes: [Int] = [512, 1024],
                convShapes: [ConvShape] = [
                    ConvShape(batch: 8, size: 56, inChannels: 32, outChannels: 32),
                    ConvShape(batch: 8, size: 56, inChannels: 64, outChannels: 64),
                    ConvShape(batch: 16, size: 28, inChannels: 64, outChannels: 128),
                    ConvShape(batch: 8, size: 28, inChannels: 128, outChannels: 128),
                    ConvShape(batch: 16, size: 14, inChannels: 128, outChannels: 256),
                    ConvShape(batch: 8, size: 14, inChannels: 256, outChannels: 256),
                ],
                repeats: Int = 7) {
        self.matmulSizes = matmulSizes
        self.convShapes = convShapes
        self.repeats = repeats
    }

    /// Runs every measurement, calling `progress` after each.
    public func run(progress: (Result) -> Void = { _ in }) throws -> [Result] {
        var results: [Result] = []
        func report(_ r: Result) {
            results.append(r)
            progress(r)
        }
        var generator = SeededGenerator(seed: 42)
        for n in matmulSizes {
            let a = Tensor.randomUniform([n, n], minval: -1, maxval: 1, generator: &generator)
            let b = Tensor.randomUniform([n, n], minval: -1, maxval: 1, generator: &generator)
            let gemm = PlainGemm(m: n, n: n, k: n)
            let (seconds, baseline) = try measure({ _ = try Tensor.matmul(a, b) }, against: gemm)
            report(Result(operation: "matmul", shape: "\(n)×\(n) · \(n)×\(n)", gemm: gemm.label, flops: gemm.flops,
                          seconds: seconds, sgemmSeconds: baseline))
        }
        for s in convShapes {
            let x = Tensor.randomUniform(s.inputShape, minval: -1, maxval: 1, generator: &generator)
            let w = Tensor.randomUniform(s.kernelShape, minval: -0.1, maxval: 0.1, generator: &generator)
            let dy = Tensor.randomUniform(s.outputShape, minval: -1, maxval: 1, generator: &generator)
            let forwardGemm = PlainGemm(m: s.rows, n: s.outChannels, k: s.depth)
            let dataGemm = PlainGemm(m: s.rows, n: s.depth, k: s.outChannels, transB: true)
            let filterGemm = PlainGemm(m: s.depth, n: s.outChannels, k: s.rows, transA: true)

            let (forward, forwardBaseline) = try measure({ _ = try Tensor.conv(x, w, padding: .same) },
                                                         against: forwardGemm)
            report(Result(operation: "conv2d forward", shape: s.label, gemm: forwardGemm.label,
                          flops: forwardGemm.flops, seconds: forward, sgemmSeconds: forwardBaseline))
            let (data, dataBaseline) = try measure({
                _ = try Tensor.convBackpropInput(dy, w, inputShape: s.inputShape, padding: .same)
            }, against: dataGemm)
            report(Result(operation: "conv2d backward data", shape: s.label, gemm: dataGemm.label,
                          flops: dataGemm.flops, seconds: data, sgemmSeconds: dataBaseline))
            let (filter, filterBaseline) = try measure({
                _ = try Tensor.convBackpropFilter(x, dy, kernelShape: s.kernelShape, padding: .same)
            }, against: filterGemm)
            report(Result(operation: "conv2d backward filter", shape: s.label, gemm: filterGemm.label,
                          flops: filterGemm.flops, seconds: filter, sgemmSeconds: filterBaseline))
            report(Result(operation: "conv2d backward", shape: s.label, gemm: "data + filter",
                          flops: dataGemm.flops + filterGemm.flops, seconds: data + filter,
                          sgemmSeconds: dataBaseline + filterBaseline))
        }
        return results
    }

    /// The results as an aligned text table.
    public static func table(_ results: [Result]) -> String {
        let header = ["operation", "shape", "GEMM M×N×K", "GFLOP/s", "sgemm GFLOP/s", "ratio"]
        let rows = results.map { r in
            [r.operation, r.shape, r.gemm, String(format: "%.1f", r.gflops), String(format: "%.1f", r.sgemmGflops),
             String(format: "%.0f %%", 100 * r.ratio)]
        }
        return String(renderTable([header] + rows, rightAligned: [3, 4, 5]).dropLast())
    }

    /// Median wall-clock seconds of `body` and of `baseline` over `repeats`
    /// interleaved runs after one warm-up of each, so both see the same load.
    /// After each baseline run OpenBLAS's threads spin for a while before they
    /// sleep; a pause keeps them from taking a core from the next run of `body`.
    private func measure(_ body: () throws -> Void, against baseline: PlainGemm) rethrows -> (Double, Double) {
        func seconds(_ f: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try f()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let pause = { Thread.sleep(forTimeInterval: 0.3) }
        try body()
        baseline.run()
        pause()
        var times: [Double] = [], baselineTimes: [Double] = []
        for _ in 0..<Swift.max(1, repeats) {
            times.append(try seconds(body))
            baselineTimes.append(seconds(baseline.run))
            pause()
        }
        return (times.sorted()[times.count / 2], baselineTimes.sorted()[baselineTimes.count / 2])
    }
}

/// A row-major `cblas_sgemm` call on preallocated operands: `C[m×n] = op(A)·op(B)`.
private final class PlainGemm {
    let m: Int, n: Int, k: Int, transA: Bool, transB: Bool
    private let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>

    init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false) {
        (self.m, self.n, self.k, self.transA, self.transB) = (m, n, k, transA, transB)
        a = .allocate(capacity: m * k)
        b = .allocate(capacity: k * n)
        c = .allocate(capacity: m * n)
        var generator = SeededGenerator(seed: UInt64(m * 31 + n * 7 + k))
        for i in 0..<(m * k) { a[i] = generator.nextUnitFloat() - 0.5 }
        for i in 0..<(k * n) { b[i] = generator.nextUnitFloat() - 0.5 }
        c.initialize(repeating: 0, count: m * n)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
    }

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    var label: String { "\(m)×\(n)×\(k)" + (transA ? " (Aᵀ)" : "") + (transB ? " (Bᵀ)" : "") }

    /// One call with OpenBLAS's own threading on all cores.
    func run() {
        Parallelism.withBLASThreads(Parallelism.cores) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), 1, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                        0, c, Int32(n))
        }
    }
}
