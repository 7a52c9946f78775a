import Foundation

/// Prints Keras's progress bar during `fit`, `evaluate` and `predict`
/// (`keras.callbacks.ProgbarLogger`): `Epoch 1/3`, then the bar with the
/// running metrics. `fit` adds one when `verbose` is not 0. Validation inside
/// `fit` is silent.
public final class ProgbarLogger: Callback {
    private let output: (String) -> Void
    private let dynamic: Bool
    private var progbar: Progbar?
    private var seen = 0
    private var calledInFit = false

    /// - Parameters:
    ///   - output: where text goes; standard output by default.
    ///   - isTerminal: whether to redraw one line in place; by default, whether standard output is a terminal.
    public init(output: ((String) -> Void)? = nil, isTerminal: Bool? = nil) {
        self.output = output ?? { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        self.dynamic = isTerminal ?? (isatty(STDOUT_FILENO) != 0)
    }

    private var verbose: Int { params.verbose }

    private func startBar() {
        seen = 0
        progbar = Progbar(target: params.steps, verbose: verbose, dynamic: dynamic, output: output)
    }

    private func step(_ batch: Int, _ logs: Logs) {
        seen = batch + 1
        if verbose == 1 { progbar?.update(seen, values: logs.sorted { $0.key < $1.key }, finalize: false) }
    }

    private func finish(_ logs: Logs) {
        progbar?.update(params.steps, values: logs.sorted { $0.key < $1.key }, finalize: true)
    }

    public override func onTrainBegin(logs: Logs) throws { calledInFit = true }

    public override func onEpochBegin(_ epoch: Int, logs: Logs) throws {
        startBar()
        if verbose != 0 && params.epochs > 1 { output("Epoch \(epoch + 1)/\(params.epochs)\n") }
    }

    public override func onTrainBatchEnd(_ batch: Int, logs: Logs) throws { step(batch, logs) }
    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws { finish(logs) }

    public override func onTestBegin(logs: Logs) throws { if !calledInFit { startBar() } }
    public override func onTestBatchEnd(_ batch: Int, logs: Logs) throws { if !calledInFit { step(batch, logs) } }
    public override func onTestEnd(logs: Logs) throws { if !calledInFit { finish(logs) } }

    public override func onPredictBegin(logs: Logs) throws { startBar() }
    public override func onPredictBatchEnd(_ batch: Int, logs: Logs) throws { step(batch, [:]) }
    public override func onPredictEnd(logs: Logs) throws { finish([:]) }
}
