/// Errors of the delta tools: a bad argument (named) or bad data.
public enum DeltaError: Error, CustomStringConvertible, Equatable {
    /// A public argument has a value the operation cannot use.
    case badArgument(String, String)
    /// Input data does not fit the model or the operation.
    case badData(String)

    public var description: String {
        switch self {
        case .badArgument(let name, let m): return "argument '\(name)': \(m)"
        case .badData(let m): return m
        }
    }
}
