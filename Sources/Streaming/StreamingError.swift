/// Errors of compiling and running a streaming plan.
public enum StreamingError: Error, CustomStringConvertible, Equatable {
    /// A layer or layout the engine cannot stream.
    case unsupported(layer: String, String)
    /// A bad public argument, by name.
    case badArgument(String, String)

    public var description: String {
        switch self {
        case .unsupported(let layer, let what): return "streaming: layer '\(layer)' \(what)"
        case .badArgument(let name, let what): return "streaming: argument '\(name)' \(what)"
        }
    }
}
