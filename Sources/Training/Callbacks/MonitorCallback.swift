import Foundation
import Layers

/// A callback that watches one logged value (`keras.callbacks.MonitorCallback`):
/// the base of EarlyStopping, ReduceLROnPlateau and ModelCheckpoint.
open class MonitorCallback: Callback {
    /// Which way the monitored value improves.
    public enum Mode: String, Sendable {
        /// Lower for `loss`, else the metric's own direction (higher for accuracy and AUC).
        case auto
        case min
        case max
    }

    /// The log key watched, e.g. `val_loss`.
    public let monitor: String
    public let mode: Mode
    /// The best value so far.
    public internal(set) var best: Double?
    private let minDeltaMagnitude: Double
    private var lowerIsBetter: Bool?

    public init(monitor: String, mode: Mode, minDelta: Double = 0, initialBest: Double? = nil) {
        self.monitor = monitor
        self.mode = mode
        self.minDeltaMagnitude = Swift.abs(minDelta)
        self.best = initialBest
    }

    /// Decides (once) whether lower values are better, as Keras's `_set_monitor_op`.
    func resolveDirection() throws -> Bool {
        if let lowerIsBetter { return lowerIsBetter }
        let lower: Bool
        switch mode {
        case .min: lower = true
        case .max: lower = false
        case .auto:
            let name = monitor.hasPrefix("val_") ? String(monitor.dropFirst(4)) : monitor
            if let direction = model?.trainingState?.metricDirections[name] {
                lower = direction == .down
            } else if name == "loss" || name.hasSuffix("_loss") {
                lower = true
            } else {
                throw TrainingError.badConfig("\(Self.self) received monitor=\(monitor), but cannot tell whether it should be "
                                              + "maximized or minimized; pass mode: .max or mode: .min")
            }
        }
        lowerIsBetter = lower
        return lower
    }

    /// Whether `value` beats `reference` by more than `minDelta`, compared in
    /// `float32` as Keras's `ops.less`/`ops.greater` do.
    func isImprovement(_ value: Double, over reference: Double?) throws -> Bool {
        guard let reference else { return true }
        if try resolveDirection() {
            return Float(value + minDeltaMagnitude) < Float(reference)
        }
        return Float(value - minDeltaMagnitude) > Float(reference)
    }

    /// The monitored value, or nil (with a warning naming the available keys).
    func monitoredValue(_ logs: Logs, purpose: String) -> Double? {
        if let v = logs[monitor] { return v }
        warn("\(purpose) conditioned on metric `\(monitor)` which is not available. Available metrics are: \(logs.keys.sorted().joined(separator: ","))")
        return nil
    }
}

/// Prints a callback's message to standard output, as Keras's `print_msg`.
func printMessage(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints a warning to standard error.
func warn(_ text: String) {
    FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8))
}
