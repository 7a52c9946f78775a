import Layers

/// Values reported to callbacks: metric names (`loss`, `val_accuracy`, …) to values.
public typealias Logs = [String: Double]

/// What `fit`, `evaluate` and `predict` tell callbacks before they start.
public struct CallbackParams: Sendable {
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    public var verbose: Int
    public var epochs: Int
    /// Batches per epoch (or per evaluation).
    public var steps: Int
}

/// A training hook (`keras.callbacks.Callback`). Every method does nothing by
/// default; errors thrown by a hook stop `fit` and reach its caller.
///
/// Epoch-end logs are `inout`: a callback may add entries (such as
/// `learning_rate`) that the callbacks after it see, as in Keras.
open class Callback {
    /// The model being trained, set by `fit`, `evaluate` and `predict`.
    public weak var model: Model?
    public internal(set) var params = CallbackParams(verbose: 0, epochs: 1, steps: 0)

    public init() {}

    open func onTrainBegin(logs: Logs) throws {}
    open func onTrainEnd(logs: Logs) throws {}
    open func onEpochBegin(_ epoch: Int, logs: Logs) throws {}
    open func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {}
    /// Called by the default ``onTrainBatchBegin(_:logs:)``.
    open func onBatchBegin(_ batch: Int, logs: Logs) throws {}
    /// Called by the default ``onTrainBatchEnd(_:logs:)``.
    open func onBatchEnd(_ batch: Int, logs: Logs) throws {}
    open func onTrainBatchBegin(_ batch: Int, logs: Logs) throws { try onBatchBegin(batch, logs: logs) }
    open func onTrainBatchEnd(_ batch: Int, logs: Logs) throws { try onBatchEnd(batch, logs: logs) }
    open func onTestBegin(logs: Logs) throws {}
    open func onTestEnd(logs: Logs) throws {}
    open func onTestBatchBegin(_ batch: Int, logs: Logs) throws {}
    open func onTestBatchEnd(_ batch: Int, logs: Logs) throws {}
    open func onPredictBegin(logs: Logs) throws {}
    open func onPredictEnd(logs: Logs) throws {}
    open func onPredictBatchBegin(_ batch: Int, logs: Logs) throws {}
    open func onPredictBatchEnd(_ batch: Int, logs: Logs) throws {}
}

/// The callbacks of one `fit`/`evaluate`/`predict` call, in order, with the
/// default History and progress bar appended as Keras's `CallbackList` does.
final class CallbackList {
    let callbacks: [Callback]
    let history: History?

    init(_ callbacks: [Callback], addHistory: Bool, addProgbar: Bool, model: Model, params: CallbackParams) {
        var list = callbacks
        var history = list.compactMap { $0 as? History }.first
        if history == nil && addHistory {
            history = History()
            list.append(history!)
        }
        if addProgbar && !list.contains(where: { $0 is ProgbarLogger }) { list.append(ProgbarLogger()) }
        self.callbacks = list
        self.history = history
        for c in list {
            c.model = model
            c.params = params
        }
    }

    func each(_ body: (Callback) throws -> Void) rethrows { for c in callbacks { try body(c) } }

    func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        for c in callbacks { try c.onEpochEnd(epoch, logs: &logs) }
    }
}
