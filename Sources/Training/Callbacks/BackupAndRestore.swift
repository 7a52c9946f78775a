import Foundation
import Layers

/// Saves the training state at the end of every epoch and, when `fit` starts
/// again with the same folder, continues from the last saved epoch
/// (`keras.callbacks.BackupAndRestore`).
///
/// The resumed run ends bit-identical to a run straight through: the
/// checkpoint (``TrainingCheckpoint``) holds the weights, the optimizer's
/// state, the random generators and the epoch, and data sources order their
/// batches by epoch. A NaN or infinite loss stops `fit` before the epoch ends,
/// so the file keeps the last good epoch; it is then never deleted.
///
/// ```swift
/// let backup = BackupAndRestore(backupDir: "run/backup", deleteCheckpoint: false)
/// try model.fit(source, epochs: 10, callbacks: [backup])   // stopped after epoch 4…
/// try model.fit(source, epochs: 10, callbacks: [backup])   // …runs epochs 5 to 10
/// ```
public final class BackupAndRestore: Callback {
    /// The folder holding the checkpoint.
    public let backupDir: URL
    /// Whether to delete the checkpoint when training ends normally (Keras's default).
    public let deleteCheckpoint: Bool
    /// The checkpoint file: `latest.checkpoint` in ``backupDir``.
    public var checkpointURL: URL { backupDir.appendingPathComponent("latest.checkpoint") }
    /// The epoch (1-based count of epochs done) of the last checkpoint this callback wrote or read.
    public private(set) var lastEpoch: Int?
    private var history: [String: [Double]] = [:]
    private var historyEpochs: [Int] = []

    public init(backupDir: String, deleteCheckpoint: Bool = true) {
        self.backupDir = URL(fileURLWithPath: backupDir)
        self.deleteCheckpoint = deleteCheckpoint
    }

    /// Called by `fit` before training: restores `model` from the checkpoint
    /// when there is one and returns it.
    func restore(into model: Model) throws -> TrainingCheckpoint? {
        history = [:]
        historyEpochs = []
        guard FileManager.default.fileExists(atPath: checkpointURL.path) else { return nil }
        let checkpoint = try TrainingCheckpoint(contentsOf: checkpointURL)
        try checkpoint.restore(into: model, origin: checkpointURL.path)
        history = checkpoint.history
        historyEpochs = checkpoint.historyEpochs
        lastEpoch = checkpoint.epoch
        return checkpoint
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        guard let model else { return }
        historyEpochs.append(epoch)
        for (k, v) in logs { history[k, default: []].append(v) }
        let checkpoint = try TrainingCheckpoint(model: model, epoch: epoch + 1, history: history, historyEpochs: historyEpochs)
        try checkpoint.write(to: checkpointURL)
        lastEpoch = epoch + 1
    }

    public override func onTrainEnd(logs: Logs) throws {
        guard deleteCheckpoint, model?.history?.stopReason == nil else { return }
        try? FileManager.default.removeItem(at: checkpointURL)
    }
}
