import Foundation
import XCTest
@testable import Video

/// A dataset whose clip i is filled with the value i % 256, labelled i % 3,
/// that counts the clips it made and can fail at one index.
private final class CountingDataset: ClipDataset {
    let count: Int
    let classNames = ["a", "b", "c"]
    let failingIndex: Int?
    private let lock = NSLock()
    private var made = 0

    init(count: Int, failingIndex: Int? = nil) {
        self.count = count
        self.failingIndex = failingIndex
    }

    var madeCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return made
    }

    func clip(at index: Int, seed: UInt64) throws -> LabeledClip {
        if index == failingIndex { throw VideoError.decodingFailed("clip-\(index).avi", detail: "test failure") }
        lock.lock()
        made += 1
        lock.unlock()
        let pixels = [UInt8](repeating: UInt8(index % 256), count: 2 * 4 * 4 * 3)
        return LabeledClip(clip: try VideoClip(frameCount: 2, height: 4, width: 4, pixels: pixels), label: index % 3)
    }
}

/// A dataset that signals each clip it makes, and holds the producer at
/// `gateIndex` until the test opens the gate, noting whether the consumer
/// had started by then.
private final class GatedDataset: ClipDataset {
    let count: Int
    let classNames = ["a", "b", "c"]
    let gateIndex: Int
    let made = DispatchSemaphore(value: 0)
    let gateReached = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var consumerStarted = false
    private var ranAheadFlag = false

    init(count: Int, gateIndex: Int) {
        self.count = count
        self.gateIndex = gateIndex
    }

    var ranAhead: Bool {
        lock.lock(); defer { lock.unlock() }
        return ranAheadFlag
    }

    func consumerStarts() {
        lock.lock(); defer { lock.unlock() }
        consumerStarted = true
    }

    func openGate() { gate.signal() }

    func clip(at index: Int, seed: UInt64) throws -> LabeledClip {
        if index == gateIndex {
            lock.lock()
            if !consumerStarted { ranAheadFlag = true }
            lock.unlock()
            gateReached.signal()
            gate.wait()
        }
        made.signal()
        return LabeledClip(clip: try VideoClip(frameCount: 1, height: 1, width: 1, pixels: [0, 0, 0]), label: index % 3)
    }
}

final class ClipLoaderTests: XCTestCase {
    private func drain(_ loader: ClipLoader) throws -> [ClipBatch] {
        var batches: [ClipBatch] = []
        while let batch = try loader.next() { batches.append(batch) }
        return batches
    }

    func testDeliversEveryItemInOrder() throws {
        let loader = try ClipLoader(dataset: CountingDataset(count: 10), batchSize: 4, layout: .framesAsBatch)
        let batches = try drain(loader)
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        XCTAssertEqual(batches.flatMap(\.labels), (0..<10).map { $0 % 3 })
        XCTAssertEqual(batches[1].clips.shape, [8, 4, 4, 3])
        XCTAssertEqual(batches[1].clips.scalars[0], 4)
        XCTAssertEqual(batches[2].clips.scalars.last, 9)
        XCTAssertNil(try loader.next(), "stays finished")

        let dropping = try ClipLoader(dataset: CountingDataset(count: 10), batchSize: 4, dropLast: true)
        XCTAssertEqual(try drain(dropping).map(\.count), [4, 4])
    }

    func testShuffleIsAPermutationFixedBySeedAndEpoch() throws {
        let dataset = CountingDataset(count: 23)
        func order(seed: UInt64, epoch: Int) throws -> [Int] {
            try ClipLoader(dataset: dataset, batchSize: 5, shuffle: true, seed: seed, epoch: epoch).batches.flatMap { $0 }
        }
        let first = try order(seed: 1, epoch: 0)
        XCTAssertEqual(first.sorted(), Array(0..<23))
        XCTAssertNotEqual(first, Array(0..<23))
        XCTAssertEqual(try order(seed: 1, epoch: 0), first)
        XCTAssertNotEqual(try order(seed: 1, epoch: 1), first)
        let loader = try ClipLoader(dataset: dataset, batchSize: 5, shuffle: true, seed: 1)
        XCTAssertEqual(try drain(loader).flatMap { batch in
            stride(from: 0, to: batch.clips.scalars.count, by: 96).map { Int(batch.clips.scalars[$0]) }
        }, first)
    }

    func testQueueIsBounded() throws {
        // The producer makes batches 0 and 1 (queued), then batch 2 (clips 8-11),
        // and waits for room: clip 12 may only be asked for after the consumer
        // has started taking a batch. Semaphores, not sleeps, order the steps;
        // the 60 s waits are only a watchdog.
        let dataset = GatedDataset(count: 200, gateIndex: 12)
        let loader = try ClipLoader(dataset: dataset, batchSize: 4, prefetch: 2)
        for made in 0..<12 {
            XCTAssertEqual(dataset.made.wait(timeout: .now() + 60), .success, "watchdog: clip \(made) never made")
        }
        XCTAssertEqual(loader.readyCount, 2)
        dataset.consumerStarts()
        XCTAssertNotNil(try loader.next())
        XCTAssertEqual(dataset.gateReached.wait(timeout: .now() + 60), .success, "watchdog: the producer never resumed")
        XCTAssertFalse(dataset.ranAhead, "clip 12 was made before the consumer took a batch: the queue is not bounded")
        dataset.openGate()
        loader.close()
    }

    func testCloseStopsTheProducerAndEndsIteration() throws {
        let loader = try ClipLoader(dataset: CountingDataset(count: 1000), batchSize: 2, prefetch: 1)
        XCTAssertNotNil(try loader.next())
        // close() returns only once the producer thread has ended.
        loader.close()
        XCTAssertNil(try loader.next())
        loader.close()
        // Releasing an unfinished loader also stops its thread.
        var abandoned: ClipLoader? = try ClipLoader(dataset: CountingDataset(count: 1000), batchSize: 2, prefetch: 1)
        XCTAssertNotNil(try abandoned?.next())
        abandoned = nil
    }

    func testErrorsReachTheConsumer() throws {
        let loader = try ClipLoader(dataset: CountingDataset(count: 10, failingIndex: 5), batchSize: 2)
        XCTAssertEqual(try loader.next()?.labels, [0, 1])
        XCTAssertEqual(try loader.next()?.labels, [2, 0])
        assertVideoError(try loader.next(), mentions: "clip-5.avi") {
            if case .decodingFailed = $0 { return true } else { return false }
        }
        XCTAssertNil(try loader.next())
    }

    func testSyntheticAugmentedBatchesAreReproducible() throws {
        let set = try SyntheticActionSet(.init(classCount: 10, clipCount: 12, frameCount: 4, size: 24, seed: 3))
        func batches(concurrent: Bool, epoch: Int) throws -> [ClipBatch] {
            try drain(ClipLoader(dataset: set, batchSize: 5, layout: .timeAxis, scaling: .symmetric,
                                 augmentation: .standard, shuffle: true, concurrentReads: concurrent, seed: 8, epoch: epoch))
        }
        let sequential = try batches(concurrent: false, epoch: 0)
        let concurrent = try batches(concurrent: true, epoch: 0)
        XCTAssertEqual(sequential.map(\.clips.scalars), concurrent.map(\.clips.scalars))
        XCTAssertEqual(sequential.map(\.labels), concurrent.map(\.labels))
        XCTAssertEqual(sequential[0].clips.shape, [5, 4, 24, 24, 3])
        XCTAssertTrue(sequential[0].clips.scalars.allSatisfy { (-1...1).contains($0) })
        XCTAssertNotEqual(try batches(concurrent: false, epoch: 1).map(\.clips.scalars), sequential.map(\.clips.scalars))
    }

    func testRejectsBadOptions() {
        assertVideoError(try ClipLoader(dataset: CountingDataset(count: 3), batchSize: 0), mentions: "batch size 0") {
            if case .invalidArgument = $0 { return true } else { return false }
        }
    }
}
