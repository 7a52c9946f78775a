import Foundation
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

    /// SGD training steps on one random batch (sparse categorical crossentropy), after 3 warm-up steps.
    public static func train(_ model: Model, name: String, batch: Int, steps: Int) throws -> Result {
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "sparse_categorical_crossentropy")
        let x = try inputs(model, batch: batch, seed: 1)
        let classes = model.outputShapes.first?.last.flatMap { $0 } ?? 1
        let y = Tensor(shape: [batch], scalars: (0..<batch).map { Float($0 % classes) })
        for _ in 0..<3 { _ = try model.trainOnBatch(x: x, y: y) }
        let start = Date()
        for _ in 0..<steps { _ = try model.trainOnBatch(x: x, y: y) }
        let seconds = Date().timeIntervalSince(start)
        return Result(workload: "train \(name) batch \(batch)", engine: "swift",
                      framesPerSecond: Double(batch * steps) / seconds, secondsPerStep: seconds / Double(steps))
    }

    /// Inference passes on one random batch, after 3 warm-up passes.
    public static func predict(_ model: Model, name: String, batch: Int, steps: Int) throws -> Result {
        let x = try inputs(model, batch: batch, seed: 2)
        for _ in 0..<3 { _ = try model.predictOnBatch([x]) }
        let start = Date()
        for _ in 0..<steps { _ = try model.predictOnBatch([x]) }
        let seconds = Date().timeIntervalSince(start)
        return Result(workload: "predict \(name) batch \(batch)", engine: "swift",
                      framesPerSecond: Double(batch * steps) / seconds, secondsPerStep: seconds / Double(steps))
    }
}
