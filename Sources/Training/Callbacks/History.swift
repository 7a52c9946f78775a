/// Records the epoch-end logs of `fit` (`keras.callbacks.History`); `fit` returns it.
///
/// ```swift
/// let history = try model.fit(x: x, y: y, epochs: 3)
/// print(history.history["loss"]!)     // one value per epoch
/// ```
public final class History: Callback {
    /// Each log key's values, one per completed epoch.
    public internal(set) var history: [String: [Double]] = [:]
    /// The indices of the completed epochs.
    public internal(set) var epoch: [Int] = []
    /// Why training stopped early on a NaN or infinite loss, when it did.
    public internal(set) var stopReason: String?

    public override func onTrainBegin(logs: Logs) throws {
        epoch = []
        stopReason = nil
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        self.epoch.append(epoch)
        for (k, v) in logs { history[k, default: []].append(v) }
    }
}
