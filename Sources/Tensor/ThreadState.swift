import Foundation

/// One value per thread, made on the thread's first access and released when
/// the thread ends (a `pthread_key_t`). For state that belongs to one call
/// chain (gradient recording, random draws, loader budgets), so that threads
/// working on different models never see each other's.
public final class ThreadLocal<Value: AnyObject>: @unchecked Sendable {
    // Sendable: `key` is written once in `init`; `make` is only called.
    private var key = pthread_key_t()
    private let make: @Sendable () -> Value

    public init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
        #if canImport(Glibc)
        pthread_key_create(&key) { pointer in pointer.map { Unmanaged<AnyObject>.fromOpaque($0).release() } }
        #else
        pthread_key_create(&key) { pointer in Unmanaged<AnyObject>.fromOpaque(pointer).release() }
        #endif
    }

    /// The calling thread's value.
    public var value: Value {
        if let pointer = pthread_getspecific(key) { return Unmanaged<Value>.fromOpaque(pointer).takeUnretainedValue() }
        let value = make()
        pthread_setspecific(key, Unmanaged.passRetained(value as AnyObject).toOpaque())
        return value
    }
}

/// A process-wide counter of unique, increasing ids, safe from any thread.
public final class IDCounter: @unchecked Sendable {
    // Sendable: `last` is only touched under `lock`.
    private let lock = NSLock()
    private var last = 0

    public init() {}

    /// The next id: 1, 2, 3, … across all threads.
    public func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        last += 1
        return last
    }
}

/// The gradient-recording state of one thread: its recording tapes
/// (innermost last) and its `withoutGradient` depth.
final class TapeThreadState {
    var recording: [GradientTape] = []
    var noGradientDepth = 0

    static let perThread = ThreadLocal { TapeThreadState() }
}

// Tensors are values: their storage is a copy-on-write array, their tape node
// and logits box are immutable once made, and a node's backward closure only
// reads tensors it captured. Two threads holding copies of one tensor copy
// before writing (the reference count is atomic), so handing a tensor to
// another thread or task is safe.
extension Tensor: @unchecked Sendable {}
