import Tensor

/// Stops training when the monitored value stops improving
/// (`keras.callbacks.EarlyStopping`).
///
/// ```swift
/// let stop = EarlyStopping(monitor: "val_loss", patience: 3, restoreBestWeights: true)
/// try model.fit(x: x, y: y, epochs: 100, validationSplit: 0.2, callbacks: [stop])
/// ```
public final class EarlyStopping: MonitorCallback {
    /// Epochs without improvement before stopping.
    public let patience: Int
    public let verbose: Int
    /// A value the monitored quantity must beat before patience resets.
    public let baseline: Double?
    /// Whether to restore the weights of the best epoch when training ends.
    public let restoreBestWeights: Bool
    /// Epochs to wait before watching at all.
    public let startFromEpoch: Int
    /// Epochs since the last improvement.
    public private(set) var wait = 0
    /// The epoch at which training was stopped (0 if it was not).
    public private(set) var stoppedEpoch = 0
    /// The epoch with the best value.
    public private(set) var bestEpoch = 0
    private var bestWeights: [Tensor]?

    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, verbose: Int = 0,
                mode: Mode = .auto, baseline: Double? = nil, restoreBestWeights: Bool = false, startFromEpoch: Int = 0) {
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restoreBestWeights = restoreBestWeights
        self.startFromEpoch = startFromEpoch
        super.init(monitor: monitor, mode: mode, minDelta: minDelta)
    }

    public override func onTrainBegin(logs: Logs) throws {
        wait = 0
        stoppedEpoch = 0
        best = nil
        bestWeights = nil
        bestEpoch = 0
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        _ = try resolveDirection()
        guard let current = monitoredValue(logs, purpose: "Early stopping"), epoch >= startFromEpoch else { return }
        if restoreBestWeights && bestWeights == nil {
            bestWeights = model?.getWeights()
            bestEpoch = epoch
        }
        wait += 1
        if try isImprovement(current, over: best) {
            best = current
            bestEpoch = epoch
            if restoreBestWeights { bestWeights = model?.getWeights() }
            // Patience restarts only when the baseline is beaten too.
            if try baseline == nil || isImprovement(current, over: baseline) { wait = 0 }
            return
        }
        if wait >= patience && epoch > 0 {
            stoppedEpoch = epoch
            model?.stopTraining = true
        }
    }

    public override func onTrainEnd(logs: Logs) throws {
        if stoppedEpoch > 0 && verbose > 0 { printMessage("Epoch \(stoppedEpoch + 1): early stopping") }
        if restoreBestWeights, let bestWeights {
            if verbose > 0 { printMessage("Restoring model weights from the end of the best epoch: \(bestEpoch + 1).") }
            try model?.setWeights(bestWeights)
        }
    }
}
