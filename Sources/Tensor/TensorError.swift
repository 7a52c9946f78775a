/// Errors raised by tensor operations and tensor I/O. Each carries a message
/// a person can act on.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// Operand shapes are incompatible for the operation named in the message.
    case shapeMismatch(String)
    /// A shape or argument is invalid on its own (negative size, bad axis, ...).
    case invalidShape(String)
    /// An argument value is invalid (unknown padding name, zero stride, ...).
    case invalidArgument(String)
    /// A file could not be read or written; the message names the file.
    case io(String)
    /// A file's contents are malformed; the message names the file and the part.
    case format(String)
    /// A gradient could not be computed (wrong shape, untracked target, ...).
    case gradient(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .invalidShape(let m): return "invalid shape: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .io(let m): return m
        case .format(let m): return m
        case .gradient(let m): return "gradient: \(m)"
        }
    }
}
