import Foundation
import HDF5
import Layers

/// The legacy full-model HDF5 file (`model.save("m.h5")`, KERAS_FORMATS §1):
/// root attributes `keras_version`, `backend`, `model_config`, optional
/// `training_config`, and the weights under `model_weights`.
enum LegacyModelFile {
    /// Reads the model, its weights and its training config.
    static func read(_ path: String) throws -> LoadedModel {
        let file = try HDF5File(path: path)
        let version = file.hasAttribute("keras_version") ? try file.attribute("keras_version").readString() : "1"
        let config = try json(file, "model_config")
        // Every weight is assigned from the file next, so none is initialized,
        // and the model cannot need more weight values than the file has bytes.
        let model = try RandomState.withPlaceholderWeights(maxValues: file.size.map { Int(clamping: $0) } ?? Int.max) {
            try ModelConfigReader(keras2: !version.hasPrefix("3.")).makeModel(config, part: "model_config")
        }
        try LegacyWeights.loadByOrder(model, from: file)
        // (`Optional.none`, not JSON null: JSONValue is nil-literal expressible.)
        let training: JSONValue? = file.hasAttribute("training_config") ? try json(file, "training_config") : .none
        // Keras restores the optimizer only when it compiles the model from the file.
        if training != nil, let state = try OptimizerWeights.readLegacy(file, trainingConfig: training, origin: path + ":") {
            try model.attachOptimizerState(state)
        }
        return LoadedModel(model: model, trainingConfig: training, kerasVersion: version, format: .legacyModel)
    }

    /// A JSON root attribute.
    private static func json(_ file: HDF5File, _ name: String) throws -> JSONValue {
        let text = try file.attribute(name).readString()
        do { return try JSONValue(parsing: text) } catch let e as JSONError {
            throw KerasIOError(part: name, "\(e)")
        }
    }

    /// Writes `model` with a Keras-2-style config that tf-keras and Keras 3
    /// both load, and `trainingConfig` (in either Keras form) when given.
    ///
    /// Optimizer state is not written: no `optimizer_weights` list continues
    /// in both versions. Keras 3 builds the optimizer for an empty variable
    /// list when it restores `.h5` optimizer weights, so its `fit` then fails
    /// ("Unknown variable", its own files included), and tf-keras compiles
    /// such a config into its legacy optimizers, whose slots are ordered
    /// differently. `.keras` files carry the state.
    static func write(_ model: Model, to path: String, trainingConfig: JSONValue?) throws {
        let version = VersionSemantics.legacyVersion(of: model)
        let config = try ModelConfigWriter(style: .legacy).modelConfig(model)
        try AtomicWrite.write(to: path) { temporary in
            let file = try HDF5File(path: temporary, mode: .create)
            try file.writeAttribute("keras_version", string: version, encoding: .utf8, form: .variableLength)
            try file.writeAttribute("backend", string: "tensorflow", encoding: .utf8, form: .variableLength)
            try file.writeAttribute("model_config", string: config.serialized(), encoding: .ascii, form: .variableLength)
            if let trainingConfig {
                try file.writeAttribute("training_config", string: TrainingConfig.legacy(trainingConfig).serialized(),
                                        encoding: .ascii, form: .variableLength)
            }
            try LegacyWeights.write(model, to: try file.createGroup("model_weights"), kerasVersion: version)
            try file.flush()
        }
    }
}
