/// A clip with its 0-based class label.
public struct LabeledClip: Equatable {
    public var clip: VideoClip
    public var label: Int

    public init(clip: VideoClip, label: Int) {
        self.clip = clip
        self.label = label
    }
}

/// A labelled collection of clips that can be read in any order and from any
/// thread (``ClipLoader`` reads it on a background thread).
public protocol ClipDataset {
    /// The number of clips.
    var count: Int { get }
    /// Class names; labels index this array.
    var classNames: [String] { get }
    /// Clip `index` (in `0..<count`). `seed` fixes any random choice the
    /// dataset makes, such as where in a video the clip starts.
    func clip(at index: Int, seed: UInt64) throws -> LabeledClip
}
