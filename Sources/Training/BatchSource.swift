import Tensor

/// One batch from a ``BatchSource``: the inputs, the targets (none for
/// label-free data) and optional sample weights.
///
/// Inputs and targets need not have the same first axis: a model that takes
/// clips as frames (`[B·T, H, W, C]`) may be trained on one label per clip
/// (`[B]`). The loss is counted per input sample, as Keras's loss tracker does.
public struct DataBatch {
    public var x: [Tensor]
    public var y: [Tensor]
    public var sampleWeight: Tensor?

    public init(x: [Tensor], y: [Tensor] = [], sampleWeight: Tensor? = nil) {
        self.x = x
        self.y = y
        self.sampleWeight = sampleWeight
    }

    public init(x: Tensor, y: Tensor? = nil, sampleWeight: Tensor? = nil) {
        self.init(x: [x], y: y.map { [$0] } ?? [], sampleWeight: sampleWeight)
    }

    /// The number of input samples (the first axis of the first input).
    public var count: Int { x.first.map { $0.rank > 0 ? $0.shape[0] : 1 } ?? 0 }
}

/// The batches of one epoch, in order.
public struct BatchIterator {
    private let nextBatch: () throws -> DataBatch?

    /// An iterator that calls `next` until it returns nil.
    public init(_ next: @escaping () throws -> DataBatch?) { self.nextBatch = next }

    /// An iterator over batches already made.
    public init(_ batches: [DataBatch]) {
        var index = 0
        self.init {
            guard index < batches.count else { return nil }
            defer { index += 1 }
            return batches[index]
        }
    }

    /// The next batch, or nil at the end of the epoch.
    public func next() throws -> DataBatch? { try nextBatch() }
}

/// Data that `fit` and `evaluate` take besides arrays, as Keras takes a
/// `tf.data.Dataset` or a `PyDataset`: the source batches, shuffles and
/// labels its data itself.
///
/// The batches of an epoch depend only on the source and the epoch number
/// (shuffled sources draw their order from their seed and the epoch), so a run
/// stopped after epoch k continues exactly at epoch k + 1 (``BackupAndRestore``).
public protocol BatchSource {
    /// Batches per epoch.
    var batchCount: Int { get }
    /// The batches of epoch `epoch` (0-based), in order.
    func batches(epoch: Int) throws -> BatchIterator
}

/// In-memory arrays as a ``BatchSource``: `batchSize` samples at a time, in
/// order or in a permutation drawn from `seed` and the epoch, the last batch
/// partial.
///
/// ```swift
/// let source = try ArrayBatchSource(x: images, y: labels, batchSize: 16, shuffle: true, seed: 7)
/// try model.fit(source, epochs: 3)
/// ```
public struct ArrayBatchSource: BatchSource {
    public let x: [Tensor]
    public let y: [Tensor]
    public let sampleWeight: Tensor?
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    private let data: ArrayData

    /// - Throws: `invalidData` when the arrays disagree on the sample count,
    ///   `badConfig` for a batch size below 1.
    public init(x: [Tensor], y: [Tensor] = [], sampleWeight: Tensor? = nil, batchSize: Int = 32,
                shuffle: Bool = false, seed: UInt64 = 0) throws {
        guard batchSize >= 1 else { throw TrainingError.badConfig("ArrayBatchSource: batchSize must be at least 1, got \(batchSize)") }
        data = try ArrayData(x: x, y: y, sampleWeight: sampleWeight)
        self.x = x
        self.y = y
        self.sampleWeight = sampleWeight
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    public init(x: Tensor, y: Tensor? = nil, sampleWeight: Tensor? = nil, batchSize: Int = 32,
                shuffle: Bool = false, seed: UInt64 = 0) throws {
        try self.init(x: [x], y: y.map { [$0] } ?? [], sampleWeight: sampleWeight, batchSize: batchSize,
                      shuffle: shuffle, seed: seed)
    }

    public var batchCount: Int { data.batchCount(size: batchSize) }

    /// The sample order of epoch `epoch`.
    public func order(epoch: Int) -> [Int]? {
        guard shuffle else { return nil }
        var generator = SeededGenerator(seed: epochSeed(seed, epoch))
        return permutation(data.count, &generator)
    }

    public func batches(epoch: Int) throws -> BatchIterator {
        let order = self.order(epoch: epoch), data = self.data, size = batchSize, count = batchCount
        var step = 0
        return BatchIterator {
            guard step < count else { return nil }
            defer { step += 1 }
            let b = try data.batch(step, size: size, order: order)
            return DataBatch(x: b.x, y: b.y, sampleWeight: b.sampleWeight)
        }
    }
}

/// A seed for epoch `epoch` of a run seeded with `seed` (SplitMix64 finalizer of their mix).
func epochSeed(_ seed: UInt64, _ epoch: Int) -> UInt64 {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(bitPattern: Int64(epoch) &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
