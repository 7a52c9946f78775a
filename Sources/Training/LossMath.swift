import Tensor

// Shape and reduction helpers shared by losses and metrics, following
// keras/src/losses/loss.py.

/// Keras's `backend.epsilon()`.
let kerasEpsilon: Float = 1e-7
/// `1.0 - backend.epsilon()`, rounded to `float32` once, as TensorFlow does.
let oneMinusEpsilon = Float(1.0 - 1e-7)

/// `squeeze_or_expand_to_same_rank`: when the ranks differ by one and the
/// longer tensor ends in 1, squeeze it — or, if the shorter one is rank 1 and
/// `expandRank1`, expand that instead.
func squeezeOrExpand(_ x1: Tensor, _ x2: Tensor, expandRank1: Bool = true) throws -> (Tensor, Tensor) {
    var (a, b) = (x1, x2)
    if a.rank == b.rank + 1, a.shape.last == 1 {
        if b.rank == 1 && expandRank1 { b = try b.expandingDims(at: -1) } else { a = try a.squeezed(axes: [-1]) }
    }
    if b.rank == a.rank + 1, b.shape.last == 1 {
        if a.rank == 1 && expandRank1 { a = try a.expandingDims(at: -1) } else { b = try b.squeezed(axes: [-1]) }
    }
    return (a, b)
}

/// Keras's `_get_logits`: a softmax or sigmoid output that kept its logits
/// (``Tensor/kerasLogits``) is replaced by them, and then counts as logits.
func kerasLogits(_ output: Tensor, fromLogits: Bool) -> (Tensor, fromLogits: Bool) {
    if let logits = output.kerasLogits { return (logits, true) }
    return (output, fromLogits)
}

/// `x / y`, or 0 where `y` is 0 (`divide_no_nan`), for a scalar divisor.
func divideNoNan(_ x: Tensor, _ y: Float) -> Tensor {
    y == 0 ? x * 0 : x / y
}

/// How a loss reduces its per-sample values (`reduction`).
public enum LossReduction: String, Sendable {
    /// Sum divided by the number of values (Keras's default).
    case sumOverBatchSize = "sum_over_batch_size"
    case sum
    /// No reduction: the per-sample values.
    case none
    case mean
    /// Sum divided by the sum of the sample weights.
    case meanWithSampleWeight = "mean_with_sample_weight"

    /// Reads a Keras reduction; tf-keras's `"auto"` means the default.
    init(keras name: String?, owner: String) throws {
        guard let name else { self = .none; return }
        if name == "auto" { self = .sumOverBatchSize; return }
        guard let r = LossReduction(rawValue: name) else {
            throw TrainingError.badConfig("\(owner): unknown reduction '\(name)'")
        }
        self = r
    }
}

/// `apply_mask`: folds a 0/1 mask into the sample weights. For mean-like
/// reductions valid entries weigh `total / valid`, so the mean is over them.
func applyMask(_ sampleWeight: Tensor?, _ mask: Tensor?, reduction: LossReduction) throws -> Tensor? {
    guard let mask else { return sampleWeight }
    var floatMask = mask
    if reduction == .mean || reduction == .sumOverBatchSize {
        let valid = mask.scalars.reduce(0, +)
        let weight = valid == 0 ? 0 : Float(mask.count) / valid
        floatMask = mask * weight
    }
    guard let sampleWeight else { return floatMask }
    let (m, w) = try squeezeOrExpand(floatMask, sampleWeight)
    return try w * m
}

/// `reduce_weighted_values`: weights (and mask) the per-sample values, then reduces.
func reduceWeightedValues(_ values: Tensor, sampleWeight: Tensor?, mask: Tensor?, reduction: LossReduction) throws -> Tensor {
    var values = values
    let weights = try applyMask(sampleWeight, mask, reduction: reduction)
    if let weights {
        let (v, w) = try squeezeOrExpand(values, weights)
        values = try v * w
    }
    if reduction == .none || values.shape.isEmpty || values.shape == [0] { return values }
    let total = try values.sum()
    switch reduction {
    case .sum, .none:
        return total
    case .meanWithSampleWeight where weights != nil:
        return divideNoNan(total, weights!.scalars.reduce(0, +))
    default:
        return divideNoNan(total, Float(values.count))
    }
}

extension Tensor {
    /// 1 where `self ≥ 0`, else 0 (no gradient).
    var nonNegativeMask: Tensor { Tensor(shape: shape, scalars: scalars.map { $0 >= 0 ? 1 : 0 }) }
}
