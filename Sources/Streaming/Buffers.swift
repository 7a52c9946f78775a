/// Fixed-size scratch owned by one stream: no allocation while frames run.
final class FloatBuffer {
    let count: Int
    let p: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        self.count = count
        p = .allocate(capacity: Swift.max(count, 1))
        p.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { p.deallocate() }

    func zero() { p.update(repeating: 0, count: count) }
    func copy(from other: FloatBuffer) { p.update(from: other.p, count: count) }
    var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
}

/// A list of element indices with room for every element.
final class IndexList {
    let capacity: Int
    var count = 0
    let p: UnsafeMutablePointer<Int32>

    init(capacity: Int) {
        self.capacity = capacity
        p = .allocate(capacity: Swift.max(capacity, 1))
    }

    deinit { p.deallocate() }

    @inline(__always) func append(_ i: Int) { p[count] = Int32(truncatingIfNeeded: i); count += 1 }
}

/// Marks that clear in O(1): an element is marked when its stamp equals the current one.
final class Marks {
    let p: UnsafeMutablePointer<UInt32>
    let count: Int
    private(set) var current: UInt32 = 0

    init(_ count: Int) {
        self.count = count
        p = .allocate(capacity: Swift.max(count, 1))
        p.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { p.deallocate() }

    /// Starts a new set of marks.
    func clear() {
        if current == .max { p.update(repeating: 0, count: count); current = 0 }
        current += 1
    }

    /// Marks `i`; true when it was not marked yet.
    @inline(__always) func mark(_ i: Int) -> Bool {
        if p[i] == current { return false }
        p[i] = current
        return true
    }
}

/// One tensor of the graph during streaming: its current value (one frame)
/// and what changed in the latest frame.
final class Slot {
    /// The current value.
    let value: FloatBuffer
    /// The previous value at the indices in ``changed`` (undefined elsewhere):
    /// a consumer forms `Δ = new − old` in double precision, exactly.
    let previous: FloatBuffer
    /// Indices that changed in this frame (meaningless when ``all`` is set).
    let changed: IndexList
    /// Every element may have changed: consumers recompute from ``value``.
    var all = true

    init(_ count: Int) {
        value = FloatBuffer(count)
        previous = FloatBuffer(count)
        changed = IndexList(capacity: count)
    }

    var count: Int { value.count }

    /// Starts a frame with no change recorded.
    @inline(__always) func beginSparse() { all = false; changed.count = 0 }

    /// Sets element `i` to `v`, recording the change when it differs.
    @inline(__always) func set(_ i: Int, _ v: Float) {
        let old = value.p[i]
        if v != old {
            previous.p[i] = old
            value.p[i] = v
            changed.append(i)
        }
    }
}
