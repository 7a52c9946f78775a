/// Sets the learning rate at the start of each epoch from
/// `schedule(epoch, currentRate)` (`keras.callbacks.LearningRateScheduler`).
/// Adds `learning_rate` to the epoch logs.
public final class LearningRateScheduler: Callback {
    public let schedule: (_ epoch: Int, _ learningRate: Float) throws -> Float
    public let verbose: Int

    public init(verbose: Int = 0, _ schedule: @escaping (_ epoch: Int, _ learningRate: Float) throws -> Float) {
        self.schedule = schedule
        self.verbose = verbose
    }

    public override func onEpochBegin(_ epoch: Int, logs: Logs) throws {
        guard let optimizer = model?.optimizer else { return }
        let rate = try schedule(epoch, optimizer.currentLearningRate)
        try optimizer.setLearningRate(rate)
        if verbose > 0 { printMessage("\nEpoch \(epoch + 1): LearningRateScheduler setting learning rate to \(Double(rate)).") }
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        if let optimizer = model?.optimizer { logs["learning_rate"] = Double(optimizer.currentLearningRate) }
    }
}
