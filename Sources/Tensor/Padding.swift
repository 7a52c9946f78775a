/// How a sliding-window op (convolution, pooling) pads its input, with
/// TensorFlow's rules.
public enum Padding: String, Equatable, Sendable, CaseIterable {
    /// No padding: windows stay inside the input.
    case valid
    /// Output size `ceil(in / stride)`; the padding is split evenly with the
    /// odd pixel at the end, as TensorFlow does.
    case same
    /// 1-D convolutions only: `dilation · (kernel - 1)` zeros before the input
    /// and none after, so output `t` sees inputs up to `t` (Keras
    /// `Conv1D(padding="causal")`).
    case causal

    /// Parses a Keras padding string (`"valid"`, `"same"`, `"causal"`, any case).
    public init(keras name: String) throws {
        guard let padding = Padding(rawValue: name.lowercased()) else {
            throw TensorError.invalidArgument("unknown padding \"\(name)\": expected \"valid\", \"same\" or \"causal\"")
        }
        self = padding
    }

    /// The padding before the input and the output length along one axis, for
    /// an input of length `size` and a window spanning `window` positions (the
    /// dilated kernel extent) moved by `stride`. The output is 0 when a `valid`
    /// window does not fit.
    func amounts(size: Int, window: Int, stride: Int) -> (before: Int, output: Int) {
        switch self {
        case .valid:
            return (0, size >= window ? (size - window) / stride + 1 : 0)
        case .same:
            let output = (size + stride - 1) / stride
            let total = Swift.max((output - 1) * stride + window - size, 0)
            return (total / 2, output)
        case .causal:
            return (window - 1, (size + stride - 1) / stride)
        }
    }
}
