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
        return LabeledClip(clip: VideoClip(frameCount: 2, height: 4, width: 4, pixels: pixels), label: index % 3)
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
        let dataset = CountingDataset(count: 200)
        let loader = try ClipLoader(dataset: dataset, batchSize: 4, prefetch: 2)
        // Wait until the producer stops making progress.
        var previous = -1
        while dataset.madeCount != previous {
            previous = dataset.madeCount
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(loader.readyCount, 2)
        XCTAssertLessThanOrEqual(dataset.madeCount, 3 * 4, "two batches queued, at most one more waiting to enter")
        XCTAssertNotNil(try loader.next())
        loader.close()
    }

    func testCloseStopsTheProducerAndEndsIteration() throws {
        let loader = try ClipLoader(dataset: CountingDataset(count: 1000), batchSize: 2, prefetch: 1)
        XCTAssertNotNil(try loader.next())
        let started = Date()
        loader.close()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
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
