/// Errors from building, configuring and calling layers and models. Each
/// message names the layer (and the config key or weight) at fault.
public enum LayerError: Error, CustomStringConvertible, Equatable {
    /// A config key is missing or has the wrong type or value.
    case badConfig(layer: String, String)
    /// No Swift type is registered for a Keras class.
    case unknownLayer(layer: String, className: String)
    /// Inputs or weights have the wrong shape or count.
    case shapeMismatch(layer: String, String)
    /// The graph of a functional model is malformed.
    case invalidGraph(String)

    public var description: String {
        switch self {
        case .badConfig(let l, let m): return "layer '\(l)': \(m)"
        case .unknownLayer(let l, let c):
            return "layer '\(l)': unknown layer class '\(c)'; implement it as a Swift `Layer` subclass "
                + "and register it with `LayerRegistry.register(\"\(c)\", YourLayer.self)`"
        case .shapeMismatch(let l, let m): return "layer '\(l)': \(m)"
        case .invalidGraph(let m): return "invalid model graph: \(m)"
        }
    }
}
