/// A named, mutable tensor that models train, like `tf.Variable`.
///
/// Reading ``value`` through ``read()`` inside ``GradientTape/record(_:)`` lets
/// the tape compute this variable's gradient.
public final class Variable {
    /// The variable's path-like name, e.g. `"dense/kernel"`.
    public var name: String
    /// Whether optimizers update it and tapes watch it.
    public var trainable: Bool
    /// The current value. Assigning a different shape is an error; see ``assign(_:)``.
    public private(set) var value: Tensor {
        didSet { version &+= 1 }
    }
    /// Changes whenever the value does: caches of values derived from it
    /// (a transformed kernel) compare it.
    public private(set) var version = 0

    public init(_ value: Tensor, name: String, trainable: Bool = true) {
        self.value = value.detached
        self.name = name
        self.trainable = trainable
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }

    /// The value, tracked by the innermost recording tape when trainable.
    public func read() -> Tensor {
        if trainable, GradientTape.noGradientDepth == 0,
           let tape = GradientTape.recording.last, tape.watchAccessedVariables {
            return tape.watched(self)
        }
        return value
    }

    /// Replaces the value, keeping the shape.
    public func assign(_ newValue: Tensor) throws {
        guard newValue.shape == value.shape else {
            throw TensorError.shapeMismatch("cannot assign a tensor of shape \(newValue.shape) to variable '\(name)' of shape \(value.shape)")
        }
        value = newValue.detached
    }

    /// Updates the elements in place, without copying when uniquely referenced.
    public func update(_ body: (inout [Float]) throws -> Void) rethrows {
        try body(&value.scalars)
    }
}
