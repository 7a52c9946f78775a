import Tensor

/// The base of `keras.layers.Attention` and `AdditiveAttention` (Keras's
/// `BaseDenseAttention` in tf-keras): inputs `[query, value]` or
/// `[query, value, key]` of shapes `[batch…, Tq, dim]` and `[batch…, Tv, dim]`,
/// scores `[batch…, Tq, Tv]`, softmax over `Tv`, output `[batch…, Tq, dim_v]`.
///
/// Call arguments: `use_causal_mask` (tf-keras's `causal` config key means
/// the same) and `return_attention_scores`, which adds the softmaxed scores
/// as a second output. Masks: the value's mask removes keys (their scores
/// lose 1e9), the query's mask zeroes output rows and is the output's mask.
/// Dropout acts only in training and is not applied here.
public class BaseDenseAttention: Layer {
    public let dropout: Float
    /// tf-keras's deprecated `causal` config key.
    let causal: Bool

    public override class var callArgumentKeys: [String] { ["use_causal_mask", "return_attention_scores"] }

    public required init(config: LayerConfig) throws {
        dropout = try config.float("dropout", default: 0)
        causal = try config.bool("causal", default: false)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["dropout"] = JSONValue(dropout)
        return c
    }

    var useCausalMask: Bool { causal || callArguments["use_causal_mask"]?.boolValue == true }
    var returnScores: Bool { callArguments["return_attention_scores"]?.boolValue == true }

    /// The scores `[batch…, Tq, Tv]` of `query` against `key`.
    func scores(query: Tensor, key: Tensor) throws -> Tensor { preconditionFailure("\(Self.self) must override scores") }

    public override var supportsMasking: Bool { true }

    private func check(_ shapes: [Shape]) throws {
        guard (2...3).contains(shapes.count) else {
            throw LayerError.shapeMismatch(layer: name, "\(Self.className) takes [query, value] or [query, value, key], got \(shapes.count) inputs")
        }
        guard shapes.allSatisfy({ $0.count >= 3 }) else {
            throw LayerError.shapeMismatch(layer: name, "inputs must have rank 3 or more, got \(shapes.map(formatShape).joined(separator: ", "))")
        }
    }

    public override func build(_ inputShapes: [Shape]) throws { try check(inputShapes) }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        try check(inputShapes)
        let (q, v) = (inputShapes[0], inputShapes[1])
        let key = inputShapes.count > 2 ? inputShapes[2] : v
        let output = Array(q.dropLast()) + [v.last!]
        return returnScores ? [output, Array(q.dropLast()) + [key[key.count - 2]]] : [output]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: inputs.map { _ in nil }, training: training)
    }

    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        let (q, v) = (inputs[0], inputs[1])
        let k = inputs.count > 2 ? inputs[2] : v
        var scores = try scores(query: q, key: k)
        // Keras's `_calculate_score_mask`: the value mask, and the causal mask row ≥ column.
        var scoresMask = try masks.count > 1 ? masks[1]?.expandingDims(at: -2) : nil
        if useCausalMask {
            let causal = causalMask(queries: scores.shape[scores.rank - 2], keys: scores.shape[scores.rank - 1])
            scoresMask = try scoresMask.map { try $0 * causal } ?? causal
        }
        if let scoresMask { scores = try scores - (1 - scoresMask) * 1e9 }
        let weights = try scores.softmax(axis: -1)
        var output = try Tensor.matmul(weights, v)
        if let queryMask = masks.first ?? nil { output = try output * queryMask.expandingDims(at: -1) }
        return returnScores ? [output, weights] : [output]
    }
}

/// `keras.layers.Attention`: dot-product (Luong) attention. Scores are
/// `query · keyᵀ` (`score_mode="dot"`), times the scalar `scale` weight when
/// `use_scale`; or `concat_score_weight · Σ tanh(scale · (query + key))`
/// over the features (`score_mode="concat"`).
public final class Attention: BaseDenseAttention {
    public let useScale: Bool
    public let scoreMode: String
    public private(set) var scale: Variable?
    public private(set) var concatScoreWeight: Variable?

    public convenience init(useScale: Bool = false, scoreMode: String = "dot", name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["use_scale": .bool(useScale), "score_mode": .string(scoreMode)]))
    }

    public required init(config: LayerConfig) throws {
        useScale = try config.bool("use_scale", default: false)
        scoreMode = try config.choice("score_mode", ["dot", "concat"], default: "dot")
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["use_scale"] = .bool(useScale)
        c["score_mode"] = .string(scoreMode)
        return c
    }

    public override func build(_ inputShapes: [Shape]) throws {
        try super.build(inputShapes)
        if useScale { scale = try addWeight(name: "scale", shape: [], initializer: .ones) }
        if scoreMode == "concat" { concatScoreWeight = try addWeight(name: "concat_score_weight", shape: [], initializer: .ones) }
    }

    override func scores(query: Tensor, key: Tensor) throws -> Tensor {
        if scoreMode == "dot" {
            let s = try Tensor.matmul(query, key, transposeB: true)
            return try scale.map { try s * $0.read() } ?? s
        }
        var sum = try query.expandingDims(at: -2) + key.expandingDims(at: -3)
        if let scale { sum = try sum * scale.read() }
        return try sum.tanh().sum(axes: [sum.rank - 1]) * concatScoreWeight!.read()
    }
}

/// `keras.layers.AdditiveAttention`: Bahdanau attention, scores
/// `Σ scale · tanh(query + key)` over the features, with the `scale` vector
/// weight (`[dim]`) when `use_scale`.
public final class AdditiveAttention: BaseDenseAttention {
    public let useScale: Bool
    public private(set) var scale: Variable?

    public convenience init(useScale: Bool = true, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["use_scale": .bool(useScale)]))
    }

    public required init(config: LayerConfig) throws {
        useScale = try config.bool("use_scale", default: true)
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["use_scale"] = .bool(useScale)
        return c
    }

    public override func build(_ inputShapes: [Shape]) throws {
        try super.build(inputShapes)
        guard let dim = inputShapes[0].last ?? nil else {
            throw LayerError.shapeMismatch(layer: name, "the query's last axis must be known, got \(formatShape(inputShapes[0]))")
        }
        if useScale { scale = try addWeight(name: "scale", shape: [dim], initializer: .glorotUniform) }
    }

    override func scores(query: Tensor, key: Tensor) throws -> Tensor {
        var t = try (query.expandingDims(at: -2) + key.expandingDims(at: -3)).tanh()
        if let scale { t = try t * scale.read() }
        return try t.sum(axes: [t.rank - 1])
    }
}

/// The `[queries, keys]` mask that lets query `i` see keys `0…i` (Keras's
/// `use_causal_mask`): 1 where row ≥ column.
func causalMask(queries: Int, keys: Int) -> Tensor {
    Tensor(shape: [queries, keys], scalars: (0..<queries * keys).map { $0 / keys >= $0 % keys ? 1 : 0 })
}
