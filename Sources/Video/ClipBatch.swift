import Tensor

/// How a batch of clips is laid out as one tensor.
public enum ClipLayout: String, CaseIterable {
    /// `[B, T, H, W, C]`: an explicit time axis (Conv3D, TimeDistributed, RNNs).
    case timeAxis
    /// `[B·T, H, W, C]`: each run of T consecutive entries is one clip, for
    /// per-frame models (a DeltaActivation with `clip_length = T`).
    case framesAsBatch
}

/// Clips of equal shape stacked into one float tensor, with their labels.
public struct ClipBatch {
    /// The clips, shaped as ``layout`` says.
    public let clips: Tensor
    /// The 0-based class label of each clip.
    public let labels: [Int]
    /// The layout of ``clips``.
    public let layout: ClipLayout
    /// Frames per clip, T.
    public let clipLength: Int

    /// Stacks `clips` (all the same shape) and converts them with `scaling`.
    /// - Throws: `invalidArgument` when there are no clips, their shapes
    ///   differ, or the label count does not match.
    public init(clips: [VideoClip], labels: [Int], layout: ClipLayout, scaling: PixelScaling = .raw) throws {
        guard let first = clips.first else { throw VideoError.invalidArgument("a batch needs at least one clip") }
        guard labels.count == clips.count else {
            throw VideoError.invalidArgument("\(labels.count) labels for \(clips.count) clips")
        }
        if let odd = clips.first(where: { $0.shape != first.shape }) {
            throw VideoError.invalidArgument("clip of shape \(odd.shape) in a batch of \(first.shape)")
        }
        let clipSize = first.pixels.count
        var scalars = [Float](repeating: 0, count: clips.count * clipSize)
        scalars.withUnsafeMutableBufferPointer { out in
            for (i, clip) in clips.enumerated() {
                scaling.convert(clip.pixels, into: out.baseAddress! + i * clipSize)
            }
        }
        let shape: [Int]
        switch layout {
        case .timeAxis: shape = [clips.count] + first.shape
        case .framesAsBatch: shape = [clips.count * first.frameCount, first.height, first.width, VideoClip.channels]
        }
        self.clips = Tensor(shape: shape, scalars: scalars)
        self.labels = labels
        self.layout = layout
        self.clipLength = first.frameCount
    }

    /// Stacks labelled clips.
    public init(_ items: [LabeledClip], layout: ClipLayout, scaling: PixelScaling = .raw) throws {
        try self.init(clips: items.map(\.clip), labels: items.map(\.label), layout: layout, scaling: scaling)
    }

    /// The number of clips, B.
    public var count: Int { labels.count }

    /// The labels as a float tensor of shape `[B]` (sparse categorical targets).
    public var labelTensor: Tensor {
        Tensor(shape: [labels.count], scalars: labels.map { Float($0) })
    }
}
