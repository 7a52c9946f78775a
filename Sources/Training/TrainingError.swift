/// Errors from compiling and training models. Each message names the object,
/// the config key or the argument at fault.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// An optimizer, loss, metric, schedule or callback config is wrong.
    case badConfig(String)
    /// `fit`, `evaluate` or `trainOnBatch` was called before `compile`.
    case notCompiled(String)
    /// Inputs, targets or weights do not fit the model or each other.
    case invalidData(String)
    /// A Keras feature this package does not implement.
    case unsupported(String)
    /// A loss or gradient became NaN or infinite.
    case nonFinite(String)
    /// A public API argument is out of range; the message names it.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .badConfig(let m): return "bad config: \(m)"
        case .notCompiled(let m): return "\(m): the model must be compiled first; call `compile(optimizer:loss:metrics:)`"
        case .invalidData(let m): return "invalid data: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .nonFinite(let m): return m
        case .invalidArgument(let m): return "invalid argument: \(m)"
        }
    }
}
