import Layers
import Tensor
import Training
import Video
import VideoTraining

extension ClipSet {
    /// Up to `limit` clips from a DATA argument (CLI.md § Data sources), sized
    /// and cut for `model`: its frame size, and its clip length (a delta
    /// layer's `clip_length` for per-frame models, the input's time axis
    /// otherwise). Labels come along when the data has them.
    ///
    /// ```swift
    /// let clips = try ClipSet.load("synthetic:mode=appearance,clips=32", for: model, limit: 32)
    /// ```
    public static func load(_ data: String, for model: Model, limit: Int, split: Int = 1,
                            subset: UCF101.Subset = .test, seed: UInt64 = 0) throws -> ClipSet {
        guard limit >= 1 else { throw DeltaError.badArgument("limit", "must be at least 1 clip, got \(limit)") }
        let spec = try DataSourceSpec.parse(data, split: split, subset: subset)
        var options = ClipSourceOptions(batchSize: 1, labels: spec.hasLabels ? .perClip : ClipLabels.none, seed: seed, maxClips: limit)
        try options.match(model)
        if options.layout == .framesAsBatch {
            options.clipLength = model.executionOrder.compactMap { ($0.layer as? DeltaActivation)?.clipLength }.first
        }
        let source = try spec.makeSource(options)
        var clips: [Tensor] = [], labels: [Int] = []
        let batches = try source.batches(epoch: 0)
        while let batch = try batches.next() {
            let x = batch.x[0]
            clips.append(options.layout == .framesAsBatch ? x : try x.reshaped(to: Array(x.shape.dropFirst())))
            if let y = batch.y.first { labels.append(Int(y.scalars[0])) }
        }
        return try ClipSet(clips: clips, labels: spec.hasLabels ? labels : nil)
    }
}
