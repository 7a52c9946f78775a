import ArgumentParser
import Foundation
import KerasDelta

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Reproducible benchmarks (see BENCHMARKS.md).",
                                                    subcommands: [GemmBenchCommand.self])
}

struct GemmBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "GFLOP/s of matmul and conv2d forward/backward next to plain cblas_sgemm on the same GEMM.")

    @Option(help: "Also write the results as JSON to this file.") var json: String?
    @Option(help: "Timed repeats per measurement (the median is reported).") var repeats: Int = 5

    func run() throws {
        var bench = GemmBenchmark()
        bench.repeats = repeats
        let results = try bench.run { r in
            print("\(r.operation) \(r.shape): \(String(format: "%.1f", r.gflops)) GFLOP/s, sgemm \(String(format: "%.1f", r.sgemmGflops))")
        }
        print(GemmBenchmark.table(results))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).writeAtomically(to: URL(fileURLWithPath: json))
        }
    }
}
