import Tensor

/// A weight or activity regularizer from its Keras config (`L1`, `L2`,
/// `L1L2`, `OrthogonalRegularizer`); `penalty` is the loss it adds.
public struct Regularizer: Equatable {
    public var className: String
    public var config: JSONObject

    public init(json: JSONValue, layer: String, key: String) throws {
        func fail() -> LayerError { .badConfig(layer: layer, "unknown regularizer \(json.serialized()) for '\(key)'") }
        if let name = json.stringValue {
            switch name {
            case "l1": self.className = "L1"; self.config = ["l1": 0.01]
            case "l2": self.className = "L2"; self.config = ["l2": 0.01]
            case "l1_l2": self.className = "L1L2"; self.config = ["l1": 0.01, "l2": 0.01]
            default: throw fail()
            }
        } else if let cls = json["class_name"]?.stringValue, ["L1", "L2", "L1L2", "OrthogonalRegularizer"].contains(cls) {
            self.className = cls
            self.config = json["config"]?.objectValue ?? JSONObject()
        } else {
            throw fail()
        }
    }

    public var json: JSONValue {
        .object(["module": "keras.regularizers", "class_name": .string(className), "config": .object(config), "registered_name": nil])
    }

    private func factor(_ key: String) -> Float { Float(config[key]?.doubleValue ?? 0) }

    /// The loss term for `x`.
    public func penalty(_ x: Tensor) throws -> Tensor {
        switch className {
        case "L1": return try x.abs().sum() * factor("l1")
        case "L2": return try x.square().sum() * factor("l2")
        case "L1L2": return try (try x.abs().sum() * factor("l1")) + (try x.square().sum() * factor("l2"))
        default:
            // OrthogonalRegularizer: factor · mean(|offdiag(normalized Wᵀ·W)|), mode "rows" or "columns".
            let mode = config["mode"]?.stringValue ?? "rows"
            var w = try x.reshaped(to: [-1, x.shape.last ?? 1])
            if mode == "rows" { w = try w.transposed() }
            let norms = try (try w.square().sum(axes: [0], keepDims: true) + 1e-12).sqrt()
            let n = try w / norms
            let gram = try Tensor.matmul(n, n, transposeA: true)
            let size = gram.shape[0]
            let eye = Tensor(shape: [size, size], scalars: (0..<size * size).map { $0 % (size + 1) == 0 ? 1 : 0 })
            let off = try (try gram * (1 - eye)).abs()
            return try off.sum() * (factor("factor") / Float(Swift.max(1, size * size - size)))
        }
    }
}

/// A weight constraint applied after each optimizer step (`MaxNorm`,
/// `MinMaxNorm`, `NonNeg`, `UnitNorm`).
public struct Constraint: Equatable {
    public var className: String
    public var config: JSONObject

    public init(json: JSONValue, layer: String, key: String) throws {
        func fail() -> LayerError { .badConfig(layer: layer, "unknown constraint \(json.serialized()) for '\(key)'") }
        let aliases = ["max_norm": "MaxNorm", "min_max_norm": "MinMaxNorm", "non_neg": "NonNeg", "unit_norm": "UnitNorm"]
        if let name = json.stringValue, let cls = aliases[name] {
            self.className = cls
            self.config = JSONObject()
        } else if let cls = json["class_name"]?.stringValue, aliases.values.contains(cls) {
            self.className = cls
            self.config = json["config"]?.objectValue ?? JSONObject()
        } else {
            throw fail()
        }
    }

    public var json: JSONValue {
        .object(["module": "keras.constraints", "class_name": .string(className), "config": .object(config), "registered_name": nil])
    }

    /// The constrained value of `w` (no gradient).
    public func apply(_ w: Tensor) throws -> Tensor {
        try withoutGradient {
            if className == "NonNeg" { return try w * Tensor.greater(w, Tensor(0)) }
            let axes = config["axis"].map { $0.intValue.map { [$0] } ?? ($0.arrayValue ?? []).compactMap { $0.intValue } } ?? [0]
            let norms = try w.square().sum(axes: axes, keepDims: true).sqrt()
            let eps: Float = 1e-7
            switch className {
            case "MaxNorm":
                let m = Float(config["max_value"]?.doubleValue ?? 2)
                return try w * (try norms.clip(0, m) / (norms + eps))
            case "MinMaxNorm":
                let lo = Float(config["min_value"]?.doubleValue ?? 0), hi = Float(config["max_value"]?.doubleValue ?? 1)
                let rate = Float(config["rate"]?.doubleValue ?? 1)
                let desired = try (norms.clip(lo, hi) * rate) + (norms * (1 - rate))
                return try w * (try desired / (norms + eps))
            default:
                return try w / (norms + eps)
            }
        }
    }
}
