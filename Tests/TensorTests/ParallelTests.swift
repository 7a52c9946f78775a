import Foundation
import Synchronization
import XCTest
@testable import Tensor

/// The worker pool behind `parallelFor` and `Parallelism.perform`: every
/// iteration runs exactly once, for back-to-back sections, nested sections,
/// and sections started from several threads at once.
final class ParallelTests: XCTestCase {
    /// Runs `perform` with `iterations` and returns how often each iteration ran.
    private func counts(_ iterations: Int) -> [Int] {
        // Each iteration writes only its own slot.
        var counts = [Int](repeating: 0, count: iterations)
        counts.withUnsafeMutableBufferPointer { counts in
            Parallelism.perform(iterations: iterations) { counts[$0] += 1 }
        }
        return counts
    }

    func testEveryIterationRunsOnceInManyShortSections() {
        // Sizes cycle through 0…70, so sections of one iteration (inline), of
        // a few, and of more than there are cores all follow each other.
        for section in 0..<5_000 {
            let iterations = section % 71
            XCTAssertEqual(counts(iterations), [Int](repeating: 1, count: iterations), "section \(section)")
        }
    }

    func testSectionsLargerThanTheJobWordFallBack() {
        // 2¹⁶ iterations do not fit the pool's 16-bit counter.
        XCTAssertEqual(counts(1 << 16), [Int](repeating: 1, count: 1 << 16))
    }

    func testNestedSectionsRunEveryInnerIteration() {
        let total = Atomic<Int>(0)
        Parallelism.perform(iterations: 8) { outer in
            Parallelism.perform(iterations: outer + 2) { inner in total.add(inner + 1, ordering: .relaxed) }
        }
        // Σ_{o=0}^{7} Σ_{i=1}^{o+2} i = Σ_{n=2}^{9} n(n+1)/2 = 3+6+10+15+21+28+36+45 = 164.
        XCTAssertEqual(total.load(ordering: .relaxed), 164)
    }

    func testSectionsFromSeveralThreadsAtOnce() {
        // Four threads race for the pool; the losers run on libdispatch.
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for section in 0..<500 {
                let iterations = 2 + (section + thread) % 9
                if counts(iterations) != [Int](repeating: 1, count: iterations) { failures.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }

    func testParallelForCoversEachIndexOnce() {
        let count = 1 << 18 + 13
        var hits = [UInt8](repeating: 0, count: count)
        hits.withUnsafeMutableBufferPointer { hits in
            parallelFor(count, grain: 1 << 12) { range in for i in range { hits[i] &+= 1 } }
        }
        XCTAssertEqual(hits.firstIndex { $0 != 1 }, nil)
    }
}
