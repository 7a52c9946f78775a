/// A dense, row-major array of `Float` with value semantics.
///
/// Storage is a Swift array, so copies are cheap and copy-on-write. A tensor
/// that takes part in a recorded computation also carries a tape node; see
/// ``GradientTape``.
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = try x * 2 + 1
/// ```
public struct Tensor {
    /// The extent of each axis; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major (C) order.
    public internal(set) var scalars: [Float]
    /// The node recording how this tensor was computed, when a tape is watching.
    var node: TapeNode?
    private var logits: LogitsBox?

    /// The input of the `softmax` or `sigmoid` that computed this tensor, as
    /// Keras keeps it (`_keras_logits`): crossentropy losses use it in place of
    /// the probabilities, which is exact where the probabilities underflow.
    /// Any other op's result has none.
    public internal(set) var kerasLogits: Tensor? {
        get { logits?.tensor }
        set { logits = newValue.map(LogitsBox.init) }
    }

    /// Creates a tensor from a shape and its elements in row-major order.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        Runtime.setUp()
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
        self.node = nil
    }

    /// Creates a tensor from a shape and its elements, or throws when they disagree.
    public init(validating shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape("negative dimension in \(shape)")
        }
        guard shape.reduce(1, *) == scalars.count else {
            throw TensorError.invalidShape("\(scalars.count) scalars do not fill shape \(shape)")
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// Creates a tensor of `shape` with every element equal to `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Creates a scalar tensor.
    public init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// Creates a tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Creates a tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }
    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(scalars.count == 1, "Tensor.scalar on a tensor of shape \(shape)")
        return scalars[0]
    }

    /// This tensor's value without its tape node: gradients do not flow through it.
    public var detached: Tensor {
        var t = self
        t.node = nil
        if let logits { t.kerasLogits = logits.tensor.detached }
        return t
    }

    /// Whether a watching tape records operations on this tensor.
    public var isTracked: Bool { node != nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(scalars.count > 8 ? ", …" : "")])"
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and elements (tape state is ignored).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.shape == b.shape && a.scalars == b.scalars
    }
}

/// Holds ``Tensor/kerasLogits`` (a struct cannot contain itself).
private final class LogitsBox {
    let tensor: Tensor
    init(_ tensor: Tensor) { self.tensor = tensor }
}
