import Foundation
import HDF5
import Layers
import ZIPFoundation

/// The Keras 3 `.keras` archive (KERAS_FORMATS §2.1): a zip holding exactly
/// `metadata.json`, `config.json` and `model.weights.h5`, stored uncompressed
/// in that order. Members are found by name.
enum KerasArchive {
    static let metadataMember = "metadata.json"
    static let configMember = "config.json"
    static let weightsMember = "model.weights.h5"
    /// The largest JSON member read into memory.
    static let jsonLimit: UInt64 = 256 << 20

    // MARK: Reading

    /// Reads the model, its weights and its `compile_config`.
    static func read(_ path: String) throws -> LoadedModel {
        let archive = try open(path)
        // Archives without metadata are taken as Keras 3's.
        let metadata = archive[metadataMember] == nil ? JSONValue.null : try json(archive, metadataMember)
        let version = metadata["keras_version"]?.stringValue ?? VersionSemantics.keras3Version
        let config = try json(archive, configMember)
        // Every weight is assigned from the file next, so none is initialized,
        // and the model cannot need more weight values than the weights file has bytes.
        let weightBytes = Int(exactly: try entry(archive, weightsMember).uncompressedSize) ?? Int.max
        let model = try RandomState.withPlaceholderWeights(maxValues: weightBytes) {
            try ModelConfigReader(keras2: !version.hasPrefix("3.")).makeModel(config, part: configMember)
        }
        let compile: JSONValue? = config["compile_config"].flatMap { $0.objectValue?.keys.isEmpty == false ? $0 : .none }
        try withWeights(archive) { file in
            try NativeWeights.read(into: model, from: file)
            // Keras restores the optimizer only when it compiles the model from the file.
            if let compile, let state = try OptimizerWeights.readNative(file, className: compile["optimizer"]?["class_name"]?.stringValue,
                                                                        origin: path + ": " + weightsMember + ":") {
                try model.attachOptimizerState(state)
            }
        }
        return LoadedModel(model: model, trainingConfig: compile, kerasVersion: version, format: .kerasArchive)
    }

    /// Loads the archive's weights into an existing model.
    static func readWeights(into model: Model, from path: String, skipMismatch: Bool) throws {
        try withWeights(try open(path)) { file in
            try NativeWeights.read(into: model, from: file, skipMismatch: skipMismatch)
            try NativeWeights.attachOptimizerState(from: file, to: model, origin: path + ": " + weightsMember + ":")
        }
    }

    private static func open(_ path: String) throws -> Archive {
        do { return try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw KerasIOError(file: path, "not a readable zip archive (\(error))")
        }
    }

    private static func entry(_ archive: Archive, _ name: String) throws -> Entry {
        guard let entry = archive[name] else { throw KerasIOError(part: name, "the archive has no member '\(name)'") }
        // Keras's `_reject_zip_bomb`: far larger than stored and than 4 GiB.
        if entry.uncompressedSize > 4 << 30 && entry.uncompressedSize / 100 > entry.compressedSize {
            throw KerasIOError(part: name, "declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) stored: refused")
        }
        return entry
    }

    private static func json(_ archive: Archive, _ name: String) throws -> JSONValue {
        let member = try entry(archive, name)
        guard member.uncompressedSize <= jsonLimit else {
            throw KerasIOError(part: name, "is \(member.uncompressedSize) bytes, more than a config can be (\(jsonLimit))")
        }
        var data = Data()
        do { _ = try archive.extract(member) { data.append($0) } } catch {
            throw KerasIOError(part: name, "cannot be read (\(error))")
        }
        do { return try JSONValue(parsing: String(decoding: data, as: UTF8.self)) } catch let e as JSONError {
            throw KerasIOError(part: name, "\(e)")
        }
    }

    /// Extracts `model.weights.h5` to a temporary file and calls `body` with it open.
    private static func withWeights(_ archive: Archive, _ body: (HDF5File) throws -> Void) throws {
        let member = try entry(archive, weightsMember)
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("keras-\(UUID().uuidString).weights.h5")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do { _ = try archive.extract(member, to: temporary) } catch {
            throw KerasIOError(part: weightsMember, "cannot be extracted (\(error))")
        }
        try KerasIOError.attributing(to: "", inner: weightsMember + ":") { try body(try HDF5File(path: temporary.path)) }
    }

    // MARK: Writing

    /// Writes `model` with a Keras 3 config, and `trainingConfig` (in either
    /// Keras form) as the `compile_config`.
    static func write(_ model: Model, to path: String, trainingConfig: JSONValue?) throws {
        try VersionSemantics.requireKeras3(model)
        var config = try ModelConfigWriter(style: .keras3).object(for: model)
        if let trainingConfig { config["compile_config"] = try TrainingConfig.compileConfig(trainingConfig) }
        let metadata: JSONValue = ["keras_version": .string(VersionSemantics.keras3Version), "date_saved": .string(dateSaved())]
        try AtomicWrite.write(to: path) { temporary in
            let weights = temporary + ".weights.h5"
            defer { try? FileManager.default.removeItem(atPath: weights) }
            try NativeWeights.write(model, to: try HDF5File(path: weights, mode: .create), withOptimizer: trainingConfig != nil)
            let archive = try Archive(url: URL(fileURLWithPath: temporary), accessMode: .create)
            for (name, text) in [(metadataMember, metadata.serialized()), (configMember, JSONValue.object(config).serialized())] {
                let data = Data(text.utf8)
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            try archive.addEntry(with: weightsMember, fileURL: URL(fileURLWithPath: weights), compressionMethod: .none)
        }
    }

    /// The time as Keras's `metadata.json` writes it (`%Y-%m-%d@%H:%M:%S`).
    private static func dateSaved() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        return formatter.string(from: Date())
    }
}
