import Foundation
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
        + reductions + unary + comparisons
        + ["Argmax", "Argmin", "Cast", "Clip", "Cumsum", "Einsum", "Flip", "LogSoftmax", "Matmul", "Maximum", "Minimum",
           "Norm", "Normalize", "Repeat", "Softmax", "Split", "Stack", "Swapaxes", "Tile", "Where", "Gelu", "LeakyRelu"]
    /// Reductions over `axis` (all axes when null) with `keepdims`.
    static let reductions = ["Logsumexp", "Max", "Mean", "Min", "Prod", "Std", "Sum", "Var"]
    /// Elementwise functions of one tensor without arguments.
    static let unary = ["Ceil", "Erf", "Expm1", "Floor", "Log", "Log1p", "Reciprocal", "Round", "Sign"]
    /// Elementwise comparisons, 1 where true.
    static let comparisons = ["Equal", "Greater", "GreaterEqual", "Less", "LessEqual", "NotEqual"]

    public required init(config: LayerConfig) throws {
        op = try config.string("op")
        module = try config.string("module", default: "keras.src.ops.numpy")
        arguments = config["arguments"]?.objectValue ?? [:]
        constants = config["constants"]?.arrayValue ?? []
        try super.init(config: config)
        guard Self.supported.contains(op) else { throw fail("the Keras operation \(module).\(op) is not supported") }
        if op == "Cumsum", arguments["exclusive"]?.boolValue == true || arguments["reverse"]?.boolValue == true {
            throw fail("exclusive or reverse running sums are not supported")
        }
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

    /// Whether the Keras 3 op takes its tensors as one list (`ops.stack([a, b])`).
    public var takesTensorList: Bool { op == "Stack" }

    /// How many tensors a call takes (nil: any number, for `Stack` and `Where`).
    private var tensorCount: Int? {
        switch op {
        case "Stack", "Where": return nil
        case "Divide", "TrueDivide", "Matmul", "Einsum": return 2
        case "Power", "Maximum", "Minimum", _ where Self.comparisons.contains(op): return constants.isEmpty ? 2 : 1
        default: return 1
        }
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
        if let n = tensorCount, inputShapes.count != n { throw fail("expects \(n) tensor(s), got \(inputShapes.count)") }
        guard let s = inputShapes.first else { throw fail("expects a tensor") }
        switch op {
        case _ where Self.reductions.contains(op), "Argmax", "Argmin", "Norm":
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
        case "Transpose", "Swapaxes":
            let perm = try permutation(rank: s.count)
            guard perm.count == s.count else { throw fail("axes \(perm) do not permute \(s.count) axes") }
            return [perm.map { s[$0] }]
        case "GetItem":
            return [try indexing(s).shape]
        case "Stack":
            let a = try axes("axis", rank: s.count + 1)?.first ?? 0
            var stacked = s
            stacked.insert(inputShapes.count, at: a)
            return [stacked]
        case "Split":
            let a = try axes("axis", rank: s.count)?.first ?? 0
            return try splitSizes(s[a]).map { size in
                var out = s
                out[a] = size
                return out
            }
        case "Matmul":
            let b = inputShapes[1]
            guard s.count >= 2, b.count >= 2 else { throw fail("matmul operands need rank 2 or more") }
            let (ta, tb) = (arguments["transpose_a"]?.boolValue == true, arguments["transpose_b"]?.boolValue == true)
            let batch = broadcast(Array(s.dropLast(2)), Array(b.dropLast(2)))
            return [batch + [ta ? s[s.count - 1] : s[s.count - 2], tb ? b[b.count - 2] : b[b.count - 1]]]
        case "Einsum":
            let (l, r, out) = try einsumLabels()
            var sizes: [Character: Int?] = [:]
            for (labels, shape) in [(l, s), (r, inputShapes[1])] {
                guard labels.count == shape.count else { throw fail("subscripts do not fit shape \(formatShape(shape))") }
                for (c, d) in zip(labels, shape) where sizes[c] == nil || sizes[c]! == nil { sizes[c] = d }
            }
            return [out.map { sizes[$0] ?? nil }]
        case "Tile":
            let reps = try ints("repeats") ?? []
            let padded = [Int?](repeating: 1, count: max(0, reps.count - s.count)) + s
            let r = [Int](repeating: 1, count: max(0, padded.count - reps.count)) + reps
            return [zip(padded, r).map { d, k in d.map { $0 * k } }]
        case "Repeat":
            let k = try ints("repeats")?.first ?? 1
            guard let a = try axes("axis", rank: s.count)?.first else { return [[s.allSatisfy { $0 != nil } ? s.map { $0! }.reduce(1, *) * k : nil]] }
            var out = s
            out[a] = s[a].map { $0 * k }
            return [out]
        case "Cumsum" where arguments["axis"]?.isNull != false:
            return [[s.allSatisfy { $0 != nil } ? s.map { $0! }.reduce(1, *) : nil]]
        case _ where inputShapes.count > 1:
            return [inputShapes.dropFirst().reduce(s, broadcast)]
        default:
            return [s]
        }
    }

    /// NumPy broadcasting of two shapes.
    private func broadcast(_ a: Shape, _ b: Shape) -> Shape {
        let rank = max(a.count, b.count)
        let pa = [Int?](repeating: 1, count: rank - a.count) + a, pb = [Int?](repeating: 1, count: rank - b.count) + b
        return zip(pa, pb).map { $0 == 1 ? $1 : $1 == 1 ? $0 : $0 ?? $1 }
    }

    /// `Transpose`'s `axes` or the swap of `Swapaxes`.
    private func permutation(rank: Int) throws -> [Int] {
        if op == "Swapaxes" {
            guard let a = try axes("axis1", rank: rank)?.first, let b = try axes("axis2", rank: rank)?.first else { throw fail("needs axis1 and axis2") }
            var perm = Array(0..<rank)
            perm.swapAt(a, b)
            return perm
        }
        return try axes("axes", rank: rank) ?? Array((0..<rank).reversed())
    }

    /// The sizes `Split` cuts an axis of size `n` into.
    private func splitSizes(_ n: Int?) throws -> [Int?] {
        guard let v = arguments["indices_or_sections"], !v.isNull else { throw fail("needs indices_or_sections") }
        if let count = v.intValue {
            guard count > 0 else { throw fail("bad indices_or_sections \(count)") }
            guard let n else { return [Int?](repeating: nil, count: count) }
            guard n % count == 0 else { throw fail("an axis of size \(n) does not split into \(count) equal parts") }
            return [Int?](repeating: n / count, count: count)
        }
        guard let indices = try ints("indices_or_sections"), let n else { throw fail("split indices need a known axis size") }
        let bounds = [0] + indices.map { min(max($0 < 0 ? $0 + n : $0, 0), n) } + [n]
        return zip(bounds, bounds.dropFirst()).map { max(0, $1 - $0) }
    }

    /// `Einsum`'s two operands' labels and the output's.
    private func einsumLabels() throws -> ([Character], [Character], [Character]) {
        let subscripts = (arguments["subscripts"]?.stringValue ?? "").replacingOccurrences(of: " ", with: "")
        let parts = subscripts.components(separatedBy: "->")
        let operands = parts[0].components(separatedBy: ",")
        guard parts.count == 2, operands.count == 2, !subscripts.contains("."),
              operands.allSatisfy({ Set($0).count == $0.count }) else {
            throw fail("subscripts '\(subscripts)' are not of the form 'ab,bc->ac' (two operands, explicit output, no repeated or elided axes)")
        }
        return (Array(operands[0]), Array(operands[1]), Array(parts[1]))
    }

    // MARK: Evaluation

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        let x = inputs[0]
        let reduced = { try self.axes("axis", rank: x.rank) }
        switch op {
        case "Mean": return [try x.mean(axes: try reduced(), keepDims: keepdims)]
        case "Sum": return [try x.sum(axes: try reduced(), keepDims: keepdims)]
        case "Max" where inputs.count == 1 && constants.isEmpty: return [try x.max(axes: try reduced(), keepDims: keepdims)]
        case "Min" where inputs.count == 1 && constants.isEmpty: return [try x.min(axes: try reduced(), keepDims: keepdims)]
        case "Var": return [try x.variance(axes: try reduced(), keepDims: keepdims)]
        case "Std": return [try x.variance(axes: try reduced(), keepDims: keepdims).sqrt()]
        case "Prod":
            // The product as exp Σ log|x| with the sign counted apart (no gradient).
            let magnitude = try x.abs().log().sum(axes: try reduced(), keepDims: keepdims).exp()
            let negatives = try Tensor.greater(Tensor(0), x).sum(axes: try reduced(), keepDims: keepdims)
            let zeros = try Tensor.equal(x, Tensor(0)).max(axes: try reduced(), keepDims: keepdims)
            let sign = Tensor(shape: negatives.shape, scalars: negatives.scalars.map { Int($0) % 2 == 0 ? 1 : -1 })
            return [try Tensor.where(zeros, Tensor(0), try magnitude * sign).detached]
        case "Logsumexp":
            let axes = try reduced() ?? Array(0..<x.rank)
            let m = try x.max(axes: axes, keepDims: true).detached
            let y = try (try x - m).exp().sum(axes: axes, keepDims: true).log() + m
            return [keepdims ? y : try y.squeezed(axes: axes)]
        case "Argmax", "Argmin":
            let v = op == "Argmax" ? x : x * -1
            guard let a = try reduced()?.first else { return [try v.reshaped(to: [-1]).argmax(axis: 0)] }
            let y = try v.argmax(axis: a)
            return [keepdims ? try y.expandingDims(at: a) : y]
        case "Norm":
            let axes = try reduced()
            switch arguments["ord"] ?? .null {
            case .null, .int(2), .string("fro"), .double(2): return [try x.square().sum(axes: axes, keepDims: keepdims).sqrt()]
            case .int(1), .double(1): return [try x.abs().sum(axes: axes, keepDims: keepdims)]
            default: throw fail("ord \(arguments["ord"]!.serialized()) is not supported (null, 2, 'fro' or 1)")
            }
        case "Normalize":
            guard (arguments["order"]?.intValue ?? 2) == 2 else { throw fail("only order 2 is supported") }
            let eps = Float(arguments["epsilon"]?.doubleValue ?? 1e-7)
            let inverse = try x.square().sum(axes: try axes("axis", rank: x.rank) ?? [x.rank - 1], keepDims: true).rsqrt()
            return [try x * Tensor.minimum(inverse, Tensor(1 / eps))]
        case "ExpandDims":
            var y = x
            for a in try axes("axis", rank: x.rank + 1) ?? [] { y = try y.expandingDims(at: a) }
            return [y]
        case "Squeeze": return [try x.squeezed(axes: try axes("axis", rank: x.rank))]
        case "Reshape": return [try x.reshaped(to: try ints("newshape") ?? [])]
        case "Transpose", "Swapaxes": return [try x.transposed(try permutation(rank: x.rank))]
        case "Sqrt": return [x.sqrt()]
        case "Absolute": return [x.abs()]
        case "Square": return [x.square()]
        case "Log": return [x.log()]
        case "Log1p": return [(x + 1).log()]
        case "Expm1": return [x.exp() - 1]
        case "Reciprocal": return [1 / x]
        case "Floor": return [x.floor()]
        case "Ceil": return [x.ceil()]
        case "Round":
            guard (arguments["decimals"]?.intValue ?? 0) == 0 else { throw fail("only decimals=0 is supported") }
            return [x.round()]
        case "Sign": return [x.sign()]
        case "Gelu": return [x.gelu(approximate: arguments["approximate"]?.boolValue ?? true)]
        case "LeakyRelu": return [x.leakyRelu(negativeSlope: Float(arguments["negative_slope"]?.doubleValue ?? 0.2))]
        case "Erf": return [x.erf()]
        case "Clip":
            guard let low = arguments["x_min"]?.doubleValue, let high = arguments["x_max"]?.doubleValue else {
                throw fail("x_min and x_max must be numbers")
            }
            return [x.clip(Float(low), Float(high))]
        case "Cast":
            let dtype = arguments["dtype"]?.stringValue ?? "float32"
            if dtype == "bool" { return [try 1 - Tensor.equal(x, Tensor(0))] }
            if dtype.contains("int") { return [try x.sign() * x.abs().floor()] }
            return [x]
        case "Power":
            if inputs.count == 2 { return [try Tensor.pow(x, inputs[1])] }
            guard let p = constants.first?.doubleValue else { throw fail("the exponent must be a number") }
            return [x.pow(Float(p))]
        case "Divide", "TrueDivide": return [try x / inputs[1]]
        case "Maximum": return [try Tensor.maximum(x, try operand(inputs, 1))]
        case "Minimum": return [try Tensor.minimum(x, try operand(inputs, 1))]
        case "Greater": return [try Tensor.greater(x, try operand(inputs, 1))]
        case "Less": return [try Tensor.greater(try operand(inputs, 1), x)]
        case "GreaterEqual": return [try 1 - Tensor.greater(try operand(inputs, 1), x)]
        case "LessEqual": return [try 1 - Tensor.greater(x, try operand(inputs, 1))]
        case "Equal": return [try Tensor.equal(x, try operand(inputs, 1))]
        case "NotEqual": return [try 1 - Tensor.equal(x, try operand(inputs, 1))]
        case "Where":
            guard inputs.count + constants.count == 3 else { throw fail("expects a condition and two values") }
            return [try Tensor.where(x, try operand(inputs, 1), try operand(inputs, 2))]
        case "Softmax", "LogSoftmax":
            let axes = try axes("axis", rank: x.rank) ?? [x.rank - 1]
            if axes.count == 1 { return [op == "Softmax" ? try x.softmax(axis: axes[0]) : try x.logSoftmax(axis: axes[0])] }
            let m = try x.max(axes: axes, keepDims: true).detached
            let shifted = try x - m
            let logSum = try shifted.exp().sum(axes: axes, keepDims: true).log()
            return [op == "Softmax" ? try (shifted - logSum).exp() : try shifted - logSum]
        case "Cumsum":
            guard let a = try axes("axis", rank: x.rank)?.first else { return [try cumsum(x.reshaped(to: [-1]), axis: 0)] }
            return [try cumsum(x, axis: a)]
        case "Matmul":
            return [try Tensor.matmul(x, inputs[1], transposeA: arguments["transpose_a"]?.boolValue == true,
                                      transposeB: arguments["transpose_b"]?.boolValue == true)]
        case "Einsum":
            let (l, r, out) = try einsumLabels()
            return [try Tensor.einsum(x, l, inputs[1], r, output: out)]
        case "Stack": return [try Tensor.stack(inputs, axis: try axes("axis", rank: x.rank + 1)?.first ?? 0)]
        case "Split":
            let a = try axes("axis", rank: x.rank)?.first ?? 0
            return try x.split(sizes: try splitSizes(x.shape[a]).map { $0! }, axis: a)
        case "Tile":
            let reps = try ints("repeats") ?? []
            let v = reps.count > x.rank ? try x.reshaped(to: [Int](repeating: 1, count: reps.count - x.rank) + x.shape) : x
            return [try v.tiled([Int](repeating: 1, count: v.rank - reps.count) + reps)]
        case "Repeat":
            let k = try ints("repeats") ?? [1]
            guard k.count == 1 else { throw fail("repeats per element are not supported") }
            guard let a = try axes("axis", rank: x.rank)?.first else {
                let flat = try x.reshaped(to: [-1])
                return [try flat.gather((0..<flat.count * k[0]).map { $0 / k[0] }, axis: 0)]
            }
            return [try x.gather((0..<x.shape[a] * k[0]).map { $0 / k[0] }, axis: a)]
        case "Flip": return [try x.flipped(axes: try axes("axis", rank: x.rank) ?? Array(0..<x.rank))]
        case "GetItem":
            let plan = try indexing(x.shape.map { $0 })
            return [try x.slice(begin: plan.begin, size: plan.size, steps: plan.steps).reshaped(to: plan.shape.map { $0! })]
        default: throw fail("the Keras operation \(module).\(op) is not supported")
        }
    }

    /// The `index`-th operand: a tensor input, else a constant after the tensors.
    private func operand(_ inputs: [Tensor], _ index: Int) throws -> Tensor {
        if index < inputs.count { return inputs[index] }
        let k = index - inputs.count
        guard k < constants.count else { throw fail("missing operand \(index)") }
        return try constantTensor(constants[k])
    }

    /// A number or a rectangular nested list of numbers as a tensor.
    private func constantTensor(_ v: JSONValue) throws -> Tensor {
        if let d = v.doubleValue { return Tensor(Float(d)) }
        if let b = v.boolValue { return Tensor(b ? 1 : 0) }
        guard let a = v.arrayValue, !a.isEmpty else { throw fail("constant \(v.serialized().prefix(100)) is not a number or list") }
        let parts = try a.map(constantTensor)
        guard parts.allSatisfy({ $0.shape == parts[0].shape }) else { throw fail("constant \(v.serialized().prefix(100)) is ragged") }
        return try Tensor.stack(parts, axis: 0)
    }

    /// Running sums along `axis`, as a product with a triangular matrix.
    private func cumsum(_ x: Tensor, axis: Int) throws -> Tensor {
        let n = x.shape[axis]
        let upper = Tensor(shape: [n, n], scalars: (0..<n * n).map { $0 / n <= $0 % n ? 1 : 0 })
        var perm = Array(0..<x.rank)
        perm.remove(at: axis)
        perm.append(axis)
        var inverse = [Int](repeating: 0, count: x.rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        return try Tensor.matmul(try x.transposed(perm), upper).transposed(inverse)
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
