import Tensor

/// A Keras 3 operation called on symbolic tensors that no Keras layer
/// computes (`ops.mean(x, axis=1)`, `x[:, 0]`, `ops.sqrt(x)`, `x / y`).
///
/// `op` is Keras's class name in `module` (`Mean` in `keras.src.ops.numpy`),
/// `arguments` the op's own config (`{"axis": 1, "keepdims": false}`) and
/// `constants` the positional arguments after the tensors (`GetItem`'s key,
/// `Power`'s exponent), so the call can be written back as the same op node.
public final class OperationLayer: Layer {
    public let op: String
    public let module: String
    public let arguments: JSONObject
    public let constants: [JSONValue]

    public override class var className: String { "Operation" }

    /// The Keras 3 op classes this layer evaluates.
    public static let supported = ["Absolute", "Divide", "ExpandDims", "GetItem", "Max", "Mean", "Min", "Power",
                                   "Reshape", "Sqrt", "Square", "Squeeze", "Sum", "Transpose", "TrueDivide"]

    public required init(config: LayerConfig) throws {
        op = try config.string("op")
        module = try config.string("module", default: "keras.src.ops.numpy")
        arguments = config["arguments"]?.objectValue ?? [:]
        constants = config["constants"]?.arrayValue ?? []
        try super.init(config: config)
        guard Self.supported.contains(op) else { throw fail("the Keras operation \(module).\(op) is not supported") }
        if ["Max", "Min"].contains(op), arguments["initial"]?.isNull == false { throw fail("'initial' is not supported") }
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["op"] = .string(op)
        c["module"] = .string(module)
        c["arguments"] = .object(arguments)
        c["constants"] = .array(constants)
        return c
    }

    private func fail(_ message: String) -> LayerError { .badConfig(layer: name, "\(op): \(message)") }

    private var tensorCount: Int {
        ["Divide", "TrueDivide"].contains(op) || (op == "Power" && constants.isEmpty) ? 2 : 1
    }

    /// An int or a list of ints (`axis`, `axes`), nil when absent or null.
    private func ints(_ key: String) throws -> [Int]? {
        guard let v = arguments[key], !v.isNull else { return nil }
        if let i = v.intValue { return [i] }
        guard let a = v.arrayValue?.map(\.intValue), a.allSatisfy({ $0 != nil }) else { throw fail("bad '\(key)' \(v.serialized())") }
        return a.map { $0! }
    }

    private func axes(_ key: String, rank: Int) throws -> [Int]? {
        try ints(key)?.map { a in
            guard a >= -rank, a < rank else { throw fail("axis \(a) is out of range for rank \(rank)") }
            return a < 0 ? a + rank : a
        }
    }

    private var keepdims: Bool { arguments["keepdims"]?.boolValue ?? false }

    // MARK: Shapes

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        guard inputShapes.count == tensorCount else { throw fail("expects \(tensorCount) tensor(s), got \(inputShapes.count)") }
        let s = inputShapes[0]
        switch op {
        case "Mean", "Sum", "Max", "Min":
            let reduced = Set(try axes("axis", rank: s.count) ?? Array(s.indices))
            return [keepdims ? s.indices.map { reduced.contains($0) ? 1 : s[$0] } : s.indices.filter { !reduced.contains($0) }.map { s[$0] }]
        case "ExpandDims":
            var out = s
            for a in try axes("axis", rank: s.count + 1) ?? [] { out.insert(1, at: a) }
            return [out]
        case "Squeeze":
            let drop = Set(try axes("axis", rank: s.count) ?? s.indices.filter { s[$0] == 1 })
            return [s.indices.filter { !drop.contains($0) }.map { s[$0] }]
        case "Reshape":
            let target = try ints("newshape") ?? []
            let known = s.allSatisfy { $0 != nil } ? s.map { $0! }.reduce(1, *) : nil
            let rest = target.filter { $0 != -1 }.reduce(1, *)
            return [target.map { $0 == -1 ? known.map { rest > 0 ? $0 / rest : 0 } : $0 }]
        case "Transpose":
            let perm = try axes("axes", rank: s.count) ?? Array(s.indices.reversed())
            guard perm.count == s.count else { throw fail("axes \(perm) do not permute \(s.count) axes") }
            return [perm.map { s[$0] }]
        case "GetItem":
            return [try indexing(s).shape]
        case _ where tensorCount == 2:
            let b = inputShapes[1]
            let rank = max(s.count, b.count)
            let pa = [Int?](repeating: 1, count: rank - s.count) + s, pb = [Int?](repeating: 1, count: rank - b.count) + b
            return [zip(pa, pb).map { $0 == 1 ? $1 : $1 == 1 ? $0 : $0 ?? $1 }]
        default:
            return [s]
        }
    }

    // MARK: Evaluation

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        switch op {
        case "Mean": return [try x.mean(axes: try axes("axis", rank: x.rank), keepDims: keepdims)]
        case "Sum": return [try x.sum(axes: try axes("axis", rank: x.rank), keepDims: keepdims)]
        case "Max": return [try x.max(axes: try axes("axis", rank: x.rank), keepDims: keepdims)]
        case "Min": return [try x.min(axes: try axes("axis", rank: x.rank), keepDims: keepdims)]
        case "ExpandDims":
            var y = x
            for a in try axes("axis", rank: x.rank + 1) ?? [] { y = try y.expandingDims(at: a) }
            return [y]
        case "Squeeze": return [try x.squeezed(axes: try axes("axis", rank: x.rank))]
        case "Reshape": return [try x.reshaped(to: try ints("newshape") ?? [])]
        case "Transpose": return [try x.transposed(try axes("axes", rank: x.rank))]
        case "Sqrt": return [x.sqrt()]
        case "Absolute": return [x.abs()]
        case "Square": return [x.square()]
        case "Power":
            if inputs.count == 2 { return [try Tensor.pow(x, inputs[1])] }
            guard let p = constants.first?.doubleValue else { throw fail("the exponent must be a number") }
            return [x.pow(Float(p))]
        case "Divide", "TrueDivide": return [try x / inputs[1]]
        case "GetItem":
            let plan = try indexing(x.shape.map { $0 })
            return [try x.slice(begin: plan.begin, size: plan.size, steps: plan.steps).reshaped(to: plan.shape.map { $0! })]
        default: throw fail("the Keras operation \(module).\(op) is not supported")
        }
    }

    /// NumPy basic indexing by `constants[0]` (`GetItem`'s key): a slice per
    /// input axis (an index is a slice of one that is then dropped) and the
    /// output shape, with `None` inserting axes and `...` standing for the
    /// axes not named.
    private func indexing(_ shape: Shape) throws -> (begin: [Int], size: [Int], steps: [Int], shape: Shape) {
        enum Item { case index(Int), slice(Int?, Int?, Int?), newAxis, ellipsis }
        let key = constants.first ?? .null
        let items: [Item] = try (key.arrayValue ?? [key]).map { v in
            if v.isNull { return .newAxis }
            if let i = v.intValue { return .index(i) }
            switch v["class_name"]?.stringValue {
            case "__ellipsis__": return .ellipsis
            case "__slice__":
                let c = v["config"]
                return .slice(c?["start"]?.intValue, c?["stop"]?.intValue, c?["step"]?.intValue)
            default: throw fail("unsupported index \(v.serialized().prefix(100))")
            }
        }
        let named = items.filter { if case .index = $0 { return true }; if case .slice = $0 { return true }; return false }.count
        guard named <= shape.count, items.filter({ if case .ellipsis = $0 { return true }; return false }).count <= 1 else {
            throw fail("index \(key.serialized().prefix(100)) does not fit shape \(formatShape(shape))")
        }
        var expanded: [Item] = []
        for item in items {
            if case .ellipsis = item {
                expanded += Array(repeating: .slice(nil, nil, nil), count: shape.count - named)
            } else {
                expanded.append(item)
            }
        }
        if !items.contains(where: { if case .ellipsis = $0 { return true }; return false }) {
            expanded += Array(repeating: .slice(nil, nil, nil), count: shape.count - named)
        }
        var begin: [Int] = [], size: [Int] = [], steps: [Int] = [], out: Shape = []
        var axis = 0
        for item in expanded {
            switch item {
            case .newAxis: out.append(1)
            case .ellipsis: break
            case .index(let i):
                if let n = shape[axis] {
                    guard i >= -n, i < n else { throw fail("index \(i) is out of range for axis \(axis) of size \(n)") }
                    begin.append(i < 0 ? i + n : i)
                } else {
                    begin.append(i)
                }
                size.append(1)
                steps.append(1)
                axis += 1
            case .slice(let start, let stop, let step):
                let st = step ?? 1
                guard st != 0 else { throw fail("slice step cannot be zero") }
                guard let n = shape[axis] else {
                    guard start == nil, stop == nil, st == 1 else { throw fail("a slice of an axis of unknown size") }
                    (begin, size, steps) = (begin + [0], size + [-1], steps + [1])
                    out.append(nil)
                    axis += 1
                    continue
                }
                // Python's slice.indices.
                func clamp(_ v: Int?, _ d: Int) -> Int {
                    guard var v else { return d }
                    if v < 0 { v += n }
                    return st > 0 ? min(max(v, 0), n) : min(max(v, -1), n - 1)
                }
                let b = clamp(start, st > 0 ? 0 : n - 1), e = clamp(stop, st > 0 ? n : -1)
                let count = st > 0 ? max(0, (e - b + st - 1) / st) : max(0, (b - e - st - 1) / -st)
                begin.append(count == 0 ? 0 : b)
                size.append(count)
                steps.append(st)
                out.append(count)
                axis += 1
            }
        }
        return (begin, size, steps, out)
    }
}
