import Foundation

/// Prepares batches of clips ahead of the training loop on a background
/// thread: it reads (decodes or generates) clips, augments them and stacks
/// them into tensors, keeping at most `prefetch` batches waiting.
///
/// One loader covers one pass (epoch) over the dataset. Batches come in a
/// fixed order for a given seed and epoch, however the threads are scheduled:
/// every random choice for item `i` comes from its own stream.
///
/// ```swift
/// let loader = try ClipLoader(dataset: set, batchSize: 16, layout: .framesAsBatch,
///                             scaling: .unit, augmentation: .standard, shuffle: true, seed: 1, epoch: e)
/// while let batch = try loader.next() { train(batch.clips, batch.labelTensor) }
/// ```
public final class ClipLoader {
    /// The options of a loader.
    public struct Options {
        public var batchSize: Int
        public var layout: ClipLayout
        public var scaling: PixelScaling
        /// Applied to each clip; `nil` for none.
        public var augmentation: ClipAugmentation?
        /// Visit the clips in a random order (fixed by seed and epoch).
        public var shuffle: Bool
        /// Skip a last batch smaller than `batchSize`.
        public var dropLast: Bool
        /// Batches prepared ahead (the queue's bound), at least 1.
        public var prefetch: Int
        /// Read the clips of one batch concurrently on all cores
        /// (`DispatchQueue.concurrentPerform`) rather than one by one.
        public var concurrentReads: Bool

        public init(batchSize: Int, layout: ClipLayout = .timeAxis, scaling: PixelScaling = .raw,
                    augmentation: ClipAugmentation? = nil, shuffle: Bool = false, dropLast: Bool = false,
                    prefetch: Int = 2, concurrentReads: Bool = false) {
            self.batchSize = batchSize
            self.layout = layout
            self.scaling = scaling
            self.augmentation = augmentation
            self.shuffle = shuffle
            self.dropLast = dropLast
            self.prefetch = prefetch
            self.concurrentReads = concurrentReads
        }
    }

    /// The dataset indices of each batch, in delivery order.
    public let batches: [[Int]]

    private let queue: BoundedQueue<Result<ClipBatch, Error>>
    private let producerDone = DispatchSemaphore(value: 0)
    private var finished = false

    /// Starts loading at once.
    /// - Parameters:
    ///   - seed: fixes the order (when shuffling), the datasets' random choices and the augmentation.
    ///   - epoch: gives each pass its own order and augmentation for the same seed.
    /// - Throws: `invalidArgument` for non-positive sizes or a bad augmentation.
    public init(dataset: ClipDataset, options: Options, seed: UInt64 = 0, epoch: Int = 0) throws {
        guard options.batchSize > 0, options.prefetch > 0 else {
            throw VideoError.invalidArgument("loader batch size \(options.batchSize) and prefetch \(options.prefetch) "
                + "must be positive")
        }
        try options.augmentation?.validate()
        let epochSeed = SeededRandom.mix(seed, UInt64(bitPattern: Int64(epoch)))
        var orderRandom = SeededRandom(seed: epochSeed, stream: 0)
        let order = options.shuffle ? orderRandom.permutation(dataset.count) : Array(0..<dataset.count)
        var allBatches = Swift.stride(from: 0, to: order.count, by: options.batchSize).map {
            Array(order[$0..<min($0 + options.batchSize, order.count)])
        }
        if options.dropLast, let last = allBatches.last, last.count < options.batchSize { allBatches.removeLast() }
        let batches = allBatches
        self.batches = batches
        self.queue = BoundedQueue(capacity: options.prefetch)

        let queue = self.queue, done = producerDone
        let thread = Thread {
            defer { done.signal() }
            for indices in batches {
                let result = Result { try Self.makeBatch(dataset, indices: indices, options: options, seed: epochSeed) }
                guard queue.push(result) else { return }
                if case .failure = result { break }
            }
            queue.finish()
        }
        thread.name = "ClipLoader"
        thread.start()
    }

    /// A loader with the options spelled out.
    public convenience init(dataset: ClipDataset, batchSize: Int, layout: ClipLayout = .timeAxis,
                            scaling: PixelScaling = .raw, augmentation: ClipAugmentation? = nil,
                            shuffle: Bool = false, dropLast: Bool = false, prefetch: Int = 2,
                            concurrentReads: Bool = false, seed: UInt64 = 0, epoch: Int = 0) throws {
        try self.init(dataset: dataset,
                      options: Options(batchSize: batchSize, layout: layout, scaling: scaling,
                                       augmentation: augmentation, shuffle: shuffle, dropLast: dropLast,
                                       prefetch: prefetch, concurrentReads: concurrentReads),
                      seed: seed, epoch: epoch)
    }

    deinit {
        close()
    }

    /// The next batch, waiting for it if needed; `nil` after the last.
    /// - Throws: the error that reading or augmenting a clip raised; the pass ends there.
    public func next() throws -> ClipBatch? {
        guard !finished, let result = queue.pop() else {
            finished = true
            return nil
        }
        if case .failure = result { finished = true }
        return try result.get()
    }

    /// How many batches are ready and waiting.
    public var readyCount: Int { queue.count }

    /// Stops the background thread and waits for it. Safe to call more than once.
    public func close() {
        guard !queue.isCancelled else { return }
        queue.cancel()
        producerDone.wait()
        finished = true
    }

    /// Reads, augments and stacks the clips of one batch.
    private static func makeBatch(_ dataset: ClipDataset, indices: [Int], options: Options, seed: UInt64) throws -> ClipBatch {
        let augmentationSeed = SeededRandom.mix(seed, augmentationStream)
        func prepare(_ index: Int) throws -> LabeledClip {
            var item = try dataset.clip(at: index, seed: seed)
            if let augmentation = options.augmentation {
                item.clip = augmentation.apply(to: item.clip, seed: SeededRandom.mix(augmentationSeed, UInt64(index)))
            }
            return item
        }
        var results = [Result<LabeledClip, Error>?](repeating: nil, count: indices.count)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each position is written by exactly one iteration.
            let slots = buffer
            let fill = { (position: Int) in slots[position] = Result { try prepare(indices[position]) } }
            if options.concurrentReads {
                DispatchQueue.concurrentPerform(iterations: indices.count, execute: fill)
            } else {
                for position in indices.indices { fill(position) }
            }
        }
        return try ClipBatch(results.map { try $0!.get() }, layout: options.layout, scaling: options.scaling)
    }

    /// Sub-stream of the epoch seed that augmentation draws from.
    private static let augmentationStream: UInt64 = 0xA116_3E47
}

/// A first-in first-out queue of at most `capacity` elements between one
/// producer and one consumer, with blocking push/pop and cancellation.
final class BoundedQueue<Element> {
    private var items: [Element] = []
    private let capacity: Int
    private let condition = NSCondition()
    private var finishedProducing = false
    private(set) var isCancelled = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Waits for room, then appends. Returns `false` (dropping the element) once cancelled.
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !isCancelled { condition.wait() }
        guard !isCancelled else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// Waits for an element; `nil` when the producer finished and the queue is empty, or on cancel.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finishedProducing && !isCancelled { condition.wait() }
        guard !isCancelled, !items.isEmpty else { return nil }
        let element = items.removeFirst()
        condition.broadcast()
        return element
    }

    /// Marks the end of production.
    func finish() {
        condition.lock()
        finishedProducing = true
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes both sides and makes further pushes and pops fail.
    func cancel() {
        condition.lock()
        isCancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Elements waiting.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count
    }
}
