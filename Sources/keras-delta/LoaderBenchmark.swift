import Foundation
import KerasIO
import Layers
import Tensor
import Training
import Video

/// Whether clip loading keeps up with training: frames/s the background
/// loader delivers (synthetic clips, augmentation, frames as batch) next to
/// frames/s one training step of the demo model consumes, in the same run.
public enum LoaderBenchmark {
    public struct Result: Codable, Sendable {
        public var loaderFramesPerSecond: Double
        public var trainFramesPerSecond: Double
        /// Loader over training: above 1 means the loader keeps up.
        public var headroom: Double
    }

    /// Measures `batches` batches of `clipsPerBatch` 4-frame clips at the model's input size.
    public static func run(modelPath: String = "models/frame_cnn.h5", batches: Int = 20, clipsPerBatch: Int = 8) throws -> Result {
        let model = try KerasModelFile.load(modelPath).model
        guard let side = model.inputShapes.first?.dropFirst().first.flatMap({ $0 }),
              let classes = model.outputShapes.first?.last.flatMap({ $0 }) else {
            throw LayerError.shapeMismatch(layer: model.name, "the loader benchmark needs a known input size and class count")
        }
        let set = try SyntheticActionSet(.init(mode: .appearance, classCount: classes, clipCount: batches * clipsPerBatch,
                                               frameCount: 4, height: side, width: side, seed: 1))
        let options = ClipLoader.Options(batchSize: clipsPerBatch, layout: .framesAsBatch, augmentation: .standard,
                                         shuffle: true, concurrentReads: true)
        var start = Date()
        let loader = try ClipLoader(dataset: set, options: options, seed: 1)
        var frames = 0
        var sample: ClipBatch?
        while let batch = try loader.next() {
            frames += batch.clips.shape[0]
            sample = sample ?? batch
        }
        let loaderRate = Double(frames) / Date().timeIntervalSince(start)

        guard let sample else { throw LayerError.shapeMismatch(layer: model.name, "the loader produced no batch") }
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "sparse_categorical_crossentropy")
        let labels = Tensor(shape: [sample.clips.shape[0]], scalars: sample.labels.flatMap { [Float](repeating: Float($0), count: 4) })
        _ = try model.trainOnBatch(x: sample.clips, y: labels)
        start = Date()
        for _ in 0..<batches { _ = try model.trainOnBatch(x: sample.clips, y: labels) }
        let trainRate = Double(batches * sample.clips.shape[0]) / Date().timeIntervalSince(start)
        return Result(loaderFramesPerSecond: loaderRate, trainFramesPerSecond: trainRate, headroom: loaderRate / trainRate)
    }
}
