/// Multiplies the learning rate by `factor` when the monitored value has not
/// improved for `patience` epochs (`keras.callbacks.ReduceLROnPlateau`). Adds
/// `learning_rate` to the epoch logs.
public final class ReduceLROnPlateau: MonitorCallback {
    public let factor: Double
    public let patience: Int
    public let verbose: Int
    /// Epochs to wait after a reduction before counting again.
    public let cooldown: Int
    public let minLR: Double
    public private(set) var wait = 0
    public private(set) var cooldownCounter = 0

    public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, verbose: Int = 0,
                mode: Mode = .auto, minDelta: Double = 1e-4, cooldown: Int = 0, minLR: Double = 0) throws {
        guard factor < 1 else { throw TrainingError.invalidArgument("ReduceLROnPlateau: factor must be < 1, got \(factor)") }
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.minLR = minLR
        super.init(monitor: monitor, mode: mode, minDelta: minDelta)
    }

    public override func onTrainBegin(logs: Logs) throws {
        best = nil
        cooldownCounter = 0
        wait = 0
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        _ = try resolveDirection()
        guard let optimizer = model?.optimizer else { return }
        logs["learning_rate"] = Double(optimizer.currentLearningRate)
        guard let current = monitoredValue(logs, purpose: "Learning rate reduction") else { return }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            wait = 0
        }
        if try isImprovement(current, over: best) {
            best = current
            wait = 0
        } else if cooldownCounter <= 0 {
            wait += 1
            if wait >= patience {
                let old = Double(optimizer.currentLearningRate)
                if old > Double(Float(minLR)) {
                    let new = Swift.max(old * factor, minLR)
                    try optimizer.setLearningRate(Float(new))
                    if verbose > 0 { printMessage("\nEpoch \(epoch + 1): ReduceLROnPlateau reducing learning rate to \(new).") }
                    cooldownCounter = cooldown
                    wait = 0
                }
            }
        }
    }
}
