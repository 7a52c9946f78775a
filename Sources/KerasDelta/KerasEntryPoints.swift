import Foundation
import KerasIO
import Layers
import Training

/// Loads a Keras model file as `keras.models.load_model` does: legacy `.h5`
/// (Keras 2 or 3) or a `.keras` archive, compiled from its training config
/// when it has one.
///
/// ```swift
/// let model = try loadModel("models/frame_mobilenet.h5")
/// ```
public func loadModel(_ path: String, compile: Bool = true) throws -> Model {
    let loaded = try KerasModelFile.load(path)
    if compile, let config = loaded.trainingConfig?.objectValue { try loaded.model.compile(config: config) }
    return loaded.model
}

extension Model {
    /// Saves the model as `model.save(path)` does: `.keras`, or a legacy `.h5`
    /// both Keras 2 and 3 load, with the compile settings when compiled.
    public func save(_ path: String) throws {
        try KerasModelFile.save(self, to: path, trainingConfig: compileConfig.map { .object($0) })
    }

    /// Saves the weights only, as `model.save_weights(path)` (a Keras 3 `.weights.h5`).
    public func saveWeights(_ path: String) throws {
        guard path.hasSuffix(".weights.h5") else {
            throw KerasIOError(file: path, "weights files end in .weights.h5, as Keras 3 requires")
        }
        try KerasModelFile.save(self, to: path)
    }

    /// Loads weights saved by Keras or Swift (`.weights.h5`, a legacy `.h5`, or the weights of a `.keras`).
    public func loadWeights(_ path: String) throws {
        try KerasModelFile.loadWeights(into: self, from: path)
    }
}
