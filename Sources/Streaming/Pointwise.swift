import Layers
import Tensor

/// An element-wise function as the streaming steps apply it: on single
/// elements (the common rectifiers, with the float operations of the Tensor
/// kernels), or through the Tensor op on a gathered vector.
enum Pointwise {
    case identity
    /// `min(max(x, 0), cap)`, inlined in the loops.
    case relu(cap: Float)
    case scalar((Float) -> Float)
    /// Eight elements at a time, lane by lane as the Tensor op computes each (``Activation/lanes``).
    case lanes(LaneActivation)
    case tensor((Tensor) throws -> Tensor)

    /// The function of a Keras activation name, or nil for one that is not element-wise.
    init?(_ f: ActivationFunction) {
        switch f.function {
        case .linear: self = .identity
        case .relu: self = .relu(cap: .infinity)
        case .relu6: self = .relu(cap: 6)
        case .softmax, .logSoftmax, .glu, .sparsemax: return nil
        default:
            if let lanes = f.function.lanes { self = .lanes(lanes) } else { self = .tensor { try f($0) } }
        }
    }

    /// The function of an element-wise layer, or nil.
    init?(layer: Layer) {
        switch layer {
        case let l as ActivationLayer: self.init(l.activation)
        case let l as ReLU:
            if l.negativeSlope == 0, l.threshold == 0 {
                self = .relu(cap: l.maxValue.map { Float($0) } ?? .infinity)
            } else {
                self = .tensor { try l.call($0, training: false) }
            }
        case is LeakyReLU, is ELU, is ThresholdedReLU:
            self = .tensor { try layer([$0], training: false)[0] }
        case let l as Rescaling where l.scaleValue.doubleValue != nil && (l.offsetValue.doubleValue != nil || l.offsetValue.isNull):
            // The layer's `x * scale + offset`, one rounding per operation as the Tensor ops do.
            let scale = Float(l.scaleValue.doubleValue!), offset = Float(l.offsetValue.doubleValue ?? 0)
            self = .scalar { $0 * scale + offset }
        default: return nil
        }
    }

    /// Writes `f(src[i])` to `dst[i]` for every index in `indices`.
    func apply(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
               indices: UnsafeMutablePointer<Int32>, count: Int) throws {
        switch self {
        case .identity:
            for k in 0..<count { let i = Int(indices[k]); dst[i] = src[i] }
        case .relu(let cap):
            for k in 0..<count { let i = Int(indices[k]); dst[i] = Swift.min(Swift.max(src[i], 0), cap) }
        case .scalar(let f):
            for k in 0..<count { let i = Int(indices[k]); dst[i] = f(src[i]) }
        case .lanes(let f):
            var k = 0
            while k < count {
                let n = Swift.min(8, count - k)
                var v = Float8()
                for l in 0..<n { v[l] = src[Int(indices[k + l])] }
                v = f(v)
                for l in 0..<n { dst[Int(indices[k + l])] = v[l] }
                k += 8
            }
        case .tensor(let f):
            guard count > 0 else { return }
            var gathered = [Float](repeating: 0, count: count)
            for k in 0..<count { gathered[k] = src[Int(indices[k])] }
            let y = try f(Tensor(shape: [count], scalars: gathered))
            y.scalars.withUnsafeBufferPointer { ys in
                for k in 0..<count { dst[Int(indices[k])] = ys[k] }
            }
        }
    }

    /// Writes `f(src)` to `dst` for all `count` elements.
    func applyAll(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) throws {
        switch self {
        case .identity: if src != dst { dst.update(from: src, count: count) }
        case .relu(let cap): for i in 0..<count { dst[i] = Swift.min(Swift.max(src[i], 0), cap) }
        case .scalar(let f): for i in 0..<count { dst[i] = f(src[i]) }
        case .lanes(let f):
            var i = 0
            while i + 8 <= count { store8(f(load8(src + i)), dst + i); i += 8 }
            for i in i..<count { dst[i] = f(src[i]) }
        case .tensor(let f):
            let y = try f(Tensor(shape: [count], scalars: Array(UnsafeBufferPointer(start: src, count: count))))
            y.scalars.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: count) }
        }
    }

    var isIdentity: Bool { if case .identity = self { return true } else { return false } }

    /// The identity or a rectifier: what a temporal step's vector epilogue applies itself.
    var isClamp: Bool {
        switch self {
        case .identity, .relu: return true
        default: return false
        }
    }

    /// What a linear step's vector epilogue applies itself: a clamp, or a function on lanes.
    var fusesIntoEpilogue: Bool {
        if case .lanes = self { return true }
        return isClamp
    }

    /// The function on lanes, if it is one.
    var laneFunction: LaneActivation? {
        if case .lanes(let f) = self { return f }
        return nil
    }

    /// What a vector epilogue applies of this function (``fusesIntoEpilogue``), else the identity.
    var epilogue: Epilogue {
        switch self {
        case .relu(let cap): return .relu(cap: cap)
        case .lanes(let f): return .lanes(f)
        default: return .identity
        }
    }
}

/// A clamp or a function on lanes, as a vector epilogue applies it, with the
/// float operations of ``Pointwise/applyAll(_:_:count:)``. It holds no closure,
/// so a loop that copies it does no reference counting.
enum Epilogue {
    case identity
    case relu(cap: Float)
    case lanes(LaneActivation)

    @inline(__always) func callAsFunction(_ v: Float8) -> Float8 {
        switch self {
        case .identity: return v
        case .relu(let cap): return clampAndQuantize(v, (0, cap), clamps: true, nil)
        case .lanes(let f): return f(v)
        }
    }

    /// On one element, rounded as the lanes round it.
    @inline(__always) func callAsFunction(_ v: Float) -> Float {
        switch self {
        case .identity: return v
        case .relu(let cap): return Swift.min(Swift.max(v, 0), cap)
        case .lanes(let f): return f(v)
        }
    }
}
