import Foundation
import Layers
import Tensor

/// The sparsity of one delta layer's output over a set of clips
/// (DELTA_SPEC.md § How sparsity is counted). MACs are per frame.
public struct LayerSparsity: Equatable {
    public var name: String
    public var fanOut: Double
    /// Output elements and the non-zero ones.
    public var elements = 0, nonZero = 0
    /// Frame-to-frame deltas (first frames excluded) and the non-zero ones.
    public var deltas = 0, nonZeroDeltas = 0
    /// Frames the outputs and the deltas span.
    public var frames = 0, deltaFrames = 0

    public init(name: String, fanOut: Double) { (self.name, self.fanOut) = (name, fanOut) }

    /// `nnz(y) / numel(y)`.
    public var activationDensity: Double { elements > 0 ? Double(nonZero) / Double(elements) : 0 }
    /// `nnz(Δ) / numel(Δ)`.
    public var deltaDensity: Double { deltas > 0 ? Double(nonZeroDeltas) / Double(deltas) : 0 }
    /// `numel(y) · fan_out` per frame.
    public var denseMACs: Double { frames > 0 ? Double(elements) * fanOut / Double(frames) : 0 }
    /// `nnz(y) · fan_out` per frame: a zero-skipping engine without deltas.
    public var spatialMACs: Double { frames > 0 ? Double(nonZero) * fanOut / Double(frames) : 0 }
    /// `nnz(Δ) · fan_out` per frame.
    public var deltaMACs: Double { deltaFrames > 0 ? Double(nonZeroDeltas) * fanOut / Double(deltaFrames) : 0 }
}

/// Per-layer and total sparsity of a delta model on clips, with its top-1
/// predictions and, where the clips have labels, its accuracy.
public struct SparsityReport {
    public var layers: [LayerSparsity]
    /// Top-1 class per clip (per-frame outputs are averaged over the clip).
    public var predictions: [Int]
    /// The fraction of clips whose prediction is their label; nil without labels.
    public var accuracy: Double?

    /// The layers' figures summed: densities over all elements, MACs per frame added.
    public var total: (activationDensity: Double, deltaDensity: Double, denseMACs: Double, spatialMACs: Double, deltaMACs: Double) {
        let (e, n, d, nd) = layers.reduce((0, 0, 0, 0)) { ($0.0 + $1.elements, $0.1 + $1.nonZero, $0.2 + $1.deltas, $0.3 + $1.nonZeroDeltas) }
        return (e > 0 ? Double(n) / Double(e) : 0, d > 0 ? Double(nd) / Double(d) : 0,
                layers.reduce(0) { $0 + $1.denseMACs }, layers.reduce(0) { $0 + $1.spatialMACs }, layers.reduce(0) { $0 + $1.deltaMACs })
    }

    /// The fraction of clips on which two reports predict the same class.
    public func agreement(with other: SparsityReport) throws -> Double {
        guard predictions.count == other.predictions.count, !predictions.isEmpty else {
            throw DeltaError.badData("agreement needs predictions on the same clips (\(predictions.count) and \(other.predictions.count))")
        }
        return Double(zip(predictions, other.predictions).filter { $0 == $1 }.count) / Double(predictions.count)
    }
}

/// Clips for a model: each `[T, H, W, C]`, and labels when known.
public struct ClipSet {
    public var clips: [Tensor]
    public var labels: [Int]?

    public init(clips: [Tensor], labels: [Int]? = nil) throws {
        guard let first = clips.first else { throw DeltaError.badData("no clips") }
        guard clips.allSatisfy({ $0.shape == first.shape }), first.rank >= 2 else {
            throw DeltaError.badData("clips must share one shape [frames, …], got \(Set(clips.map { $0.shape }).map { "\($0)" }.sorted())")
        }
        if let labels, labels.count != clips.count {
            throw DeltaError.badData("\(labels.count) labels for \(clips.count) clips")
        }
        (self.clips, self.labels) = (clips, labels)
    }

    public var framesPerClip: Int { clips[0].shape[0] }

    /// Clips `range` as one model input: `[clips·T, …]` (frames as batch) or `[clips, T, …]`.
    public func batch(_ range: Range<Int>, explicitTime: Bool) throws -> Tensor {
        let frame = Array(clips[0].shape.dropFirst())
        var scalars: [Float] = []
        scalars.reserveCapacity(range.count * clips[0].count)
        for i in range { scalars += clips[i].scalars }
        return Tensor(shape: explicitTime ? [range.count, framesPerClip] + frame : [range.count * framesPerClip] + frame, scalars: scalars)
    }
}

/// Runs `model` at inference on every clip and counts, at each
/// `DeltaActivation`, the non-zero outputs and frame-to-frame changes.
///
/// - Parameters:
///   - clipsPerBatch: clips run together (memory grows with it).
public func measureSparsity(_ model: Model, on data: ClipSet, clipsPerBatch: Int = 4) throws -> SparsityReport {
    let explicitTime = hasExplicitTimeAxis(model)
    var stats: [ObjectIdentifier: LayerSparsity] = [:]
    var order: [ObjectIdentifier] = []
    for node in model.executionOrder {
        guard let d = node.layer as? DeltaActivation, stats[ObjectIdentifier(d)] == nil else { continue }
        if !explicitTime, let t = d.clipLength, t != data.framesPerClip {
            throw DeltaError.badData("delta layer '\(d.name)' has clip_length \(t), the clips have \(data.framesPerClip) frames")
        }
        stats[ObjectIdentifier(d)] = LayerSparsity(name: d.name, fanOut: d.fanOut)
        order.append(ObjectIdentifier(d))
    }
    var predictions: [Int] = []
    try data.runDeltaModel(model, clipsPerBatch: clipsPerBatch) { d, _, y, clips in
        try countDeltas(y, layer: d, clips: clips, explicitTime: explicitTime, into: &stats[ObjectIdentifier(d)]!)
    } batchDone: { output, clips in
        predictions += try topClasses(output, clips: clips)
    }
    let accuracy = data.labels.map { labels in
        Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
    return SparsityReport(layers: order.map { stats[$0]! }, predictions: predictions, accuracy: accuracy)
}

/// Adds one batch's counts of a delta layer's output `y`.
private func countDeltas(_ y: Tensor, layer: DeltaActivation, clips: Int, explicitTime: Bool, into s: inout LayerSparsity) throws {
    let frames = explicitTime ? (y.rank >= 3 ? y.shape[1] : 1) : y.shape[0] / clips
    let perFrame = y.count / Swift.max(1, clips * frames)
    s.elements += y.count
    s.frames += clips * frames
    y.scalars.withUnsafeBufferPointer { v in
        var nnz = 0, changed = 0
        for i in 0..<v.count where v[i] != 0 { nnz += 1 }
        for c in 0..<clips {
            for t in 1..<Swift.max(1, frames) {
                let now = (c * frames + t) * perFrame, before = now - perFrame
                for j in 0..<perFrame where v[now + j] != v[before + j] { changed += 1 }
            }
        }
        s.nonZero += nnz
        s.nonZeroDeltas += changed
    }
    s.deltas += clips * Swift.max(0, frames - 1) * perFrame
    s.deltaFrames += clips * Swift.max(0, frames - 1)
}

extension ClipSet {
    /// Runs `model` at inference on the clips, `clipsPerBatch` at a time, in
    /// the model's layout: `visit` sees each delta layer's input and output,
    /// `batchDone` the model's first output and the batch's clip count.
    func runDeltaModel(_ model: Model, clipsPerBatch: Int,
                       visit: (_ layer: DeltaActivation, _ input: Tensor, _ output: Tensor, _ clips: Int) throws -> Void,
                       batchDone: (_ output: Tensor, _ clips: Int) throws -> Void = { _, _ in }) throws {
        guard clipsPerBatch >= 1 else { throw DeltaError.badArgument("clipsPerBatch", "must be at least 1, got \(clipsPerBatch)") }
        let explicitTime = hasExplicitTimeAxis(model)
        for start in stride(from: 0, to: clips.count, by: clipsPerBatch) {
            let range = start..<Swift.min(start + clipsPerBatch, clips.count)
            let outputs = try withoutGradient {
                try model.runThroughGraph([try batch(range, explicitTime: explicitTime)], freeing: true) { node, args, _ in
                    let outs = try node.layer(args, training: false)
                    if let d = node.layer as? DeltaActivation, let y = outs.first { try visit(d, args[0], y, range.count) }
                    return outs
                }
            }
            try batchDone(outputs[0], range.count)
        }
    }
}

/// The top-1 class of each clip: of its output, or of the mean of its frames' outputs.
func topClasses(_ output: Tensor, clips: Int) throws -> [Int] {
    guard output.rank >= 2, output.shape[0] % clips == 0 else {
        throw DeltaError.badData("the model output of shape \(output.shape) is not one row per clip or per frame")
    }
    let rows = output.shape[0], width = output.count / rows, perClip = rows / clips
    return (0..<clips).map { c in
        var sums = [Double](repeating: 0, count: width)
        for r in (c * perClip)..<((c + 1) * perClip) {
            for j in 0..<width { sums[j] += Double(output.scalars[r * width + j]) }
        }
        return sums.indices.max { sums[$0] < sums[$1] } ?? 0
    }
}

/// A delta-free model measured the way its deltaized form would be: delta
/// layers go where `deltaize` put those of `delta` (the placement whose delta
/// layers' names match most of them, then the one with fewest others), with
/// a step (1e-6) far below any activation's scale, so the figures are the
/// dense model's own, over the same MAC layers.
public func baselineModel(_ dense: Model, like delta: Model) throws -> Model {
    if dense.executionOrder.contains(where: { $0.layer is DeltaActivation }) { return dense }
    var options = DeltaizeOptions()
    options.thresholdInit = Double(DeltaActivation.stepFloor)
    let deltas = delta.executionOrder.compactMap { $0.layer as? DeltaActivation }
    let names = Set(deltas.map(\.name))
    options.clipLength = deltas.compactMap { $0.clipLength }.first ?? 8
    options.inputDelta = delta.executionOrder.contains { node in
        node.layer is DeltaActivation && node.inputs.contains { t in delta.inputs.contains { $0.id == t.id } }
    }
    let candidates = try DeltaizeOptions.Placement.allCases.map { placement in
        options.placement = placement
        let model = try deltaize(dense, options: options).model
        let placed = model.executionOrder.compactMap { ($0.layer as? DeltaActivation)?.name }
        return (model: model, shared: placed.filter(names.contains).count, others: placed.filter { !names.contains($0) }.count)
    }
    return candidates.max { ($0.shared, -$0.others) < ($1.shared, -$1.others) }!.model
}
