import Foundation
import HDF5
import Layers

/// What kind of Keras file a path holds, decided by content, not extension.
public enum KerasFileFormat: Equatable, Sendable {
    /// `model.save("m.h5")` by Keras 2 or 3: `model_config` plus `model_weights`.
    case legacyModel
    /// Keras 2 `save_weights("w.h5")`: `layer_names` at the root.
    case legacyWeights
    /// Keras 3 `save_weights("w.weights.h5")`: `layers/…/vars/<i>`.
    case weightsH5
    /// Keras 3 `.keras` zip archive.
    case kerasArchive

    /// Detects the format of the file at `path`.
    public static func detect(_ path: String) throws -> KerasFileFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KerasIOError(file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let magic = (try? handle.read(upToCount: 8)) ?? Data()
        try? handle.close()
        if magic.starts(with: [0x50, 0x4B]) { return .kerasArchive }
        let file: HDF5File
        do { file = try HDF5File(path: path) } catch let e as HDF5Error {
            throw KerasIOError(file: path, "not a Keras file (neither a zip archive nor readable HDF5: \(e.message))")
        }
        if file.hasAttribute("model_config") { return .legacyModel }
        if file.hasAttribute("layer_names") || file.hasAttribute("layer_names0") || file.contains("model_weights") { return .legacyWeights }
        if file.contains("layers") || file.contains("vars") { return .weightsH5 }
        throw KerasIOError(file: path, "an HDF5 file without model_config, layer_names or layers/: not a Keras file")
    }
}

/// A model read from a Keras file, with what the file says about training.
public struct LoadedModel {
    public var model: Model
    /// The file's `training_config` / `compile_config`, for `compile`.
    public var trainingConfig: JSONValue?
    /// The Keras version that wrote the file ("1" when it does not say).
    public var kerasVersion: String
    public var format: KerasFileFormat
}

/// Reads and writes Keras model files.
public enum KerasModelFile {
    /// Loads a full model from a legacy `.h5` or a `.keras` archive.
    public static func load(_ path: String) throws -> LoadedModel {
        do {
            switch try KerasFileFormat.detect(path) {
            case .legacyModel: return try loadLegacy(path)
            case .kerasArchive: throw KerasIOError(file: path, ".keras archives are not supported yet")
            case .legacyWeights, .weightsH5:
                throw KerasIOError(file: path, "holds weights only; give the model architecture too (e.g. `convert --model`)")
            }
        } catch let e as KerasIOError {
            throw e.inFile(path)
        } catch let e as HDF5Error {
            throw KerasIOError(file: path, part: e.objectPath, e.message)
        } catch let e as LayerError {
            throw KerasIOError(file: path, "\(e)")
        } catch let e as JSONError {
            throw KerasIOError(file: path, part: "model_config", "\(e)")
        }
    }

    static func loadLegacy(_ path: String) throws -> LoadedModel {
        let file = try HDF5File(path: path)
        let version = file.hasAttribute("keras_version") ? try file.attribute("keras_version").readString() : "1"
        let keras2 = !version.hasPrefix("3.")
        let configText = try file.attribute("model_config").readString()
        let config: JSONValue
        do { config = try JSONValue(parsing: configText) } catch let e as JSONError {
            throw KerasIOError(file: path, part: "model_config", "\(e)")
        }
        let layer = try ModelConfigReader(keras2: keras2).makeLayer(config)
        guard let model = layer as? Model else {
            throw KerasIOError(file: path, part: "model_config", "the top-level object is a \(type(of: layer).className), not a model")
        }
        try LegacyWeights.loadByOrder(model, from: file)
        var training: JSONValue?
        if file.hasAttribute("training_config") {
            training = try? JSONValue(parsing: try file.attribute("training_config").readString())
        }
        return LoadedModel(model: model, trainingConfig: training, kerasVersion: version, format: .legacyModel)
    }
}
