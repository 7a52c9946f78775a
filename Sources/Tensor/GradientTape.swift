/// One recorded operation: its output shape, its inputs, and how to turn the
/// gradient of its output into gradients of its inputs.
final class TapeNode {
    /// Monotonic creation index: a node's inputs always have smaller ids, so
    /// descending ids are a reverse topological order.
    let id: Int
    let op: String
    let shape: [Int]
    let inputs: [TapeNode?]
    /// Maps the output gradient to one gradient (or nil) per input; nil for leaves.
    let backward: ((Tensor) throws -> [Tensor?])?

    private static let ids = IDCounter()

    init(op: String, shape: [Int], inputs: [TapeNode?], backward: ((Tensor) throws -> [Tensor?])?) {
        self.id = TapeNode.ids.next()
        self.op = op
        self.shape = shape
        self.inputs = inputs
        self.backward = backward
    }
}

/// Records operations on watched tensors so that gradients can be computed,
/// in the manner of TensorFlow's `tf.GradientTape`.
///
/// ```swift
/// let tape = GradientTape()
/// let w = tape.watch(weights)
/// let loss = try (w * x).sum()
/// let (dw,) = try tape.gradient(of: loss, wrt: [w])
/// ```
/// Trainable ``Variable``s read inside ``record(_:)`` are watched automatically.
/// Tapes are used from one thread at a time; recording (``record(_:)``,
/// ``withoutGradient(_:)``) is per thread.
public final class GradientTape {
    /// Leaf nodes of the variables read while this tape was recording.
    private var variableNodes: [ObjectIdentifier: (Variable, TapeNode)] = [:]
    /// Whether trainable variables read while recording are watched.
    public let watchAccessedVariables: Bool

    /// The calling thread's recording tapes, innermost last.
    static var recording: [GradientTape] {
        get { TapeThreadState.perThread.value.recording }
        set { TapeThreadState.perThread.value.recording = newValue }
    }
    /// The calling thread's `withoutGradient` depth.
    static var noGradientDepth: Int {
        get { TapeThreadState.perThread.value.noGradientDepth }
        set { TapeThreadState.perThread.value.noGradientDepth = newValue }
    }

    /// Whether an enclosing ``withoutGradient(_:)`` turns recording off on this thread.
    public static var isDisabled: Bool { noGradientDepth > 0 }

    public init(watchAccessedVariables: Bool = true) {
        self.watchAccessedVariables = watchAccessedVariables
    }

    /// Runs `body` with this tape recording variable reads.
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        GradientTape.recording.append(self)
        defer { GradientTape.recording.removeLast() }
        return try body()
    }

    /// Returns `tensor` as a new leaf whose gradient can be requested.
    public func watch(_ tensor: Tensor) -> Tensor {
        var t = tensor
        t.node = TapeNode(op: "watch", shape: tensor.shape, inputs: [], backward: nil)
        return t
    }

    /// The tracked value of `variable` for this tape: the same leaf every time.
    func watched(_ variable: Variable) -> Tensor {
        let key = ObjectIdentifier(variable)
        var t = variable.value
        if let (_, node) = variableNodes[key] {
            t.node = node
        } else {
            let node = TapeNode(op: "variable \(variable.name)", shape: t.shape, inputs: [], backward: nil)
            variableNodes[key] = (variable, node)
            t.node = node
        }
        return t
    }

    /// Gradients of `target` with respect to each source; nil where a source
    /// does not influence the target. `outputGradient` defaults to ones.
    public func gradient(of target: Tensor, wrt sources: [Tensor], outputGradient: Tensor? = nil) throws -> [Tensor?] {
        let grads = try backpropagate(target, outputGradient, keeping: Set(sources.compactMap { $0.node?.id }))
        return sources.map { s in s.node.flatMap { grads[$0.id] } }
    }

    /// Gradients of `target` with respect to variables read while recording;
    /// nil for a variable the target does not depend on.
    public func gradient(of target: Tensor, wrt variables: [Variable], outputGradient: Tensor? = nil) throws -> [Tensor?] {
        let grads = try backpropagate(target, outputGradient, keeping: [])
        return variables.map { v in variableNodes[ObjectIdentifier(v)].flatMap { grads[$0.1.id] } }
    }

    private func backpropagate(_ target: Tensor, _ outputGradient: Tensor?, keeping: Set<Int>) throws -> [Int: Tensor] {
        guard let root = target.node else {
            throw TensorError.gradient("the target was not computed from any watched tensor or variable")
        }
        let seed = outputGradient ?? Tensor(repeating: 1, shape: target.shape)
        guard seed.shape == target.shape else {
            throw TensorError.gradient("output gradient shape \(seed.shape) differs from target shape \(target.shape)")
        }
        // Collect reachable nodes, then visit them newest first.
        var seen: Set<Int> = [root.id]
        var stack = [root]
        var order: [TapeNode] = []
        while let n = stack.popLast() {
            order.append(n)
            for case let p? in n.inputs where !seen.contains(p.id) {
                seen.insert(p.id)
                stack.append(p)
            }
        }
        order.sort { $0.id > $1.id }

        var grads: [Int: Tensor] = [root.id: seed.detached]
        try withoutGradient {
            for node in order {
                guard let backward = node.backward, let g = grads[node.id] else { continue }
                let inputGrads = try backward(g)
                for (input, grad) in zip(node.inputs, inputGrads) {
                    guard let input, let grad else { continue }
                    guard grad.shape == input.shape else {
                        throw TensorError.gradient(
                            "\(node.op) produced a gradient of shape \(grad.shape) for an input of shape \(input.shape)")
                    }
                    if let existing = grads[input.id] {
                        grads[input.id] = try existing + grad
                    } else {
                        grads[input.id] = grad.detached
                    }
                }
                if node.id != root.id, !keeping.contains(node.id) { grads[node.id] = nil }
            }
        }
        return grads
    }
}

/// Runs `body` without recording any operation (TensorFlow's `tf.stop_gradient`
/// scope, PyTorch's `no_grad`).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    GradientTape.noGradientDepth += 1
    defer { GradientTape.noGradientDepth -= 1 }
    return try body()
}

extension Tensor {
    /// Attaches a tape node to `output` when any input is tracked and recording
    /// is on. `backward` maps the output gradient to one gradient per input.
    @inline(__always)
    static func record(_ op: String, _ output: Tensor, _ inputs: [Tensor],
                       _ backward: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        guard GradientTape.noGradientDepth == 0, inputs.contains(where: { $0.node != nil }) else { return output }
        var out = output
        out.node = TapeNode(op: op, shape: output.shape, inputs: inputs.map { $0.node },
                            backward: BackwardProfiler.wrap(backward))
        return out
    }

    /// Computes `forward` on the inputs and makes `backward` its gradient, like
    /// `tf.custom_gradient`. `backward` receives the output gradient and returns
    /// one gradient (or nil) per input, each of that input's shape.
    ///
    /// The delta layer uses this for its straight-through estimator.
    public static func customGradient(
        _ name: String, inputs: [Tensor],
        forward: ([Tensor]) throws -> Tensor,
        backward: @escaping (_ outputGradient: Tensor) throws -> [Tensor?]
    ) rethrows -> Tensor {
        let output = try withoutGradient { try forward(inputs.map { $0.detached }) }
        return record(name, output, inputs, backward)
    }
}
