import Foundation
import KerasIO
import Layers
import Tensor
import Training

/// Throughput of whole-model training and inference, for `keras-delta bench
/// train|predict`; `make bench` runs the same workloads in TensorFlow.
public enum ModelBenchmark {
    public struct Result: Codable, Sendable {
        public var workload: String
        public var engine: String
        public var framesPerSecond: Double
        public var secondsPerStep: Double

        enum CodingKeys: String, CodingKey {
            case workload, engine
            case framesPerSecond = "frames_per_second"
            case secondsPerStep = "seconds_per_step"
        }
    }

    /// Random inputs in [0, 1) of the model's input shape with `batch` samples.
    static func inputs(_ model: Model, batch: Int, seed: UInt64) throws -> Tensor {
        guard let shape = model.inputShapes.first, model.inputShapes.count == 1, !shape.dropFirst().contains(nil) else {
            throw LayerError.shapeMismatch(layer: model.name, "benchmarks need one input with a fully known shape")
        }
        var g = SeededGenerator(seed: seed)
        return Tensor.randomUniform([batch] + shape.dropFirst().map { $0! }, generator: &g)
    }

    /// SGD training steps on one random batch (sparse categorical crossentropy), after `warmup` steps.
    /// With a `profiler`, the timed steps run with it installed.
    public static func train(_ model: Model, name: String, batch: Int, steps: Int, warmup: Int = 3,
                             profiler: ModelProfiler? = nil) throws -> Result {
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "sparse_categorical_crossentropy")
        let x = try inputs(model, batch: batch, seed: 1)
        let classes = model.outputShapes.first?.last.flatMap { $0 } ?? 1
        let y = Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % classes) })
        for _ in 0..<warmup { _ = try model.trainOnBatch(x: x, y: y) }
        let start = Date()
        try timed(profiler) { for _ in 0..<steps { _ = try model.trainOnBatch(x: x, y: y) } }
        let seconds = Date().timeIntervalSince(start)
        return Result(workload: "train \(name) batch \(batch)", engine: "swift",
                      framesPerSecond: Double(batch * steps) / seconds, secondsPerStep: seconds / Double(steps))
    }

    private static func timed(_ profiler: ModelProfiler?, _ body: () throws -> Void) throws {
        if let profiler { try profiler.profiling(body) } else { try body() }
    }

    /// How fast a model file loads and how much memory loading takes.
    public struct LoadResult: Codable, Sendable {
        public var workload: String
        public var engine: String
        /// The first load in the process, and the median of the later ones.
        public var firstSeconds: Double
        public var warmSeconds: Double
        /// Bytes of all weights, and the peak resident memory the first load
        /// added to the process (nil where `/proc/self/status` is missing).
        public var weightBytes: Int
        public var peakBytes: Int?

        enum CodingKeys: String, CodingKey {
            case workload, engine
            case firstSeconds = "first_seconds"
            case warmSeconds = "warm_seconds"
            case weightBytes = "weight_bytes"
            case peakBytes = "peak_bytes"
        }
    }

    /// Loads the model file at `path` `repeats + 1` times: the first load
    /// gives the peak memory, the others the warm time.
    public static func load(_ path: String, repeats: Int) throws -> LoadResult {
        let baseline = ProcessMemory.current
        var start = Date()
        var weightBytes = try KerasModelFile.load(path).model.weights.reduce(0) { $0 + 4 * $1.value.count }
        let first = Date().timeIntervalSince(start)
        let peak = ProcessMemory.peak.flatMap { peak in baseline.map { peak - $0 } }
        var times: [Double] = []
        for _ in 0..<Swift.max(1, repeats) {
            start = Date()
            weightBytes = try KerasModelFile.load(path).model.weights.reduce(0) { $0 + 4 * $1.value.count }
            times.append(Date().timeIntervalSince(start))
        }
        return LoadResult(workload: "load \(URL(fileURLWithPath: path).lastPathComponent)", engine: "swift",
                          firstSeconds: first, warmSeconds: times.sorted()[times.count / 2],
                          weightBytes: weightBytes, peakBytes: peak)
    }

    /// Inference passes on one random batch, after `warmup` passes.
    /// With a `profiler`, the timed steps run with it installed.
    public static func predict(_ model: Model, name: String, batch: Int, steps: Int, warmup: Int = 3,
                               profiler: ModelProfiler? = nil) throws -> Result {
        let x = try inputs(model, batch: batch, seed: 2)
        for _ in 0..<warmup { _ = try model.predictOnBatch([x]) }
        let start = Date()
        try timed(profiler) { for _ in 0..<steps { _ = try model.predictOnBatch([x]) } }
        let seconds = Date().timeIntervalSince(start)
        return Result(workload: "predict \(name) batch \(batch)", engine: "swift",
                      framesPerSecond: Double(batch * steps) / seconds, secondsPerStep: seconds / Double(steps))
    }
}

/// This process's resident memory from `/proc/self/status` (Linux).
enum ProcessMemory {
    /// Resident bytes now.
    static var current: Int? { field("VmRSS:") }
    /// The most resident bytes so far.
    static var peak: Int? { field("VmHWM:") }

    private static func field(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kB = Int(line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) else {
            return nil
        }
        return kB * 1024
    }
}
