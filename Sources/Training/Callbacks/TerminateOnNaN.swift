/// Stops training when the running loss becomes NaN or infinite
/// (`keras.callbacks.TerminateOnNaN`); with `raiseError`, `fit` throws instead.
///
/// `fit` already refuses to apply a non-finite step and stops on its own; this
/// callback keeps Keras's behaviour for code that expects it.
public final class TerminateOnNaN: Callback {
    public let raiseError: Bool

    public init(raiseError: Bool = false) { self.raiseError = raiseError }

    public override func onBatchEnd(_ batch: Int, logs: Logs) throws {
        guard let loss = logs["loss"], !loss.isFinite else { return }
        if raiseError {
            throw TrainingError.nonFinite("NaN or Inf loss encountered at batch \(batch). Loss value: \(loss). Terminating training immediately.")
        }
        printMessage("Batch \(batch): Invalid loss, terminating training")
        model?.stopTraining = true
    }
}
