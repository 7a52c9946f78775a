import Foundation
import Layers
import Tensor
import Training
import Video

/// Which targets a ``ClipDataSource`` gives with each batch.
public enum ClipLabels: String, CaseIterable, Sendable {
    /// One label per clip: `[B]`.
    case perClip
    /// One label per frame, the clip's label repeated: `[B·T]` with frames as
    /// batch, `[B, T]` with a time axis.
    case perFrame
    /// No targets (label-free training, or sources without labels).
    case none
}

/// How a ``ClipDataSource`` cuts, orders and shapes its clips.
public struct ClipSourceOptions {
    /// Clips per batch (not frames).
    public var batchSize: Int
    /// `[B·T, H, W, C]` (frames as batch) or `[B, T, H, W, C]`.
    public var layout: ClipLayout
    /// The targets; nil: per frame with frames as batch, per clip with a time
    /// axis, or none when the data has no labels.
    public var labels: ClipLabels?
    /// Frames per clip, T; nil for the data's own length (8 for videos). A
    /// shorter T cuts each stored clip into ⌊T₀ / T⌋ consecutive clips.
    public var clipLength: Int?
    /// Frame height and width after resizing (the model's input size); nil keeps the data's size.
    public var frameSize: (height: Int, width: Int)?
    /// Visit clips in a random order drawn from `seed` and the epoch. Frames stay with their clip, in order.
    public var shuffle: Bool
    public var seed: UInt64
    /// Skip a last batch with fewer than `batchSize` clips.
    public var dropLast: Bool
    /// Use at most this many clips (the first ones).
    public var maxClips: Int?
    /// Pixel scaling of 8-bit sources; arrays are scaled the same way. `.raw` passes 0…255 as they are.
    public var scaling: PixelScaling
    /// Augmentation of each clip (the same for all its frames), for 8-bit sources.
    public var augmentation: ClipAugmentation?
    /// Videos: frames per second to decode at (nil: the video's own rate).
    public var frameRate: Double?
    /// The model's class count (its output's last axis), which the synthetic set
    /// takes when DATA names none; set by ``match(_:)``.
    public var classCount: Int?
    /// Videos: clips per video, evenly spaced; nil: one clip at a random place
    /// per video and epoch, or for a single video file every non-overlapping clip.
    public var clipsPerVideo: Int?

    public init(batchSize: Int = 8, layout: ClipLayout = .framesAsBatch, labels: ClipLabels? = nil, clipLength: Int? = nil,
                frameSize: (height: Int, width: Int)? = nil, shuffle: Bool = false, seed: UInt64 = 0, dropLast: Bool = false,
                maxClips: Int? = nil, scaling: PixelScaling = .raw, augmentation: ClipAugmentation? = nil,
                frameRate: Double? = nil, clipsPerVideo: Int? = nil) {
        self.batchSize = batchSize
        self.layout = layout
        self.labels = labels
        self.clipLength = clipLength
        self.frameSize = frameSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.maxClips = maxClips
        self.scaling = scaling
        self.augmentation = augmentation
        self.frameRate = frameRate
        self.clipsPerVideo = clipsPerVideo
    }

    /// The frame size and layout a model takes: `[batch, H, W, C]` means frames
    /// as batch, `[batch, T, H, W, C]` a time axis (whose T, when fixed, becomes the clip length).
    /// - Throws: `invalidData` naming the model when its first input is neither.
    public mutating func match(_ model: Model) throws {
        guard let shape = model.inputShapes.first else {
            throw TrainingError.invalidData("model '\(model.name)' has no inputs")
        }
        switch shape.count {
        case 4:
            layout = .framesAsBatch
        case 5:
            layout = .timeAxis
            if let t = shape[1] { clipLength = t }
        default:
            throw TrainingError.invalidData("model '\(model.name)': input shape \(formatShape(shape)) is not frames "
                                            + "[batch, H, W, C] nor clips [batch, T, H, W, C]")
        }
        if let h = shape[shape.count - 3], let w = shape[shape.count - 2] { frameSize = (h, w) }
        if let output = model.outputShapes.first, output.count >= 2, let classes = output.last ?? nil { classCount = classes }
    }
}

/// Batches of whole clips for `fit` and `evaluate` (a ``BatchSource``): from a
/// clip dataset (the synthetic set, videos, UCF101), read and augmented
/// ahead on a background thread by ``ClipLoader``, or from clips in memory
/// (`clips.npy`).
///
/// With frames as batch, each clip's T frames are consecutive and in order,
/// so a layer that views the batch as `[B, T, …]` compares frames of one clip.
/// Shuffling moves whole clips; the order depends only on the seed and the
/// epoch. Frames are resized (bilinear, as TensorFlow) to ``ClipSourceOptions/frameSize``.
///
/// ```swift
/// var options = ClipSourceOptions(batchSize: 2, shuffle: true, seed: 1)
/// try options.match(model)
/// let source = try DataSourceSpec.parse("synthetic:mode=appearance,clips=64").makeSource(options)
/// try model.fit(source, epochs: 3)
/// ```
public final class ClipDataSource: BatchSource {
    private enum Storage {
        case dataset(ClipDataset)
        case arrays(clips: Tensor, labels: [Int]?)
    }

    public let options: ClipSourceOptions
    /// Class names; empty when the data has no labels.
    public let classNames: [String]
    /// Whether the clips carry labels.
    public let hasLabels: Bool
    /// The number of clips.
    public let count: Int
    /// Frames per clip, T.
    public let clipLength: Int
    /// The labels requested (resolved from the options).
    public let labels: ClipLabels
    private let storage: Storage
    private let resizer: Resizing?

    /// Clips from a dataset of 8-bit clips (all of one shape).
    /// - Parameter labelled: whether the dataset's labels mean anything.
    public convenience init(dataset: ClipDataset, labelled: Bool = true, options: ClipSourceOptions) throws {
        guard dataset.count > 0 else { throw TrainingError.invalidData("clip source: the data has no clips") }
        let natural = dataset.count > 0 ? try dataset.clip(at: 0, seed: 0).clip : nil
        try self.init(storage: .dataset(dataset), count: dataset.count, naturalLength: natural?.frameCount ?? 1,
                      naturalSize: natural.map { ($0.height, $0.width) }, classNames: labelled ? dataset.classNames : [],
                      hasLabels: labelled, options: options)
    }

    /// Clips in memory: `clips` `[N, T, H, W, C]` float, `labels` one class index per clip (or none).
    public convenience init(clips: Tensor, labels: [Int]?, classNames: [String] = [], options: ClipSourceOptions) throws {
        guard clips.rank == 5, clips.shape[0] > 0 else {
            throw TrainingError.invalidData("clips must have shape [N, T, H, W, C] with N ≥ 1, got \(clips.shape)")
        }
        if let labels, labels.count != clips.shape[0] {
            throw TrainingError.invalidData("\(labels.count) labels for \(clips.shape[0]) clips")
        }
        try self.init(storage: .arrays(clips: clips, labels: labels), count: clips.shape[0], naturalLength: clips.shape[1],
                      naturalSize: (clips.shape[2], clips.shape[3]), classNames: classNames, hasLabels: labels != nil,
                      options: options)
    }

    private init(storage: Storage, count: Int, naturalLength: Int, naturalSize: (Int, Int)?, classNames: [String],
                 hasLabels: Bool, options: ClipSourceOptions) throws {
        guard options.batchSize >= 1 else {
            throw TrainingError.badConfig("clip source: batchSize must be at least 1 clip, got \(options.batchSize)")
        }
        if let size = options.frameSize, size.height < 1 || size.width < 1 {
            throw TrainingError.badConfig("clip source: frame size \(size.width)x\(size.height) must be positive")
        }
        let length = options.clipLength ?? naturalLength
        guard length >= 1, length <= naturalLength else {
            throw TrainingError.badConfig("clip source: clip length \(length) must be within 1...\(naturalLength), the data's clip length")
        }
        let windows = naturalLength / length
        var clipCount = count * windows
        if let maxClips = options.maxClips {
            guard maxClips >= 1 else { throw TrainingError.badConfig("clip source: maxClips must be at least 1, got \(maxClips)") }
            clipCount = Swift.min(clipCount, maxClips)
        }
        let labels = options.labels ?? (hasLabels ? (options.layout == .framesAsBatch ? .perFrame : .perClip) : .none)
        if labels != .none && !hasLabels {
            throw TrainingError.invalidData("clip source: \(labels.rawValue) labels were asked for, but the data carries no labels")
        }
        switch storage {
        case .dataset(let d):
            let windowed: ClipDataset = windows > 1 || length < naturalLength ? WindowedClips(base: d, length: length, windows: windows) : d
            self.storage = .dataset(clipCount < windowed.count ? FirstClips(base: windowed, count: clipCount) : windowed)
        case .arrays(let clips, let l):
            self.storage = .arrays(clips: clips, labels: l)
        }
        self.options = options
        self.classNames = classNames
        self.hasLabels = hasLabels
        self.count = clipCount
        self.clipLength = length
        self.labels = labels
        self.windows = windows
        if let size = options.frameSize, let natural = naturalSize, natural != (size.height, size.width) {
            resizer = try Resizing(height: size.height, width: size.width, interpolation: .bilinear, name: "clip_source_resizing")
        } else {
            resizer = nil
        }
    }

    private let windows: Int

    public var batchCount: Int {
        options.dropLast ? count / options.batchSize : (count + options.batchSize - 1) / options.batchSize
    }

    /// The clips of each batch of epoch `epoch` (indices in `0..<count`), in order.
    public func clipOrder(epoch: Int) -> [[Int]] {
        let epochSeed = SeededRandom.mix(options.seed, UInt64(bitPattern: Int64(epoch)))
        var random = SeededRandom(seed: epochSeed, stream: 0)
        let order = options.shuffle ? random.permutation(count) : Array(0..<count)
        var batches = stride(from: 0, to: order.count, by: options.batchSize).map {
            Array(order[$0..<Swift.min($0 + options.batchSize, order.count)])
        }
        if options.dropLast, let last = batches.last, last.count < options.batchSize { batches.removeLast() }
        return batches
    }

    public func batches(epoch: Int) throws -> BatchIterator {
        switch storage {
        case .dataset(let dataset):
            // The loader draws the same order as clipOrder(epoch:) from the same seed.
            let loader = try ClipLoader(dataset: dataset, batchSize: options.batchSize, layout: .timeAxis, scaling: options.scaling,
                                        augmentation: options.augmentation, shuffle: options.shuffle, dropLast: options.dropLast,
                                        seed: options.seed, epoch: epoch)
            return BatchIterator { [self] in
                guard let batch = try loader.next() else { return nil }
                return try self.make(clips: batch.clips, labels: batch.labels)
            }
        case .arrays(let clips, let labels):
            let order = clipOrder(epoch: epoch)
            var index = 0
            return BatchIterator { [self] in
                guard index < order.count else { return nil }
                defer { index += 1 }
                return try self.arrayBatch(clips, labels, order[index])
            }
        }
    }

    /// Clips `indices` of in-memory arrays, as `[B, T, H, W, C]`.
    private func arrayBatch(_ clips: Tensor, _ labels: [Int]?, _ indices: [Int]) throws -> DataBatch {
        let t0 = clips.shape[1], frame = clips.shape[2] * clips.shape[3] * clips.shape[4]
        let source = clips.scalars
        var out = [Float](repeating: 0, count: indices.count * clipLength * frame)
        let (scale, offset) = scalingFactors(options.scaling)
        for (b, index) in indices.enumerated() {
            let (clip, window) = (index / windows, index % windows)
            let start = (clip * t0 + window * clipLength) * frame
            for i in 0..<(clipLength * frame) { out[b * clipLength * frame + i] = source[start + i] * scale + offset }
        }
        let batch = Tensor(shape: [indices.count, clipLength] + Array(clips.shape[2...]), scalars: out)
        return try make(clips: batch, labels: labels.map { l in indices.map { l[$0 / windows] } } ?? [])
    }

    /// Resizes `[B, T, H, W, C]` clips, lays them out and adds the targets.
    private func make(clips: Tensor, labels clipLabels: [Int]) throws -> DataBatch {
        let (b, t) = (clips.shape[0], clips.shape[1])
        var frames = try clips.reshaped(to: [b * t] + Array(clips.shape[2...]))
        if let resizer { frames = try withoutGradient { try resizer(frames) } }
        let x = options.layout == .framesAsBatch ? frames : try frames.reshaped(to: [b, t] + Array(frames.shape[1...]))
        let y: Tensor?
        switch labels {
        case .none: y = nil
        case .perClip: y = Tensor(shape: [b], scalars: clipLabels.map { Float($0) })
        case .perFrame:
            let repeated = clipLabels.flatMap { [Float](repeating: Float($0), count: t) }
            y = Tensor(shape: options.layout == .framesAsBatch ? [b * t] : [b, t], scalars: repeated)
        }
        return DataBatch(x: x, y: y)
    }
}

/// `(scale, offset)` of a pixel scaling: value · scale + offset.
func scalingFactors(_ scaling: PixelScaling) -> (Float, Float) {
    switch scaling {
    case .raw: return (1, 0)
    case .unit: return (1 / 255, 0)
    case .symmetric: return (1 / 127.5, -1)
    }
}

/// Each clip of `base` cut into `windows` consecutive clips of `length` frames.
struct WindowedClips: ClipDataset {
    let base: ClipDataset
    let length: Int
    let windows: Int
    var count: Int { base.count * windows }
    var classNames: [String] { base.classNames }
    func clip(at index: Int, seed: UInt64) throws -> LabeledClip {
        var item = try base.clip(at: index / windows, seed: seed)
        let start = (index % windows) * length
        item.clip = try item.clip.frames(Array(start..<start + length))
        return item
    }
}

/// The first `count` clips of `base`.
struct FirstClips: ClipDataset {
    let base: ClipDataset
    let count: Int
    var classNames: [String] { base.classNames }
    func clip(at index: Int, seed: UInt64) throws -> LabeledClip { try base.clip(at: index, seed: seed) }
}
