import Foundation
import Layers

/// Saves the model during training (`keras.callbacks.ModelCheckpoint`). The
/// file format lives elsewhere: `saver` writes the model to a URL (and should
/// write a temporary file and rename it, so a crash never leaves half a file).
///
/// The path may hold Python-style placeholders filled from the epoch (1-based),
/// the batch and the logs: `"ckpt/model-{epoch:02d}-{val_loss:.2f}.keras"`.
public final class ModelCheckpoint: MonitorCallback {
    /// When to save.
    public enum SaveFrequency: Sendable {
        case epoch
        /// Every `n` training batches.
        case batches(Int)
    }

    public let filepath: String
    public let saver: (Model, URL) throws -> Void
    public let verbose: Int
    /// Save only when the monitored value improves.
    public let saveBestOnly: Bool
    public let saveWeightsOnly: Bool
    public let saveFrequency: SaveFrequency
    private var batchesSinceSave = 0
    private var lastBatchSeen: Int?
    private var currentEpoch = 0

    /// - Throws: when the extension does not fit the format (`.keras`/`.h5`,
    ///   or `.weights.h5` with `saveWeightsOnly`), as Keras checks.
    public init(filepath: String, saver: @escaping (Model, URL) throws -> Void, monitor: String = "val_loss",
                verbose: Int = 0, saveBestOnly: Bool = false, saveWeightsOnly: Bool = false, mode: Mode = .auto,
                saveFrequency: SaveFrequency = .epoch, initialValueThreshold: Double? = nil) throws {
        if saveWeightsOnly {
            guard filepath.hasSuffix(".weights.h5") else {
                throw TrainingError.badConfig("ModelCheckpoint: with saveWeightsOnly the filepath must end in `.weights.h5`, got \(filepath)")
            }
        } else {
            guard filepath.hasSuffix(".keras") || filepath.hasSuffix(".h5") else {
                throw TrainingError.badConfig("ModelCheckpoint: the filepath must end in `.keras` (Keras model format) or `.h5`, got \(filepath)")
            }
        }
        if case .batches(let n) = saveFrequency, n < 1 {
            throw TrainingError.badConfig("ModelCheckpoint: save frequency must be at least 1 batch")
        }
        self.filepath = filepath
        self.saver = saver
        self.verbose = verbose
        self.saveBestOnly = saveBestOnly
        self.saveWeightsOnly = saveWeightsOnly
        self.saveFrequency = saveFrequency
        super.init(monitor: monitor, mode: mode, initialBest: initialValueThreshold)
    }

    public override func onEpochBegin(_ epoch: Int, logs: Logs) throws { currentEpoch = epoch }

    public override func onTrainBatchEnd(_ batch: Int, logs: Logs) throws {
        guard case .batches(let every) = saveFrequency else { return }
        if let last = lastBatchSeen, batch > last { batchesSinceSave += batch - last } else { batchesSinceSave += batch + 1 }
        lastBatchSeen = batch
        if batchesSinceSave >= every {
            batchesSinceSave = 0
            try save(epoch: currentEpoch, batch: batch, logs: logs)
        }
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        if case .epoch = saveFrequency { try save(epoch: epoch, batch: nil, logs: logs) }
    }

    private func save(epoch: Int, batch: Int?, logs: Logs) throws {
        guard let model else { return }
        var values = logs
        values["epoch"] = Double(epoch + 1)
        if let batch, logs["batch"] == nil { values["batch"] = Double(batch + 1) }
        let path = try formatPlaceholders(filepath, values)
        if saveBestOnly {
            guard let current = logs[monitor] else {
                warn("Can save best model only with \(monitor) available.")
                return try write(model, path, epoch)
            }
            let bestText = best.map { String(format: "%.5f", $0) } ?? "None"
            guard try isImprovement(current, over: best) else {
                if verbose > 0 { printMessage("\nEpoch \(epoch + 1): \(monitor) did not improve from \(bestText)") }
                return
            }
            if verbose > 0 {
                printMessage("\nEpoch \(epoch + 1): \(monitor) improved from \(bestText) to \(String(format: "%.5f", current)), saving model to \(path)")
            }
            best = current
        } else if verbose > 0 {
            printMessage("\nEpoch \(epoch + 1): saving model to \(path)")
        }
        try write(model, path, epoch)
    }

    private func write(_ model: Model, _ path: String, _ epoch: Int) throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrainingError.badConfig("ModelCheckpoint: the filepath \(path) is an existing directory; give a file path")
        }
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try saver(model, url)
        if verbose > 0 { printMessage("\nEpoch \(epoch + 1): finished saving model to \(path)") }
    }
}

/// Fills Python `str.format` placeholders (`{name}`, `{name:02d}`, `{name:.3f}`,
/// `{name:.2e}`) from `values`; an unknown name throws, as Keras's KeyError.
func formatPlaceholders(_ template: String, _ values: [String: Double]) throws -> String {
    var out = ""
    var rest = Substring(template)
    while let open = rest.firstIndex(of: "{") {
        out += rest[..<open]
        guard let close = rest[open...].firstIndex(of: "}") else { break }
        let field = rest[rest.index(after: open)..<close]
        let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let key = String(parts[0]), spec = parts.count > 1 ? String(parts[1]) : ""
        guard let v = values[key] else {
            throw TrainingError.badConfig("failed to format the filepath \"\(template)\": no value named '\(key)'; "
                                          + "available: \(values.keys.sorted())")
        }
        if spec.hasSuffix("d") {
            out += String(format: "%\(spec.dropLast())d", Int(v))
        } else if spec.hasSuffix("f") || spec.hasSuffix("e") || spec.hasSuffix("g") {
            out += String(format: "%\(spec)", v)
        } else {
            out += v.rounded() == v && (key == "epoch" || key == "batch") ? String(Int(v)) : String(v)
        }
        rest = rest[rest.index(after: close)...]
    }
    return out + rest
}
