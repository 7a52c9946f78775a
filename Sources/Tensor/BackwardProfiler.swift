import Dispatch

/// Times backward closures by the scope (a layer's name) that was current when
/// their operation was recorded, for `keras-delta bench train --profile`.
/// Off (both nil) by default; then recording is unchanged.
public enum BackwardProfiler {
    /// The scope that operations recorded from now on are attributed to.
    public nonisolated(unsafe) static var scope: String?
    /// Receives the scope and the seconds of each attributed backward closure.
    public nonisolated(unsafe) static var observer: ((String, Double) -> Void)?

    /// `backward`, timed when profiling is on and a scope is set.
    @inline(__always)
    static func wrap(_ backward: @escaping (Tensor) throws -> [Tensor?]) -> (Tensor) throws -> [Tensor?] {
        guard let observer, let scope else { return backward }
        return { g in
            let start = DispatchTime.now().uptimeNanoseconds
            defer { observer(scope, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
            return try backward(g)
        }
    }
}
