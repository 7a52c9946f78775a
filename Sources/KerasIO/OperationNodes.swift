import Layers

/// Operations a functional config records that are not Keras layers, rewritten
/// into the equivalent layer entries before the model is rebuilt:
/// - Keras 3 ops called on symbolic tensors (`x + 3.0`, `x * (1/6)`,
///   `ops.relu(x)`), written as `{"module": "keras.src.ops.numpy", "class_name": "Add",
///   "config": {"name": "add"}}` with the call's constants among the node's `args`.
///   In a legacy `.h5` the module is absent; an op is then told from the layer
///   of the same class name (`Add`, `Multiply`, …) by its config, which has no
///   `trainable` key, and by its call, which passes the operands separately
///   instead of as one list.
/// - tf-keras `TFOpLambda` layers (`tf.__operators__.add`, `tf.math.multiply`,
///   `tf.nn.silu`, …), whose second operand is the `y` keyword of the node
///   (a number or a `[layer, node, tensor]` reference).
///
/// keras.applications' MobileNetV3 (`hard_sigmoid` as `ReLU(6)(x + 3) * (1/6)`)
/// and ConvNeXt (the residual `+`) are written this way. The rewrite uses
/// layers both Keras versions load, so a converted model stays portable:
/// tensor ∘ tensor becomes `Add`/`Subtract`/`Multiply`/`Maximum`/`Minimum`,
/// tensor ∘ constant becomes `Rescaling(scale, offset)`, unary functions
/// become `Activation`, concatenation `Concatenate`, a reshape that keeps the
/// batch axis `Reshape` and a transpose that keeps it `Permute`. Operations no
/// layer computes (reductions, `x[...]`, `sqrt`, `x / y`, …) become an
/// ``OperationLayer`` holding the Keras 3 op's class and arguments; tf-keras
/// functions are translated to the same Keras 3 ops.
enum OperationNodes {
    private enum Binary: String {
        case add, subtract, multiply, divide, maximum, minimum
    }

    private enum Kind {
        case binary(Binary)
        case activation(String)
        case negative
        /// A Keras 3 op class computed by a layer other than an activation or a merge.
        case operation(String)
    }

    /// Keras 3 op class names (keras.src.ops.numpy / keras.src.ops.nn).
    private static let keras3Ops: [String: Kind] = [
        "Add": .binary(.add), "Subtract": .binary(.subtract), "Multiply": .binary(.multiply),
        "Divide": .binary(.divide), "TrueDivide": .binary(.divide), "Maximum": .binary(.maximum), "Minimum": .binary(.minimum),
        "Negative": .negative, "Tanh": .activation("tanh"), "Exp": .activation("exponential"),
        "Relu": .activation("relu"), "Relu6": .activation("relu6"), "Sigmoid": .activation("sigmoid"),
        "Silu": .activation("silu"), "Swish": .activation("silu"), "HardSigmoid": .activation("hard_sigmoid"),
        "HardSilu": .activation("hard_silu"), "HardSwish": .activation("hard_silu"), "Elu": .activation("elu"),
        "Selu": .activation("selu"), "Softplus": .activation("softplus"), "Softsign": .activation("softsign"),
        "Mish": .activation("mish"), "Concatenate": .operation("Concatenate"),
    ].merging(OperationLayer.supported.map { ($0, .operation($0)) }) { a, _ in a }

    /// tf-keras `TFOpLambda` functions (the `function` config key, `tf.` dropped).
    private static let tfFunctions: [String: Kind] = [
        "__operators__.add": .binary(.add), "math.add": .binary(.add), "add": .binary(.add),
        "math.subtract": .binary(.subtract), "subtract": .binary(.subtract),
        "math.multiply": .binary(.multiply), "multiply": .binary(.multiply),
        "math.truediv": .binary(.divide), "math.divide": .binary(.divide), "truediv": .binary(.divide), "divide": .binary(.divide),
        "math.maximum": .binary(.maximum), "maximum": .binary(.maximum),
        "math.minimum": .binary(.minimum), "minimum": .binary(.minimum),
        "math.negative": .negative, "negative": .negative,
        "nn.relu": .activation("relu"), "nn.relu6": .activation("relu6"), "nn.elu": .activation("elu"),
        "nn.selu": .activation("selu"), "nn.silu": .activation("swish"), "nn.swish": .activation("swish"),
        "math.sigmoid": .activation("sigmoid"), "nn.sigmoid": .activation("sigmoid"), "sigmoid": .activation("sigmoid"),
        "math.tanh": .activation("tanh"), "nn.tanh": .activation("tanh"), "tanh": .activation("tanh"),
        "math.exp": .activation("exponential"), "exp": .activation("exponential"),
        "math.softplus": .activation("softplus"), "nn.softplus": .activation("softplus"),
        "math.softsign": .activation("softsign"), "nn.softsign": .activation("softsign"),
        "math.reduce_mean": .operation("Mean"), "reduce_mean": .operation("Mean"),
        "math.reduce_sum": .operation("Sum"), "reduce_sum": .operation("Sum"),
        "math.reduce_max": .operation("Max"), "reduce_max": .operation("Max"),
        "math.reduce_min": .operation("Min"), "reduce_min": .operation("Min"),
        "concat": .operation("Concatenate"), "reshape": .operation("Reshape"),
        "compat.v1.transpose": .operation("Transpose"), "transpose": .operation("Transpose"),
        "expand_dims": .operation("ExpandDims"), "compat.v1.squeeze": .operation("Squeeze"), "squeeze": .operation("Squeeze"),
        "math.sqrt": .operation("Sqrt"), "sqrt": .operation("Sqrt"), "math.abs": .operation("Absolute"), "abs": .operation("Absolute"),
        "math.square": .operation("Square"), "square": .operation("Square"), "math.pow": .operation("Power"), "pow": .operation("Power"),
        "__operators__.getitem": .operation("GetItem"),
        "math.reduce_prod": .operation("Prod"), "reduce_prod": .operation("Prod"),
        "math.reduce_variance": .operation("Var"), "math.reduce_std": .operation("Std"),
        "math.reduce_logsumexp": .operation("Logsumexp"), "reduce_logsumexp": .operation("Logsumexp"),
        "math.argmax": .operation("Argmax"), "argmax": .operation("Argmax"), "math.argmin": .operation("Argmin"), "argmin": .operation("Argmin"),
        "math.log": .operation("Log"), "math.log1p": .operation("Log1p"), "math.expm1": .operation("Expm1"),
        "math.reciprocal": .operation("Reciprocal"), "math.floor": .operation("Floor"), "math.ceil": .operation("Ceil"),
        "math.round": .operation("Round"), "math.sign": .operation("Sign"), "math.erf": .operation("Erf"),
        "clip_by_value": .operation("Clip"), "cast": .operation("Cast"), "stack": .operation("Stack"),
        "linalg.matmul": .operation("Matmul"), "matmul": .operation("Matmul"), "split": .operation("Split"),
        "nn.softmax": .operation("Softmax"), "math.softmax": .operation("Softmax"), "nn.log_softmax": .operation("LogSoftmax"),
        "math.log_softmax": .operation("LogSoftmax"), "math.l2_normalize": .operation("Normalize"),
        "linalg.l2_normalize": .operation("Normalize"), "nn.l2_normalize": .operation("Normalize"),
        "math.cumsum": .operation("Cumsum"), "cumsum": .operation("Cumsum"), "tile": .operation("Tile"),
        "where": .operation("Where"), "reverse": .operation("Flip"), "einsum": .operation("Einsum"),
        "math.greater": .operation("Greater"), "math.greater_equal": .operation("GreaterEqual"), "math.less": .operation("Less"),
        "math.less_equal": .operation("LessEqual"), "math.equal": .operation("Equal"), "math.not_equal": .operation("NotEqual"),
        "nn.gelu": .activation("gelu"), "math.log_sigmoid": .activation("log_sigmoid"),
    ]

    /// The Keras 3 module of the ops that are not in `keras.src.ops.numpy`.
    private static let opModules = ["Softmax": "keras.src.ops.nn", "LogSoftmax": "keras.src.ops.nn", "Normalize": "keras.src.ops.nn",
                                    "Gelu": "keras.src.ops.nn", "LeakyRelu": "keras.src.ops.nn",
                                    "Erf": "keras.src.ops.math", "Logsumexp": "keras.src.ops.math", "Norm": "keras.src.ops.linalg",
                                    "Cast": "keras.src.ops.core"]

    /// tf keyword arguments under their Keras 3 op argument names; `y` of
    /// `tf.math.pow` and `slice_spec` of `getitem` are positional there.
    private static let tfArguments = ["axis": "axis", "keepdims": "keepdims", "shape": "newshape", "perm": "axes",
                                      "clip_value_min": "x_min", "clip_value_max": "x_max", "multiples": "repeats",
                                      "num_or_size_splits": "indices_or_sections", "dtype": "dtype", "epsilon": "epsilon",
                                      "transpose_a": "transpose_a", "transpose_b": "transpose_b", "exclusive": "exclusive",
                                      "reverse": "reverse", "equation": "subscripts"]

    /// One operand of a call: a tensor reference or a constant.
    private enum Operand {
        case tensor(JSONValue)
        case constant(JSONValue)
    }

    /// The names of the operation entries that only compute masks. Keras 3
    /// records the masks it propagates (``Layer/computeMask(_:masks:)``) as
    /// op nodes — `NotEqual` and `Any` for `Masking`, `NotEqual` for
    /// `Embedding(mask_zero=True)`, `LogicalOr` for merges — feeding `mask`
    /// keyword arguments. Masks propagate through the rebuilt model by
    /// themselves, so these nodes and the `mask` arguments are left out.
    static func maskComputations(_ entries: [JSONValue]) -> Set<String> {
        var byName: [String: JSONValue] = [:]
        for e in entries { if let name = e["name"]?.stringValue ?? e["config"]?["name"]?.stringValue { byName[name] = e } }
        /// The layers whose tensors `v` holds.
        func producers(_ v: JSONValue) -> [String] {
            if v["class_name"]?.stringValue == "__keras_tensor__" {
                return [v["config"]?["keras_history"]?.arrayValue?.first?.stringValue].compactMap { $0 }
            }
            return (v.arrayValue ?? []).flatMap(producers)
        }
        var pending = entries.flatMap { e in (e["inbound_nodes"]?.arrayValue ?? []).flatMap { producers($0["kwargs"]?["mask"] ?? .null) } }
        var found = Set<String>()
        while let name = pending.popLast() {
            // In a legacy `.h5` the module is absent: an op's config has no `trainable`.
            guard let e = byName[name], e["module"]?.stringValue?.hasPrefix("keras.src.ops")
                    ?? (e["config"]?["trainable"] == nil && e["class_name"]?.stringValue != "InputLayer"),
                  found.insert(name).inserted else { continue }
            pending += (e["inbound_nodes"]?.arrayValue ?? []).flatMap { producers($0["args"] ?? .null) }
        }
        return found
    }

    /// The layer entry standing for `entry` when it is an operation, else nil.
    static func layerEntry(for entry: JSONValue) throws -> JSONValue? {
        guard let className = entry["class_name"]?.stringValue, let name = entry["name"]?.stringValue
                ?? entry["config"]?["name"]?.stringValue else { return nil }
        let kind: Kind
        let keras2: Bool
        if className == "TFOpLambda" || className == "SlicingOpLambda" {
            let function = entry["config"]?["function"]?.stringValue ?? ""
            guard let k = tfFunctions[function] else {
                throw KerasIOError(part: "layer '\(name)'", "the TensorFlow operation tf.\(function) (\(className)) is not supported; "
                                   + "supported: \(tfFunctions.keys.sorted().map { "tf." + $0 }.joined(separator: ", "))")
            }
            kind = k
            keras2 = true
        } else {
            let module = entry["module"]?.stringValue
            guard let k = keras3Ops[className] else {
                if let module, module.hasPrefix("keras.src.ops") {
                    throw KerasIOError(part: "layer '\(name)'", "the Keras operation \(module).\(className) is not supported")
                }
                return nil
            }
            // A layer's config always carries `trainable`; an op's only its name and arguments.
            let isOp = module.map { $0.hasPrefix("keras.src.ops") } ?? (entry["config"]?["trainable"] == nil)
            guard isOp else { return nil }
            kind = k
            keras2 = false
        }
        var layer: JSONObject?
        var nodes: [JSONValue] = []
        for node in entry["inbound_nodes"]?.arrayValue ?? [] {
            let (config, tensors): (JSONObject, [JSONValue])
            if case .operation(let op) = kind {
                let call = keras2 ? try tfCall(node, layer: name) : try opCall(node, arguments: entry["config"]?.objectValue ?? [:], layer: name)
                (config, tensors) = try operation(op, module: entry["module"]?.stringValue, call, name: name, keras2: keras2)
            } else {
                let operands = keras2 ? try tfOperands(node, layer: name) : try opOperands(node, layer: name)
                (config, tensors) = try rewrite(kind, operands, name: name)
            }
            if let layer, layer["class_name"] != config["class_name"] || layer["config"] != config["config"] {
                throw KerasIOError(part: "layer '\(name)'", "an operation called twice with different arguments is not supported")
            }
            layer = config
            nodes.append(["args": .array([.array(tensors.map { ["class_name": "__keras_tensor__", "config": ["keras_history": $0]] })]),
                          "kwargs": [:]])
        }
        guard var result = layer else {
            throw KerasIOError(part: "layer '\(name)'", "an operation (\(className)) that is never called")
        }
        result["name"] = .string(name)
        result["inbound_nodes"] = .array(nodes)
        return .object(result)
    }

    /// The arguments of one call of an ``Kind/operation(_:)``: the op's config
    /// arguments, its tensors (keras histories) and the constants after them.
    private struct Call {
        var arguments: JSONObject
        var tensors: [JSONValue]
        var constants: [JSONValue]
    }

    /// Keras 3: the tensors lead `args` (a list of tensors for `Concatenate`), the constants follow.
    private static func opCall(_ node: JSONValue, arguments: JSONObject, layer: String) throws -> Call {
        var call = Call(arguments: arguments, tensors: [], constants: [])
        call.arguments["name"] = nil
        let args = (node["args"]?.arrayValue ?? []).flatMap { a -> [JSONValue] in
            a.arrayValue?.first?["class_name"]?.stringValue == "__keras_tensor__" ? a.arrayValue! : [a]
        }
        for operand in try opOperands(["args": .array(args), "kwargs": node["kwargs"] ?? [:]], layer: layer) {
            switch operand {
            case .tensor(let t) where call.constants.isEmpty: call.tensors.append(t)
            case .tensor: throw KerasIOError(part: "layer '\(layer)'", "a tensor after a constant argument is not supported")
            case .constant(let c): call.constants.append(c)
            }
        }
        return call
    }

    /// tf-keras: each reference carries the keyword arguments; `tf.concat`
    /// lists its tensors, `y` of `tf.math.pow` and a `getitem`'s `slice_spec`
    /// become the positional constant of the Keras 3 op.
    private static func tfCall(_ node: JSONValue, layer: String) throws -> Call {
        func fail(_ message: String) -> KerasIOError { KerasIOError(part: "layer '\(layer)'", message) }
        guard let list = node.arrayValue, !list.isEmpty else { throw fail("bad inbound node \(node.serialized().prefix(200)) for TFOpLambda") }
        let refs = list.first?.stringValue != nil ? [list] : try list.map { r -> [JSONValue] in
            guard let a = r.arrayValue else { throw fail("bad inbound node \(node.serialized().prefix(200)) for TFOpLambda") }
            return a
        }
        var call = Call(arguments: [:], tensors: [], constants: [])
        for ref in refs {
            guard ref.count >= 3 else { throw fail("bad inbound node \(node.serialized().prefix(200)) for TFOpLambda") }
            call.tensors.append(.array(Array(ref.prefix(3))))
        }
        let kwargs = refs[0].count > 3 ? refs[0][3].objectValue ?? [:] : [:]
        func isReference(_ v: JSONValue) -> Bool { v.arrayValue.map { $0.count == 3 && $0[0].stringValue != nil } ?? false }
        for (key, value) in kwargs {
            switch key {
            case "name", "output_type": continue
            case "conjugate" where value.boolValue == false: continue
            case "x", "y", "b": continue
            case "slice_spec": call.constants.append(keras3Key(value))
            default:
                guard let k = tfArguments[key] else { throw fail("argument '\(key)' of a TensorFlow operation is not supported") }
                call.arguments[k] = value
            }
        }
        // The other operands, in the function's order: a tensor reference or a constant.
        for key in ["x", "y", "b"] {
            guard let value = kwargs[key] else { continue }
            if isReference(value) {
                guard call.constants.isEmpty else { throw fail("a tensor after a constant argument is not supported") }
                call.tensors.append(value)
            } else {
                call.constants.append(value)
            }
        }
        return call
    }

    /// A tf-keras `slice_spec` in the form of a Keras 3 `GetItem` key.
    private static func keras3Key(_ spec: JSONValue) -> JSONValue {
        if let a = spec.arrayValue { return .array(a.map(keras3Key)) }
        if spec["class_name"]?.stringValue == "__ellipsis__" { return ["class_name": "__ellipsis__", "config": [:]] }
        if let o = spec.objectValue, o["start"] != nil || o["stop"] != nil || o["step"] != nil {
            return ["class_name": "__slice__", "config": ["start": o["start"] ?? .null, "stop": o["stop"] ?? .null, "step": o["step"] ?? .null]]
        }
        return spec
    }

    /// The layer computing the Keras 3 op `op` on `call`: `Concatenate`, a
    /// batch-keeping `Reshape` or `Permute`, else an ``OperationLayer``.
    private static func operation(_ op: String, module: String?, _ call: Call, name: String, keras2: Bool = false) throws -> (JSONObject, [JSONValue]) {
        func layer(_ className: String, _ config: JSONObject) -> JSONObject {
            var c = config
            c["name"] = .string(name)
            return ["class_name": .string(className), "config": .object(c)]
        }
        let axes = call.arguments[op == "Reshape" ? "newshape" : "axes"]?.arrayValue?.compactMap(\.intValue) ?? []
        var call = call
        if keras2 {
            // tf defaults and argument forms that differ from the Keras 3 op's.
            switch op {
            case "Argmax", "Argmin", "Split":
                if call.arguments["axis"] == nil { call.arguments["axis"] = 0 }
                if op == "Split", let sizes = call.arguments["indices_or_sections"]?.arrayValue?.compactMap(\.intValue), sizes.count > 1 {
                    // tf's sizes as NumPy's split indices.
                    call.arguments["indices_or_sections"] = JSONValue(ints: sizes.dropLast().reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) })
                }
            case "Normalize":
                // tf's x·rsqrt(max(Σx², ε)) is Keras's x·min(rsqrt(Σx²), 1/√ε).
                call.arguments["epsilon"] = .double((call.arguments["epsilon"]?.doubleValue ?? 1e-12).squareRoot())
            case "Stack":
                if call.arguments["axis"] == nil { call.arguments["axis"] = 0 }
            default: break
            }
        }
        let module = module ?? opModules[op] ?? "keras.src.ops.numpy"
        switch op {
        case "Concatenate":
            guard call.arguments["axis"]?.intValue != 0 else {
                throw KerasIOError(part: "layer '\(name)'", "concatenation along the batch axis is not supported")
            }
            return (layer("Concatenate", ["axis": call.arguments["axis"] ?? -1]), call.tensors)
        case "Reshape" where axes.first == -1 && !axes.dropFirst().contains(-1):
            return (layer("Reshape", ["target_shape": .array(axes.dropFirst().map { .int($0) })]), call.tensors)
        case "Transpose" where axes.first == 0 && axes.allSatisfy({ $0 >= 0 }):
            return (layer("Permute", ["dims": .array(axes.dropFirst().map { .int($0) })]), call.tensors)
        default:
            return (layer("Operation", ["op": .string(op), "module": .string(module),
                                        "arguments": .object(call.arguments), "constants": .array(call.constants)]), call.tensors)
        }
    }

    /// Keras 3: the node's positional `args`, each a keras tensor or a constant.
    private static func opOperands(_ node: JSONValue, layer: String) throws -> [Operand] {
        guard let args = node["args"]?.arrayValue else {
            throw KerasIOError(part: "layer '\(layer)'", "bad inbound node \(node.serialized().prefix(200)) for an operation")
        }
        if let kwargs = node["kwargs"]?.objectValue, kwargs.keys.contains(where: { kwargs[$0]?.isNull == false }) {
            throw KerasIOError(part: "layer '\(layer)'", "keyword arguments of an operation are not supported: \(kwargs.keys.sorted())")
        }
        return try args.map { a in
            if a["class_name"]?.stringValue == "__keras_tensor__" {
                guard let history = a["config"]?["keras_history"] else {
                    throw KerasIOError(part: "layer '\(layer)'", "a keras tensor without keras_history")
                }
                return .tensor(history)
            }
            return .constant(a)
        }
    }

    /// tf-keras: `[[layer, node, tensor, {"y": …, "name": …}]]`; the first
    /// operand is the reference, the others are keyword arguments, where a
    /// `[layer, node, tensor]` list is a tensor.
    private static func tfOperands(_ node: JSONValue, layer: String) throws -> [Operand] {
        // A node is a list of one reference, or (for a call on a single tensor) the reference itself.
        guard let list = node.arrayValue, let ref = list.first?.stringValue != nil ? list : list.count == 1 ? list[0].arrayValue : nil,
              ref.count >= 3 else {
            throw KerasIOError(part: "layer '\(layer)'", "bad inbound node \(node.serialized().prefix(200)) for TFOpLambda")
        }
        // `1 - x` and `0.1 * x` are written with the constant first: `["_CONSTANT_VALUE", -1, 1.0, {"y": x}]`.
        var operands: [Operand] = ref[0].stringValue == "_CONSTANT_VALUE" ? [.constant(ref[2])] : [.tensor(.array(Array(ref.prefix(3))))]
        let kwargs = ref.count > 3 ? ref[3].objectValue ?? JSONObject() : JSONObject()
        for key in kwargs.keys.sorted() where key != "name" {
            guard key == "y", let y = kwargs[key] else {
                throw KerasIOError(part: "layer '\(layer)'", "argument '\(key)' of a TensorFlow operation is not supported")
            }
            if let a = y.arrayValue, a.count == 3, a[0].stringValue != nil, a[1].intValue != nil, a[2].intValue != nil {
                operands.append(.tensor(y))
            } else {
                operands.append(.constant(y))
            }
        }
        return operands
    }

    /// The layer (`class_name` and `config`) computing `kind` on `operands`,
    /// and the tensors it is called on.
    private static func rewrite(_ kind: Kind, _ operands: [Operand], name: String) throws -> (JSONObject, [JSONValue]) {
        func fail(_ message: String) -> KerasIOError { KerasIOError(part: "layer '\(name)'", message) }
        func layer(_ className: String, _ config: JSONObject = [:]) -> JSONObject {
            var c = config
            c["name"] = .string(name)
            return ["class_name": .string(className), "config": .object(c)]
        }
        switch kind {
        case .activation(let activation):
            guard operands.count == 1, case .tensor(let t) = operands[0] else { throw fail("expects one tensor argument") }
            return (layer("Activation", ["activation": .string(activation)]), [t])
        case .operation:
            throw fail("an operation's call is read by opCall/tfCall")
        case .negative:
            guard operands.count == 1, case .tensor(let t) = operands[0] else { throw fail("expects one tensor argument") }
            return (layer("Rescaling", ["scale": -1.0, "offset": 0.0]), [t])
        case .binary(let op):
            guard operands.count == 2 else { throw fail("\(op.rawValue) expects two arguments, got \(operands.count)") }
            switch (operands[0], operands[1]) {
            case (.tensor(let a), .tensor(let b)):
                let classes: [Binary: String] = [.add: "Add", .subtract: "Subtract", .multiply: "Multiply",
                                                 .maximum: "Maximum", .minimum: "Minimum"]
                guard let className = classes[op] else {
                    return (layer("Operation", ["op": "TrueDivide", "module": "keras.src.ops.numpy"]), [a, b])
                }
                return (layer(className), [a, b])
            case (.tensor(let t), .constant(let c)):
                switch op {
                case .add: return (layer("Rescaling", ["scale": 1.0, "offset": try number(c, name)]), [t])
                case .subtract: return (layer("Rescaling", ["scale": 1.0, "offset": try map(c, name) { -$0 }]), [t])
                case .multiply: return (layer("Rescaling", ["scale": try number(c, name), "offset": 0.0]), [t])
                case .divide: return (layer("Rescaling", ["scale": try map(c, name) { 1 / $0 }, "offset": 0.0]), [t])
                case .maximum, .minimum:
                    return (layer("Operation", ["op": .string(op == .maximum ? "Maximum" : "Minimum"), "module": "keras.src.ops.numpy",
                                                "constants": [try number(c, name)]]), [t])
                }
            case (.constant(let c), .tensor(let t)):
                switch op {
                case .add: return (layer("Rescaling", ["scale": 1.0, "offset": try number(c, name)]), [t])
                case .subtract: return (layer("Rescaling", ["scale": -1.0, "offset": try number(c, name)]), [t])
                case .multiply: return (layer("Rescaling", ["scale": try number(c, name), "offset": 0.0]), [t])
                case .maximum, .minimum:
                    return (layer("Operation", ["op": .string(op == .maximum ? "Maximum" : "Minimum"), "module": "keras.src.ops.numpy",
                                                "constants": [try number(c, name)]]), [t])
                case .divide where c.doubleValue == 1:
                    return (layer("Operation", ["op": "Reciprocal", "module": "keras.src.ops.numpy"]), [t])
                default: throw fail("\(op.rawValue) of a constant and a tensor is not supported")
                }
            case (.constant, .constant):
                throw fail("\(op.rawValue) of two constants is not supported")
            }
        }
    }

    /// A constant operand: a number or a nested list of numbers.
    private static func number(_ v: JSONValue, _ name: String) throws -> JSONValue { try map(v, name) { $0 } }

    private static func map(_ v: JSONValue, _ name: String, _ f: (Double) -> Double) throws -> JSONValue {
        if let d = v.doubleValue { return .double(f(d)) }
        if let a = v.arrayValue { return .array(try a.map { try map($0, name, f) }) }
        throw KerasIOError(part: "layer '\(name)'", "operation argument \(v.serialized().prefix(100)) is neither a tensor nor a number")
    }
}
