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
        // Eight spare slots: ``append(lanes:base:)`` stores eight indices at once.
        p = .allocate(capacity: capacity + 8)
    }

    deinit { p.deallocate() }

    @inline(__always) func append(_ i: Int) { p[count] = Int32(truncatingIfNeeded: i); count += 1 }

    func append(contentsOf other: IndexList) {
        (p + count).update(from: other.p, count: other.count)
        count += other.count
    }

    /// Whether the indices are in strictly increasing order (as most steps list their changes).
    var isIncreasing: Bool {
        var k = 1
        while k < count && p[k - 1] < p[k] { k += 1 }
        return k >= count
    }
}

/// A set of indices as bits: inserted in any order, visited in increasing order.
final class IndexBits {
    private let words: UnsafeMutablePointer<UInt64>
    private let wordCount: Int

    init(_ count: Int) {
        wordCount = (count + 63) / 64
        words = .allocate(capacity: Swift.max(wordCount, 1))
        words.initialize(repeating: 0, count: Swift.max(wordCount, 1))
    }

    deinit { words.deallocate() }

    @inline(__always) func insert(_ i: Int) { words[i &>> 6] |= 1 &<< UInt64(i & 63) }

    /// The number of indices in the set.
    var count: Int {
        var n = 0
        for w in 0..<wordCount { n &+= words[w].nonzeroBitCount }
        return n
    }

    /// Empties the set.
    func removeAll() { words.update(repeating: 0, count: wordCount) }

    /// Calls `body` on each index in increasing order and empties the set.
    @inline(__always) func removeAll(_ body: (Int) throws -> Void) rethrows {
        for w in 0..<wordCount where words[w] != 0 {
            var bits = words[w]
            words[w] = 0
            while bits != 0 {
                try body(w &* 64 &+ bits.trailingZeroBitCount)
                bits &= bits &- 1
            }
        }
    }
}

/// One tensor of the graph during streaming: its current value (one frame)
/// and what changed in the latest frame.
final class Slot {
    /// The current value.
    let value: FloatBuffer
    /// The previous value at the indices in ``changed`` (undefined elsewhere):
    /// a consumer forms `Δ = new − old`, rounded once.
    let previous: FloatBuffer
    /// Indices that changed in this frame (meaningless when ``all`` is set).
    let changed: IndexList
    /// Every element may have changed: consumers recompute from ``value``.
    var all = true
    /// The value was updated in this pass (false while a step over time
    /// waits for later frames, or between a clip's outputs): readers skip.
    var fresh = true

    init(_ count: Int) {
        value = FloatBuffer(count)
        previous = FloatBuffer(count)
        changed = IndexList(capacity: count)
    }

    var count: Int { value.count }

    /// Starts a frame with no change recorded.
    @inline(__always) func beginSparse() { all = false; changed.count = 0 }

    /// Sets element `i` to `v`, recording the change in ``changed`` when it differs.
    @inline(__always) func set(_ i: Int, _ v: Float) { set(i, v, recordingIn: changed) }

    /// Sets element `i` to `v`, recording the change in `changes` when it differs.
    /// (The list is not optional: `changes ?? changed` retains and releases it on every call.)
    @inline(__always) func set(_ i: Int, _ v: Float, recordingIn changes: IndexList) {
        let old = value.p[i]
        if v != old {
            previous.p[i] = old
            value.p[i] = v
            changes.append(i)
        }
    }
}

// MARK: - Vector helpers

typealias Float8 = SIMD8<Float>
typealias Double4 = SIMD4<Double>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
@inline(__always) func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self) }
@inline(__always) func load4(_ p: UnsafePointer<Double>) -> Double4 { UnsafeRawPointer(p).loadUnaligned(as: Double4.self) }
@inline(__always) func store4(_ v: Double4, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Double4.self) }

/// Bit `k` set where lane `k` of `m` is true.
@inline(__always) func laneBits(_ m: SIMDMask<SIMD8<Int32>>) -> UInt32 {
    // The lanes (0 or −1) narrowed to bytes; byte k keeps bit k, and the
    // multiply sums the eight bytes into the top one.
    let bytes = unsafeBitCast(SIMD8<Int8>(truncatingIfNeeded: unsafeBitCast(m, to: SIMD8<Int32>.self)), to: UInt64.self)
    return UInt32(truncatingIfNeeded: ((bytes & 0x8040_2010_0804_0201) &* 0x0101_0101_0101_0101) >> 56)
}

/// ``roundHalfEven(_:)`` on eight lanes, with the same float operations.
@inline(__always) func roundHalfEven(_ v: Float8) -> Float8 {
    let small = v.replacing(with: -v, where: v .< 0) .< Float8(repeating: 4_194_304)
    let r = (v + Float8(repeating: 12_582_912)) - Float8(repeating: 12_582_912)
    if all(small) { return r }
    return r.replacing(with: v.rounded(.toNearestOrEven), where: .!small)
}

/// `s · roundHalfEven(x / s)`: a delta layer's quantization, as the layer computes it.
@inline(__always) func quantize(_ x: Float8, _ s: Float8) -> Float8 { s * roundHalfEven(x / s) }
@inline(__always) func quantize(_ x: Float, _ s: Float) -> Float { s * roundHalfEven(x / s) }

/// `i / d` for `0 ≤ i < 2⁴⁸` by a multiply instead of a division.
struct FastDivider {
    let divisor: Int
    /// `⌊(2⁶⁴ − 1) / d⌋ + 1` (0 for `d = 1`): the quotient is the high word of `i · multiplier`.
    private let multiplier: UInt64

    init(_ d: Int) {
        precondition(d >= 1)
        divisor = d
        multiplier = d == 1 ? 0 : UInt64.max / UInt64(d) + 1
    }

    @inline(__always) func quotient(_ i: Int) -> Int {
        multiplier == 0 ? i : Int(truncatingIfNeeded: UInt64(truncatingIfNeeded: i).multipliedFullWidth(by: multiplier).high)
    }
}

/// For each 8-bit mask, the positions of its set bits in increasing order (then zeros).
private let setBitPositions: UnsafeMutablePointer<Int32> = {
    let table = UnsafeMutablePointer<Int32>.allocate(capacity: 256 * 8)
    table.initialize(repeating: 0, count: 256 * 8)
    for mask in 0..<256 {
        var k = 0
        for bit in 0..<8 where mask >> bit & 1 == 1 { table[mask * 8 + k] = Int32(bit); k += 1 }
    }
    return table
}()

extension IndexList {
    /// Appends `base + k` for every set bit `k` of the 8-bit `bits`, in
    /// increasing order, without a branch: eight indices are stored and the
    /// count advances by the number of set bits.
    @inline(__always) func append(lanes bits: UInt32, base: Int) {
        let lanes = UnsafeRawPointer(setBitPositions + Int(bits) &* 8).loadUnaligned(as: SIMD8<Int32>.self)
        UnsafeMutableRawPointer(p + count).storeBytes(of: lanes &+ SIMD8(repeating: Int32(truncatingIfNeeded: base)), as: SIMD8<Int32>.self)
        count &+= bits.nonzeroBitCount
    }
}

extension Slot {
    /// Sets every element to `src` (quantized to the steps `q` when given, as a
    /// delta layer quantizes), eight lanes at a time, recording those that change.
    func setAll(_ src: UnsafePointer<Float>, quantizedTo q: UnsafePointer<Float>?) {
        var i = 0
        while i + 8 <= count {
            let v = load8(src + i)
            set8(i, q.map { quantize(v, load8($0 + i)) } ?? v)
            i += 8
        }
        while i < count {
            set(i, q.map { quantize(src[i], $0[i]) } ?? src[i])
            i += 1
        }
    }

    /// Sets elements `i..<i+8` to `v`, recording those that differ in ``changed`` (each element at most once a frame).
    @inline(__always) func set8(_ i: Int, _ v: Float8) { set8(i, v, recordingIn: changed) }

    /// Sets elements `i..<i+8` to `v`, recording those that differ in `changes`.
    @inline(__always) func set8(_ i: Int, _ v: Float8, recordingIn changes: IndexList) {
        guard any(v .!= load8(value.p + i)) else { return }
        set8Unconditionally(i, v, recordingIn: changes)
    }

    /// ``set8(_:_:recordingIn:)`` without a branch: the stores happen even
    /// when no lane differs. Where changes come and go from one vector to the
    /// next (a linear step's epilogue), that costs less than the mispredicted branch.
    @inline(__always) func set8Unconditionally(_ i: Int, _ v: Float8, recordingIn changes: IndexList) {
        let old = load8(value.p + i)
        store8(old, previous.p + i)
        store8(v, value.p + i)
        changes.append(lanes: laneBits(v .!= old), base: i)
    }
}
