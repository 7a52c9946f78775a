import Layers
import Tensor

/// What a calibrated step is a multiple of.
public enum CalibrationStatistic: String, CaseIterable {
    /// The mean |activation|.
    case activations
    /// The mean |frame-to-frame change| of the activations, within clips: a
    /// step of α times it leaves roughly 1/α of the changes (for α > 1).
    case changes
}

/// Sets each delta layer's step from data (DELTA_SPEC.md § The layer,
/// calibration): `scale` × the mean |activation| (or |change|, see
/// `statistic`) of each threshold's elements (per channel, per layer or per
/// neuron, as the layer's granularity says), measured on `data` with
/// quantization off. A threshold whose statistic is zero keeps its value.
///
/// - Returns: the new thresholds, by delta layer name.
@discardableResult
public func calibrateThresholds(_ model: Model, on data: ClipSet, scale: Double, statistic: CalibrationStatistic = .activations,
                                clipsPerBatch: Int = 4) throws -> [String: Tensor] {
    guard scale.isFinite, scale > 0 else { throw DeltaError.badArgument("scale", "must be a positive number, got \(scale)") }
    let deltas = model.executionOrder.compactMap { $0.layer as? DeltaActivation }
    guard !deltas.isEmpty else { throw DeltaError.badArgument("model", "'\(model.name)' holds no DeltaActivation layer") }
    let saved = deltas.map { $0.threshold.value }
    var sums: [ObjectIdentifier: [Double]] = [:], counts: [ObjectIdentifier: Int] = [:]
    do {
        // Quantization off: the floor step leaves every activation as it is, to float precision.
        for d in deltas { try d.threshold.assign(Tensor(repeating: DeltaActivation.stepFloor, shape: d.threshold.shape)) }
        try data.runDeltaModel(model, clipsPerBatch: clipsPerBatch, visit: { d, x, _, clips in
            let period = d.threshold.value.count
            var s = sums[ObjectIdentifier(d), default: [Double](repeating: 0, count: period)]
            switch statistic {
            case .activations:
                for (i, v) in x.scalars.enumerated() { s[i % period] += Double(Swift.abs(v)) }
                counts[ObjectIdentifier(d), default: 0] += x.count / period
            case .changes:
                // Frames as batch or an explicit time axis alike: each clip is `frames` runs of `frame` elements.
                let frames = d.clipLength == nil ? x.shape[1] : x.shape[0] / clips
                let frame = x.count / (clips * frames)
                x.scalars.withUnsafeBufferPointer { v in
                    for c in 0..<clips {
                        for t in 1..<Swift.max(1, frames) {
                            let now = (c * frames + t) * frame, before = now - frame
                            for j in 0..<frame { s[j % period] += Double(Swift.abs(v[now + j] - v[before + j])) }
                        }
                    }
                }
                counts[ObjectIdentifier(d), default: 0] += clips * Swift.max(0, frames - 1) * frame / period
            }
            sums[ObjectIdentifier(d)] = s
        })
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
