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
        if file.contains("layers") || file.contains("vars") || file.contains("_layer_checkpoint_dependencies") { return .weightsH5 }
        throw KerasIOError(file: path, "an HDF5 file without model_config, layer_names or layers/: not a Keras file")
    }

    /// The format a file written to `path` gets, from its extension:
    /// `.keras`, `.weights.h5`, or `.h5`/`.hdf5` for a legacy full model.
    public static func forWriting(_ path: String) throws -> KerasFileFormat {
        let name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        if name.hasSuffix(".keras") { return .kerasArchive }
        if name.hasSuffix(".weights.h5") { return .weightsH5 }
        if name.hasSuffix(".h5") || name.hasSuffix(".hdf5") { return .legacyModel }
        throw KerasIOError(file: path, "unknown model file extension; use .h5, .hdf5, .keras or .weights.h5")
    }
}

/// A model read from a Keras file, with what the file says about training.
public struct LoadedModel {
    public var model: Model
    /// The file's `training_config` (legacy `.h5`) or `compile_config` (`.keras`), for `compile`.
    public var trainingConfig: JSONValue?
    /// The Keras version that wrote the file ("1" when it does not say).
    public var kerasVersion: String
    public var format: KerasFileFormat
}

/// Reads and writes Keras model files. Every error is a one-line
/// ``KerasIOError`` naming the file and the part of it at fault.
///
/// ```swift
/// let loaded = try KerasModelFile.load("model.h5")
/// try KerasModelFile.save(loaded.model, to: "model.keras", trainingConfig: loaded.trainingConfig)
/// ```
public enum KerasModelFile {
    /// Loads a full model from a legacy `.h5` or a `.keras` archive, whatever the extension.
    public static func load(_ path: String) throws -> LoadedModel {
        try KerasIOError.attributing(to: path) {
            switch try KerasFileFormat.detect(path) {
            case .legacyModel: return try LegacyModelFile.read(path)
            case .kerasArchive: return try KerasArchive.read(path)
            case .legacyWeights, .weightsH5:
                throw KerasIOError(file: path, "holds weights only; give the model architecture too (e.g. `convert --model`)")
            }
        }
    }

    /// Saves `model` in the format of `path`'s extension (see
    /// ``KerasFileFormat/forWriting(_:)``): a legacy `.h5` that tf-keras and
    /// Keras 3 both load, a `.keras` archive, or `.weights.h5` weights only.
    /// `trainingConfig`, a `training_config` or `compile_config`, is stored
    /// with full models, and with it the optimizer state once the optimizer
    /// is built (or as read from a file); `.weights.h5` always holds that state. The file is written to a temporary file in the same
    /// folder and renamed when complete, so a failure leaves no partial file
    /// and an existing file untouched.
    public static func save(_ model: Model, to path: String, trainingConfig: JSONValue? = nil) throws {
        // JSON null or an empty object means "not compiled", as in Keras's files.
        let trainingConfig = trainingConfig.flatMap { $0.objectValue?.keys.isEmpty == false ? $0 : .none }
        try KerasIOError.attributing(to: path) {
            switch try KerasFileFormat.forWriting(path) {
            case .kerasArchive: try KerasArchive.write(model, to: path, trainingConfig: trainingConfig)
            case .legacyModel: try LegacyModelFile.write(model, to: path, trainingConfig: trainingConfig)
            default:
                try AtomicWrite.write(to: path) { try NativeWeights.write(model, to: try HDF5File(path: $0, mode: .create)) }
            }
        }
    }

    /// Loads weights into an existing model from any Keras file that holds them:
    /// - a legacy `.h5` (Keras 2 `save_weights` or a full model), by position,
    ///   or with `byName` into the layers whose names match;
    /// - a Keras 3 `.weights.h5` or `.keras` archive, by Keras 3's layout.
    ///
    /// With `skipMismatch`, layers whose weight count or shapes differ keep
    /// their weights; otherwise the first mismatch throws. The optimizer
    /// state of a Keras 3 file goes to the model's compiled optimizer (built
    /// for the trainable weights if needed), or waits for `compile`.
    public static func loadWeights(into model: Model, from path: String, byName: Bool = false, skipMismatch: Bool = false) throws {
        try KerasIOError.attributing(to: path) {
            let format = try KerasFileFormat.detect(path)
            if byName && (format == .weightsH5 || format == .kerasArchive) {
                throw KerasIOError(file: path, "loading by name needs a legacy .h5 file; Keras 3 files are loaded by structure")
            }
            switch format {
            case .legacyModel, .legacyWeights:
                let file = try HDF5File(path: path)
                if byName {
                    try LegacyWeights.loadByName(model, from: file, skipMismatch: skipMismatch)
                } else {
                    try LegacyWeights.loadByOrder(model, from: file, skipMismatch: skipMismatch)
                }
            case .weightsH5:
                let file = try HDF5File(path: path)
                try NativeWeights.read(into: model, from: file, skipMismatch: skipMismatch)
                try NativeWeights.attachOptimizerState(from: file, to: model, origin: path + ":")
            case .kerasArchive: try KerasArchive.readWeights(into: model, from: path, skipMismatch: skipMismatch)
            }
        }
    }
}
