import Layers
import Tensor

/// Sets each delta layer's step from data (DELTA_SPEC.md § The layer,
/// calibration): `scale` × the mean |activation| of each threshold's elements
/// (per channel, per layer or per neuron, as the layer's granularity says),
/// measured on `data` with quantization off. A threshold whose activations
/// are all zero keeps its value.
///
/// - Returns: the new thresholds, by delta layer name.
@discardableResult
public func calibrateThresholds(_ model: Model, on data: ClipSet, scale: Double, clipsPerBatch: Int = 4) throws -> [String: Tensor] {
    guard scale.isFinite, scale > 0 else { throw DeltaError.badArgument("scale", "must be a positive number, got \(scale)") }
    let deltas = model.executionOrder.compactMap { $0.layer as? DeltaActivation }
    guard !deltas.isEmpty else { throw DeltaError.badArgument("model", "'\(model.name)' holds no DeltaActivation layer") }
    let saved = deltas.map { $0.threshold.value }
    var sums: [ObjectIdentifier: [Double]] = [:], counts: [ObjectIdentifier: Int] = [:]
    do {
        // Quantization off: the floor step leaves every activation as it is, to float precision.
        for d in deltas { try d.threshold.assign(Tensor(repeating: DeltaActivation.stepFloor, shape: d.threshold.shape)) }
        try data.runDeltaModel(model, clipsPerBatch: clipsPerBatch) { d, x, _, _ in
            let period = d.threshold.value.count
            var s = sums[ObjectIdentifier(d), default: [Double](repeating: 0, count: period)]
            for (i, v) in x.scalars.enumerated() { s[i % period] += Double(Swift.abs(v)) }
            sums[ObjectIdentifier(d)] = s
            counts[ObjectIdentifier(d), default: 0] += x.count / period
        }
    } catch {
        for (d, t) in zip(deltas, saved) { try d.threshold.assign(t) }
        throw error
    }
    var result: [String: Tensor] = [:]
    for (d, old) in zip(deltas, saved) {
        let n = Double(Swift.max(1, counts[ObjectIdentifier(d)] ?? 0))
        let means = sums[ObjectIdentifier(d)] ?? []
        let steps = old.scalars.indices.map { i -> Float in
            let m = i < means.count ? means[i] / n : 0
            return m > 0 ? Float(scale * m) : old.scalars[i]
        }
        let t = Tensor(shape: old.shape, scalars: steps)
        try d.threshold.assign(t)
        result[d.name] = t
    }
    return result
}
