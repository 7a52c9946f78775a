/// Receives a call before and after each node a ``Model`` or ``Sequential``
/// runs (a fused inference chain counts as its first node). Profilers use it:
/// see `keras-delta bench predict|train --profile`.
public protocol NodeObserving: AnyObject {
    func willRun(_ layer: Layer)
    func didRun(_ layer: Layer)
}

/// The process-wide node observer; nil (the default) costs one load per node.
public enum NodeObserver {
    public nonisolated(unsafe) static var current: NodeObserving?

    /// Runs `body`, one node's execution, between the observer's two calls.
    @inline(__always)
    static func run<R>(_ layer: Layer, _ body: () throws -> R) rethrows -> R {
        guard let observer = current else { return try body() }
        observer.willRun(layer)
        defer { observer.didRun(layer) }
        return try body()
    }
}
