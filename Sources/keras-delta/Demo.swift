import Foundation
import KerasIO
import Layers
import Tensor
import Training
import Video

/// The end-to-end job on the embedded default: the bundled Keras model
/// (`models/frame_cnn.h5`) is loaded, trained in Swift on the synthetic action
/// set (appearance mode, frames as batch), evaluated before and after, and
/// exported as `.h5` and `.keras`, which are loaded again and checked.
///
/// The delta steps (deltaize, refine for sparsity, report) join this job when
/// the Delta target lands.
public struct Demo {
    public var modelPath: String
    public var outputFolder: URL
    /// Fewer clips and one epoch.
    public var quick: Bool

    public init(modelPath: String = "models/frame_cnn.h5", outputFolder: URL = URL(fileURLWithPath: "out/demo"), quick: Bool = false) {
        self.modelPath = modelPath
        self.outputFolder = outputFolder
        self.quick = quick
    }

    public struct Report: Codable {
        public var trainClips: Int
        public var testClips: Int
        public var accuracyBefore: Double
        public var accuracyAfter: Double
        public var exported: [String]
        /// Largest |difference| between the trained model and each re-loaded export.
        public var reloadDeviation: Double
    }

    /// Frames as a batch `[N·T, H, W, 3]` in 0–255, with one label per frame.
    func frames(_ set: SyntheticActionSet, _ indices: Range<Int>) throws -> (Tensor, Tensor) {
        let batch = try ClipBatch(set.makeClips(Array(indices)), layout: .framesAsBatch, scaling: .raw)
        let perClip = set.configuration.frameCount
        let labels = batch.labels.flatMap { [Float](repeating: Float($0), count: perClip) }
        return (batch.clips, Tensor(shape: [labels.count], scalars: labels))
    }

    public func run(log: (String) -> Void = { print($0) }) throws -> Report {
        let loaded = try KerasModelFile.load(modelPath)
        let model = loaded.model
        guard let classes = model.outputShapes.first?.last.flatMap({ $0 }),
              let side = model.inputShapes.first?.dropFirst().first.flatMap({ $0 }) else {
            throw LayerError.shapeMismatch(layer: model.name, "the demo model needs a known input size and class count")
        }
        log("Loaded \(modelPath) (Keras \(loaded.kerasVersion)): \(model.countParams) parameters, \(classes) classes")

        let (trainCount, testCount) = quick ? (48, 24) : (720, 180)
        let set = try SyntheticActionSet(.init(mode: .appearance, classCount: classes, clipCount: trainCount + testCount,
                                               frameCount: 4, height: side, width: side, seed: 2021, maxDistractors: 0))
        let (xTrain, yTrain) = try frames(set, 0..<trainCount)
        let (xTest, yTest) = try frames(set, trainCount..<(trainCount + testCount))
        log("Synthetic appearance set: \(trainCount) training and \(testCount) test clips of 4 frames, \(side)×\(side)")

        if let config = loaded.trainingConfig?.objectValue {
            try model.compile(config: config)
        } else {
            try model.compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
        }
        func accuracy() throws -> Double {
            let p = try model.predict(x: xTest, batchSize: 64, verbose: 0)
            let predicted = try p.argmax(axis: -1).scalars
            return Double(zip(predicted, yTest.scalars).filter { $0 == $1 }.count) / Double(predicted.count)
        }
        let before = try accuracy()
        log(String(format: "Accuracy before training: %.1f %%", 100 * before))
        RandomState.seed(7)
        try model.fit(x: xTrain, y: yTrain, batchSize: 32, epochs: quick ? 1 : 10, shuffle: true, seed: 7, verbose: 2)
        let after = try accuracy()
        log(String(format: "Accuracy after training:  %.1f %%", 100 * after))

        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        let reference = try model.predict(x: xTest, batchSize: 64, verbose: 0)
        var exported: [String] = []
        var deviation = 0.0
        for name in ["frame_cnn_trained.h5", "frame_cnn_trained.keras"] {
            let path = outputFolder.appendingPathComponent(name).path
            try KerasModelFile.save(model, to: path, trainingConfig: model.compileConfig.map { .object($0) })
            let again = try KerasModelFile.load(path).model
            let y = try again.predict(x: xTest, batchSize: 64, verbose: 0)
            deviation = max(deviation, zip(y.scalars, reference.scalars).map { Double(abs($0 - $1)) }.max() ?? 0)
            exported.append(path)
            log("Exported \(path) and loaded it back")
        }
        log(String(format: "Largest difference after reloading: %.2g", deviation))
        return Report(trainClips: trainCount, testClips: testCount, accuracyBefore: before, accuracyAfter: after,
                      exported: exported, reloadDeviation: deviation)
    }
}
