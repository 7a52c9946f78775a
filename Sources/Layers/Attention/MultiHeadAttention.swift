import Foundation
import Tensor

/// `keras.layers.MultiHeadAttention`: `query`, `value` and (optionally)
/// `key` are projected by `EinsumDense` sublayers `query`, `key`, `value`
/// into `num_heads` heads of `key_dim` (`value_dim`) features, attend over
/// `attention_axes` (by default every axis between the batch and the
/// features) with scores scaled by 1/√key_dim, and the heads are projected
/// back by `attention_output` to the query's features (or `output_shape`).
///
/// Inputs are `[query, value]` or `[query, value, key]`, then the
/// `attention_mask` tensor when the call passed one. Call arguments:
/// `use_causal_mask`, `return_attention_scores` (a second output, the scores
/// `[batch, heads, Tq…, Tv…]`). The masks of the query, value and key, the
/// causal mask, the sliding window and `attention_mask` are combined with AND.
/// A query row with every key masked attends uniformly, except in Keras 3's
/// `Softmax` path (dropout, returned scores, or inputs not of rank 3), which
/// zeroes it. Dropout acts only in training and is not applied here.
public final class MultiHeadAttention: Layer {
    /// Its public properties `key_dense`, … name the projections (`_softmax`, `_dropout_layer` hold no variables).
    public override func saveableChildren() throws -> [(name: String, child: SaveableChild)] {
        [("key_dense", .layer(keyDense)), ("output_dense", .layer(outputDense)),
         ("query_dense", .layer(queryDense)), ("value_dense", .layer(valueDense))]
    }
    /// `build(query_shape, value_shape, key_shape)`; an attention mask is no built shape.
    public override func namedBuildShapes(_ shapes: [Shape]) -> JSONObject? {
        let tensors = callArguments["attention_mask"] != nil ? shapes.dropLast() : shapes[...]
        guard tensors.count >= 2 else { return nil }
        var named: JSONObject = ["query_shape": JSONValue(shape: tensors[tensors.startIndex]),
                                 "value_shape": JSONValue(shape: tensors[tensors.startIndex + 1])]
        if tensors.count > 2 { named["key_shape"] = JSONValue(shape: tensors[tensors.startIndex + 2]) }
        return named
    }

    public let numHeads: Int
    public let keyDim: Int
    public let valueDim: Int
    public let dropout: Float
    public let useBias: Bool
    /// The output's feature axes, nil for the query's last axis.
    public let outputShape: [Int]?
    /// The axes attention runs over, as configured (nil: all but batch and features).
    public let attentionAxes: [Int]?
    public let slidingWindow: Int?
    public var kernelOptions: WeightOptions
    public var biasOptions: WeightOptions
    /// Whether the config was written by tf-keras (masked rows, see the type).
    let keras2: Bool
    public private(set) var queryDense: EinsumDense!
    public private(set) var keyDense: EinsumDense!
    public private(set) var valueDense: EinsumDense!
    public private(set) var outputDense: EinsumDense!

    public override class var callArgumentKeys: [String] { ["use_causal_mask", "return_attention_scores"] }
    public override class var tensorCallArgumentKeys: [String] { ["attention_mask"] }
    public override class var positionalCallArgumentKeys: [String] { ["value", "key"] }

    public convenience init(numHeads: Int, keyDim: Int, valueDim: Int? = nil, useBias: Bool = true,
                            outputShape: [Int]? = nil, attentionAxes: [Int]? = nil, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "num_heads": .int(numHeads), "key_dim": .int(keyDim), "value_dim": valueDim.map { .int($0) } ?? .null,
            "use_bias": .bool(useBias), "output_shape": outputShape.map { JSONValue(ints: $0) } ?? .null,
            "attention_axes": attentionAxes.map { JSONValue(ints: $0) } ?? .null,
        ]))
    }

    public required init(config: LayerConfig) throws {
        numHeads = try config.int("num_heads")
        keyDim = try config.int("key_dim")
        valueDim = try config.int("value_dim", default: keyDim)
        guard numHeads > 0 else { throw config.fail("num_heads", "a positive integer") }
        guard keyDim > 0, valueDim > 0 else { throw config.fail("key_dim", "a positive integer") }
        dropout = try config.float("dropout", default: 0)
        useBias = try config.bool("use_bias", default: true)
        if let n = config["output_shape"]?.intValue {
            outputShape = [n]
        } else {
            outputShape = config.has("output_shape") ? try config.intList("output_shape") : nil
        }
        if let a = config["attention_axes"]?.intValue {
            attentionAxes = [a]
        } else {
            attentionAxes = config.has("attention_axes") ? try config.intList("attention_axes") : nil
        }
        slidingWindow = config.has("sliding_window") ? try config.int("sliding_window") : nil
        if try config.bool("use_gate", default: false) { throw config.fail("use_gate", "false (gated attention is not supported)") }
        kernelOptions = try WeightOptions(config: config, prefix: "kernel", defaultInitializer: .glorotUniform)
        biasOptions = try WeightOptions(config: config, prefix: "bias", defaultInitializer: .zeros)
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["num_heads"] = .int(numHeads)
        c["key_dim"] = .int(keyDim)
        c["value_dim"] = .int(valueDim)
        c["dropout"] = JSONValue(dropout)
        c["use_bias"] = .bool(useBias)
        c["output_shape"] = outputShape.map { JSONValue(ints: $0) } ?? .null
        c["attention_axes"] = attentionAxes.map { JSONValue(ints: $0) } ?? .null
        kernelOptions.write(to: &c, prefix: "kernel")
        biasOptions.write(to: &c, prefix: "bias")
        return c
    }

    public override var sublayers: [Layer] { [queryDense, keyDense, valueDense, outputDense].compactMap { $0 } }

    public override var supportsMasking: Bool { true }

    private var hasAttentionMask: Bool { callArguments["attention_mask"]?.boolValue == true }
    private var useCausalMask: Bool { callArguments["use_causal_mask"]?.boolValue == true }
    private var returnScores: Bool { callArguments["return_attention_scores"]?.boolValue == true }

    /// The query, value and key shapes, and the attention mask's when passed.
    private func split<T>(_ inputs: [T]) throws -> (query: T, value: T, key: T, mask: T?) {
        let tensors = hasAttentionMask ? inputs.dropLast() : inputs[...]
        guard (2...3).contains(tensors.count) else {
            throw LayerError.shapeMismatch(layer: name, "takes query, value, an optional key and an optional attention_mask, "
                                           + "got \(inputs.count) inputs")
        }
        return (tensors[0], tensors[1], tensors.count > 2 ? tensors[2] : tensors[1], hasAttentionMask ? inputs.last : nil)
    }

    /// Keras's `_build_proj_equation`: `free` axes kept, `bound` contracted, `output` new.
    private static func projection(free: Int, bound: Int, output: Int) -> (equation: String, biasAxes: String, rank: Int) {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let kept = String(letters[0..<free]), contracted = String(letters[free..<free + bound])
        let new = String(letters[free + bound..<free + bound + output])
        return ("\(kept)\(contracted),\(contracted)\(new)->\(kept)\(new)", new, free + output)
    }

    private func dense(_ name: String, free: Int, bound: Int, features: [Int]) throws -> EinsumDense {
        let p = Self.projection(free: free, bound: bound, output: features.count)
        var c: JSONObject = [
            "name": .string(name), "equation": .string(p.equation), "activation": "linear",
            "output_shape": JSONValue(shape: [Int?](repeating: nil, count: p.rank - 1 - features.count) + features.map { $0 }),
            "bias_axes": useBias ? .string(p.biasAxes) : .null, "dtype": dtype,
        ]
        kernelOptions.write(to: &c, prefix: "kernel")
        biasOptions.write(to: &c, prefix: "bias")
        return try EinsumDense(config: LayerConfig(c))
    }

    public override func build(_ inputShapes: [Shape]) throws {
        let (q, v, k, _) = try split(inputShapes)
        guard Array(v.dropFirst().dropLast()) == Array(k.dropFirst().dropLast()) else {
            throw LayerError.shapeMismatch(layer: name, "value and key must agree on every axis but the last: "
                                           + "\(formatShape(v)) vs \(formatShape(k))")
        }
        guard let features = q.last ?? nil, q.count >= 3 else {
            throw LayerError.shapeMismatch(layer: name, "the query must have rank 3 or more and known features, got \(formatShape(q))")
        }
        queryDense = try dense("query", free: q.count - 1, bound: 1, features: [numHeads, keyDim])
        try queryDense.buildIfNeeded([q])
        keyDense = try dense("key", free: k.count - 1, bound: 1, features: [numHeads, keyDim])
        try keyDense.buildIfNeeded([k])
        valueDense = try dense("value", free: v.count - 1, bound: 1, features: [numHeads, valueDim])
        try valueDense.buildIfNeeded([v])
        outputDense = try dense("attention_output", free: q.count - 1, bound: 2, features: outputShape ?? [features])
        try outputDense.buildIfNeeded([Array(q.dropLast()) + [numHeads, valueDim]])
        _ = try plan(rank: q.count + 1)
    }

    /// The attention equations of Keras's `_build_attention_equation` for
    /// projected tensors of `rank` (`[batch, …, heads, features]`), and the
    /// axes the softmax normalizes.
    private func plan(rank: Int) throws -> (dot: ([Character], [Character], [Character]), combine: ([Character], [Character], [Character]),
                                             axes: [Int], normAxes: [Int]) {
        let axes = try (attentionAxes ?? Array(1..<(rank - 2))).map { a -> Int in
            let r = a < 0 ? rank - 1 + a : a
            guard r > 0, r < rank - 2 else { throw LayerError.badConfig(layer: name, "attention axis \(a) is out of range") }
            return r
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let target = Array(letters[0..<rank])
        let batchDims = (0..<rank).filter { !axes.contains($0) && $0 != rank - 1 }
        var source: [Character] = []
        var offset = rank
        for i in 0..<rank {
            if batchDims.contains(i) || i == rank - 1 { source.append(target[i]) } else { source.append(letters[offset]); offset += 1 }
        }
        let product = batchDims.map { target[$0] } + axes.map { target[$0] } + axes.map { source[$0] }
        return ((source, target, product), (product, source, target), axes, Array((product.count - axes.count)..<product.count))
    }

    public override func computeOutputShapes(_ inputShapes: [Shape]) throws -> [Shape] {
        let (q, v, _, _) = try split(inputShapes)
        let output = outputShape.map { Array(q.dropLast()) + $0.map { Optional($0) } } ?? q
        guard returnScores else { return [output] }
        let p = try plan(rank: q.count + 1)
        // [batch…, heads, query attention axes…, key attention axes…], by the product labels.
        let projectedQuery: Shape = Array(q.dropLast()) + [numHeads, keyDim]
        let projectedKey: Shape = Array(v.dropLast()) + [numHeads, keyDim]
        let scores: Shape = p.dot.2.map { label in
            if let i = p.dot.1.firstIndex(of: label) { return projectedQuery[i] }
            return projectedKey[p.dot.0.firstIndex(of: label)!]
        }
        return [output, scores]
    }

    public override func call(_ inputs: [Tensor], training: Bool) throws -> [Tensor] {
        try call(inputs, masks: inputs.map { _ in nil }, training: training)
    }

    public override func call(_ inputs: [Tensor], masks: [Tensor?], training: Bool) throws -> [Tensor] {
        let (q, v, k, given) = try split(inputs)
        let (queryMask, valueMask, keyMask, _) = try split(masks)
        // `_compute_attention_mask`: the query mask [B, T, 1], value and key masks [B, 1, S],
        // the causal mask [1, T, S] and the sliding window, AND the given mask.
        var mask: Tensor?
        func and(_ m: Tensor) throws { mask = try mask.map { try $0 * m } ?? m }
        if let queryMask { try and(try queryMask.expandingDims(at: -1)) }
        if let valueMask { try and(try valueMask.expandingDims(at: -2)) }
        if let keyMask, inputs.count - (hasAttentionMask ? 1 : 0) > 2 { try and(try keyMask.expandingDims(at: -2)) }
        let (t, s) = (q.shape[1], v.shape[1])
        if useCausalMask { try and(try causalMask(queries: t, keys: s).expandingDims(at: 0)) }
        if let w = slidingWindow { try and(Tensor(shape: [1, t, s], scalars: (0..<t * s).map { Swift.abs($0 / s - $0 % s) < w ? 1 : 0 })) }
        if let given { try and(try Tensor.greater(given.abs(), Tensor(0))) }

        let query = try queryDense(q) * (1 / Float(keyDim).squareRoot())
        let key = try keyDense(k), value = try valueDense(v)
        let p = try plan(rank: query.rank)
        var scores = try Tensor.einsum(key, p.dot.0, query, p.dot.1, output: p.dot.2)
        if var m = mask {
            // Keras inserts the heads (and non-attention) axes before the attention axes.
            while m.rank < scores.rank { m = try m.expandingDims(at: m.rank - 2 * p.axes.count) }
            mask = m
            scores = try Tensor.where(m, scores, Tensor(-1e9))
        }
        var weights: Tensor
        if p.normAxes.count == 1 {
            weights = try scores.softmax(axis: p.normAxes[0])
        } else {
            let e = try (scores - (try scores.max(axes: p.normAxes, keepDims: true)).detached).exp()
            weights = try e / (try e.sum(axes: p.normAxes, keepDims: true))
        }
        // Keras 3's `Softmax` layer zeroes rows with every key masked; its fused
        // `dot_product_attention` (no dropout, no scores returned, rank-4 heads) does not.
        let softmaxLayerPath = dropout > 0 || returnScores || query.rank != 4
        if let m = mask, !keras2, softmaxLayerPath { weights = try Tensor.where(m, weights, Tensor(0)) }
        let attended = try Tensor.einsum(weights, p.combine.0, value, p.combine.1, output: p.combine.2)
        let output = try outputDense(attended)
        return returnScores ? [output, weights] : [output]
    }

    /// The output's mask is the query's, as Keras sets it.
    public override func computeMask(_ inputs: [Tensor], masks: [Tensor?]) throws -> [Tensor?] {
        [masks.first ?? nil, nil]
    }
}
