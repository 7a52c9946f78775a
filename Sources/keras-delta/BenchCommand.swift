import ArgumentParser
import Foundation
import KerasDelta

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Reproducible benchmarks (see BENCHMARKS.md).",
                                                    subcommands: [GemmBenchCommand.self, TrainBenchCommand.self, PredictBenchCommand.self, LoadBenchCommand.self,
                                                                  LoaderBenchCommand.self, DeltaBenchCommand.self, FusionBenchCommand.self,
                                                                  RefineBenchCommand.self, StreamBenchCommand.self])
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

/// Options shared by the whole-model benchmarks.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "The Keras model file to run (make bench writes .fixtures/bench/*.h5).") var model: String
    @Option(help: "Samples per step.") var batchSize: Int = 16
    @Option(help: "Timed steps.") var steps: Int = 20
    @Option(help: "Untimed steps before them.") var warmup: Int = 3
    @Option(help: "Also write the result as JSON to this file.") var json: String?
    @Flag(help: "Print time per layer class and per layer (the timed steps run with a hook around each node).") var profile = false
    @Option(help: "Layers listed by --profile.") var profileTop: Int = 20

    var profiler: ModelProfiler? { profile ? ModelProfiler() : nil }

    func report(_ result: ModelBenchmark.Result, profiler: ModelProfiler? = nil) throws {
        print(String(format: "%@: %.1f frames/s (%.1f ms/step)", result.workload, result.framesPerSecond, 1000 * result.secondsPerStep))
        if let profiler { print("\n" + profiler.table(steps: steps, secondsPerStep: result.secondsPerStep, top: profileTop)) }
        if let json {
            try JSONEncoder().encode(result).writeAtomically(to: URL(fileURLWithPath: json))
        }
    }

    var modelName: String { URL(fileURLWithPath: model).lastPathComponent }
}

struct TrainBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Training throughput (SGD) of a model, in frames/s.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let model = try KerasModelFile.load(options.model).model
        let profiler = options.profiler
        try options.report(try ModelBenchmark.train(model, name: options.modelName, batch: options.batchSize, steps: options.steps,
                                                       warmup: options.warmup,
                                                       profiler: profiler), profiler: profiler)
    }
}

struct PredictBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Inference throughput of a model, in frames/s.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let model = try KerasModelFile.load(options.model).model
        let profiler = options.profiler
        try options.report(try ModelBenchmark.predict(model, name: options.modelName, batch: options.batchSize, steps: options.steps,
                                                       warmup: options.warmup,
                                                       profiler: profiler), profiler: profiler)
    }
}

struct LoadBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Warm load time and peak memory of a model file, next to its weight bytes.")
    @Option(help: "The Keras model file to load.") var model: String
    @Option(help: "Timed warm loads after the first (the median is reported).") var repeats: Int = 5
    @Option(help: "Also write the result as JSON to this file.") var json: String?

    func run() throws {
        let r = try ModelBenchmark.load(model, repeats: repeats)
        let megabytes = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print(String(format: "%@: first %.3f s, warm %.3f s; weights %@, peak memory %@", r.workload, r.firstSeconds,
                     r.warmSeconds, megabytes(r.weightBytes), r.peakBytes.map { megabytes($0) + String(format: " (%.2fx the weights)", Double($0) / Double(r.weightBytes)) } ?? "unknown"))
        if let json { try JSONEncoder().encode(r).writeAtomically(to: URL(fileURLWithPath: json)) }
    }
}

struct LoaderBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader", abstract: "Frames/s of the clip loader next to frames/s a training step of the demo model consumes.")
    @Option(help: "The model whose training step is the consumer.") var model = "models/frame_cnn.h5"
    @Option(help: "Also write the result as JSON to this file.") var json: String?

    func run() throws {
        let r = try LoaderBenchmark.run(modelPath: model)
        print(String(format: "loader %.0f frames/s, training step %.0f frames/s: the loader runs %.1fx faster than training consumes",
                     r.loaderFramesPerSecond, r.trainFramesPerSecond, r.headroom))
        if let json { try JSONEncoder().encode(r).writeAtomically(to: URL(fileURLWithPath: json)) }
    }
}
