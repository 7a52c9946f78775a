import Foundation
import Layers
import Tensor

/// Area under the ROC or precision-recall curve, from confusion counts at
/// fixed thresholds (`keras.metrics.AUC`, single-label).
///
/// With `numThresholds` the thresholds are `i/(n−1)` for `i = 1…n−2` plus
/// `−ε` and `1+ε`, and predictions fall into buckets as in Keras's optimized
/// path; the area uses Keras's summation (`interpolation` with the
/// Davis–Goadrich interpolation for PR, `minoring`, `majoring`).
public final class AUC: Metric {
    public enum Curve: String, Sendable { case roc = "ROC", pr = "PR" }
    public enum Summation: String, Sendable { case interpolation, minoring, majoring }

    public let numThresholds: Int
    public let curve: Curve
    public let summationMethod: Summation
    public let fromLogits: Bool
    /// The user's thresholds (without the end points), when given.
    public let userThresholds: [Double]?
    /// All thresholds in `float32`, end points included.
    public let thresholds: [Float]
    private let evenlyDistributed: Bool
    private var tp: [Float], fp: [Float], tn: [Float], fn: [Float]

    public override var direction: Direction? { .up }

    public init(numThresholds: Int = 200, curve: Curve = .roc, summationMethod: Summation = .interpolation,
                name: String? = nil, thresholds: [Double]? = nil, fromLogits: Bool = false) throws {
        guard thresholds != nil || numThresholds > 1 else {
            throw TrainingError.invalidArgument("AUC: numThresholds must be > 1, got \(numThresholds)")
        }
        var inner: [Double]
        if let thresholds {
            inner = thresholds.sorted()
            self.numThresholds = inner.count + 2
            let n = inner.count + 2
            let all = [0.0] + inner + [1.0]
            evenlyDistributed = n >= 3 && all.enumerated().allSatisfy { i, t in
                let even = Double(Float(i) / Float(n - 1))
                return Swift.abs(t - even) <= 1e-7 + 1e-5 * Swift.abs(even)   // np.allclose(atol=ε)
            }
        } else {
            inner = (0..<(numThresholds - 2)).map { Double($0 + 1) * 1.0 / Double(numThresholds - 1) }
            self.numThresholds = numThresholds
            evenlyDistributed = true
        }
        self.userThresholds = thresholds
        self.thresholds = ([0.0 - 1e-7] + inner + [1.0 + 1e-7]).map { Float($0) }
        self.curve = curve
        self.summationMethod = summationMethod
        self.fromLogits = fromLogits
        let zeros = [Float](repeating: 0, count: self.numThresholds)
        (tp, fp, tn, fn) = (zeros, zeros, zeros, zeros)
        super.init(name: name ?? NameScope.unique(for: "AUC"))
    }

    convenience init(config c: ObjectConfig) throws {
        if try c.bool("multi_label", default: false) { throw TrainingError.unsupported("\(c.owner): multi_label=true") }
        if c.has("label_weights") { throw TrainingError.unsupported("\(c.owner): label_weights") }
        c.ignore("num_labels")
        guard let curve = Curve(rawValue: try c.string("curve", default: "ROC").uppercased()) else {
            throw TrainingError.badConfig("\(c.owner): curve must be ROC or PR")
        }
        guard let summation = Summation(rawValue: try c.string("summation_method", default: "interpolation").lowercased()) else {
            throw TrainingError.badConfig("\(c.owner): summation_method must be interpolation, minoring or majoring")
        }
        let thresholds = c.has("thresholds") ? try c.doubles("thresholds") : nil
        let n = try c.int("num_thresholds", default: 200)
        guard thresholds != nil || n > 1 else { throw TrainingError.badConfig("\(c.owner): num_thresholds must be > 1") }
        try self.init(numThresholds: n, curve: curve, summationMethod: summation,
                  name: c.has("name") ? try c.string("name", default: "auc") : nil, thresholds: thresholds,
                  fromLogits: try c.bool("from_logits", default: false))
    }

    public override func update(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor? = nil) throws {
        try withoutGradient {
            var p = fromLogits ? yPred.detached.sigmoid() : yPred.detached
            var t = yTrue.detached
            (p, t) = try squeezeOrExpand(p, t)
            var weights = [Float](repeating: 1, count: p.count)
            if let sampleWeight {
                var w = try sampleWeight.detached.expandingDims(at: -1)
                (_, w) = try squeezeOrExpand(t, w, expandRank1: false)
                weights = try w.broadcast(to: p.shape).scalars
            }
            guard t.count == p.count else {
                throw TrainingError.invalidData("AUC '\(name)': targets of shape \(t.shape) and predictions of shape \(p.shape) differ")
            }
            let labels = t.scalars.map { $0 != 0 ? Float(1) : 0 }
            if evenlyDistributed { accumulateBuckets(labels, p.scalars, weights) } else { accumulateThresholds(labels, p.scalars, weights) }
        }
    }

    /// Keras's `_update_confusion_matrix_variables_optimized`.
    private func accumulateBuckets(_ labels: [Float], _ predictions: [Float], _ weights: [Float]) {
        let n = numThresholds
        var tpBucket = [Float](repeating: 0, count: n), fpBucket = [Float](repeating: 0, count: n)
        var totalTrue: Float = 0, totalFalse: Float = 0
        for i in labels.indices {
            let p = Swift.min(Swift.max(predictions[i], 0), 1)
            let bucket = Swift.max(Int((p * (Float(n) - 1)).rounded(.up) - 1), 0)
            let truePart = labels[i] * weights[i], falsePart = (1 - labels[i]) * weights[i]
            tpBucket[bucket] += truePart
            fpBucket[bucket] += falsePart
            totalTrue += truePart
            totalFalse += falsePart
        }
        var tpSum: Float = 0, fpSum: Float = 0
        for k in stride(from: n - 1, through: 0, by: -1) {
            tpSum += tpBucket[k]
            fpSum += fpBucket[k]
            tp[k] += tpSum
            fp[k] += fpSum
            tn[k] += totalFalse - fpSum
            fn[k] += totalTrue - tpSum
        }
    }

    /// The general path: one comparison per prediction and threshold.
    private func accumulateThresholds(_ labels: [Float], _ predictions: [Float], _ weights: [Float]) {
        for (k, threshold) in thresholds.enumerated() {
            for i in labels.indices {
                let positive = predictions[i] > threshold, isTrue = labels[i] != 0
                switch (isTrue, positive) {
                case (true, true): tp[k] += weights[i]
                case (false, true): fp[k] += weights[i]
                case (true, false): fn[k] += weights[i]
                case (false, false): tn[k] += weights[i]
                }
            }
        }
    }

    private func safeDivide(_ a: Float, _ b: Float) -> Float { b == 0 ? 0 : a / b }

    public override func result() -> Float {
        let n = numThresholds
        if curve == .pr && summationMethod == .interpolation { return interpolatedPRArea() }
        let recall = (0..<n).map { safeDivide(tp[$0], tp[$0] + fn[$0]) }
        let x: [Float], y: [Float]
        switch curve {
        case .roc:
            x = (0..<n).map { safeDivide(fp[$0], fp[$0] + tn[$0]) }
            y = recall
        case .pr:
            x = recall
            y = (0..<n).map { safeDivide(tp[$0], tp[$0] + fp[$0]) }
        }
        var area: Float = 0
        for i in 0..<(n - 1) {
            let height: Float
            switch summationMethod {
            case .interpolation: height = (y[i] + y[i + 1]) / 2
            case .minoring: height = Swift.min(y[i], y[i + 1])
            case .majoring: height = Swift.max(y[i], y[i + 1])
            }
            area += (x[i] - x[i + 1]) * height
        }
        return area
    }

    /// Keras's `interpolate_pr_auc` (Davis & Goadrich 2006).
    private func interpolatedPRArea() -> Float {
        var area: Float = 0
        for i in 0..<(numThresholds - 1) {
            let dtp = tp[i] - tp[i + 1]
            let p0 = tp[i] + fp[i], p1 = tp[i + 1] + fp[i + 1]
            let dp = p0 - p1
            let slope = safeDivide(dtp, Swift.max(dp, 0))
            let intercept = tp[i + 1] - slope * p1
            let ratio = p0 > 0 && p1 > 0 ? safeDivide(p0, Swift.max(p1, 0)) : 1
            area += safeDivide(slope * (dtp + intercept * Foundation.log(ratio)), Swift.max(tp[i + 1] + fn[i + 1], 0))
        }
        return area
    }

    public override func reset() {
        let zeros = [Float](repeating: 0, count: numThresholds)
        (tp, fp, tn, fn) = (zeros, zeros, zeros, zeros)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["num_thresholds"] = .int(numThresholds)
        c["curve"] = .string(curve.rawValue)
        c["summation_method"] = .string(summationMethod.rawValue)
        c["multi_label"] = false
        c["num_labels"] = .null
        c["label_weights"] = .null
        c["from_logits"] = .bool(fromLogits)
        if let userThresholds { c["thresholds"] = .array(userThresholds.sorted().map { .double($0) }) }
        return c
    }
}
