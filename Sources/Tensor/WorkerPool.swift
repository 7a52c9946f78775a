import Foundation
import Synchronization

/// Persistent worker threads for the kernels' parallel sections.
///
/// A model such as NASNetMobile runs a thousand short parallel sections per
/// step. Waking libdispatch's workers for each one costs more than many of
/// the sections themselves, so these workers spin for a short while after
/// each section, ready for the next, and only then sleep.
///
/// One caller at a time owns the pool. A section nested in one of its
/// sections runs inline on its thread (the cores are busy already); a
/// section that another thread starts meanwhile runs on libdispatch.
/// `KERAS_DELTA_WORKER_POOL=0` in the environment sends every call there
/// (for a machine whose cores are oversubscribed, or to compare).
final class WorkerPool: @unchecked Sendable {
    // Sendable: the job's closure is published through `job` (release) and
    // read after a successful claim (acquire); it is never written while a
    // claim on it can succeed.

    /// The process's pool: one worker per core besides the caller's.
    static let shared = WorkerPool(workers: ProcessInfo.processInfo.environment["KERAS_DELTA_WORKER_POOL"] == "0"
                                   ? 0 : Parallelism.cores - 1)

    /// How long an idle worker keeps polling for the next section.
    static let spinNanoseconds: UInt64 = 200_000

    private struct Job {
        let body: (Int) -> Void
    }

    /// The current section: generation (bits 32…), iteration count
    /// (bits 16..<32) and next unclaimed iteration (bits 0..<16).
    private let job = Atomic<Int>(0)
    /// Iterations of the current section not yet finished.
    private let unfinished = Atomic<Int>(0)
    /// The address of the current section's `Job`, on its caller's stack.
    private let body = Atomic<Int>(0)
    /// The owning thread (``currentThread``), 0 while the pool is free.
    private let owner = Atomic<UInt>(0)
    /// Set (non-nil) on the pool's own threads.
    private var workerKey = pthread_key_t()
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    private let workers: Int

    private static let maxIterations = 1 << 16 - 1

    private init(workers: Int) {
        self.workers = workers
        pthread_key_create(&workerKey, nil)
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "keras-delta worker \(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(0)`, …, `body(iterations - 1)` on the caller and the
    /// workers, and returns when all have finished.
    func perform(iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 1 {
            if iterations == 1 { body(0) }
            return
        }
        let thread = Self.currentThread
        guard workers > 0, iterations <= Self.maxIterations,
              owner.compareExchange(expected: 0, desired: thread, ordering: .acquiring).exchanged else {
            if isInSection(thread) {
                for i in 0..<iterations { body(i) }
            } else {
                DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
            }
            return
        }
        defer { owner.store(0, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            var section = Job(body: body)
            withUnsafePointer(to: &section) { pointer in
                self.body.store(Int(bitPattern: pointer), ordering: .relaxed)
                unfinished.store(iterations, ordering: .relaxed)
                let generation = (job.load(ordering: .relaxed) >> 32 + 1) & 0x7fff_ffff
                job.store(generation << 32 | iterations << 16, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    wake.lock()
                    wake.broadcast()
                    wake.unlock()
                }
                claimAndRun(generation: generation)
                var polls = 0
                while unfinished.load(ordering: .acquiring) > 0 {
                    polls += 1
                    if polls & 1023 == 0 { sched_yield() }
                }
            }
        }
    }

    /// The calling thread's `pthread_self`, never 0.
    private static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: pthread_self())) }

    /// Whether `thread`, the caller, is running an iteration of a section.
    private func isInSection(_ thread: UInt) -> Bool {
        pthread_getspecific(workerKey) != nil || owner.load(ordering: .relaxed) == thread
    }

    /// Claims and runs iterations of section `generation` until none is left.
    private func claimAndRun(generation: Int) {
        var word = job.load(ordering: .acquiring)
        while word >> 32 == generation {
            let (count, next) = (word >> 16 & 0xffff, word & 0xffff)
            if next >= count { return }
            let (exchanged, current) = job.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                run(iteration: next)
                unfinished.subtract(1, ordering: .releasing)
                word = word + 1
            } else {
                word = current
            }
        }
    }

    /// Calls the section's body outside `claimAndRun`, so that any reference
    /// the call takes on the closure is dropped before the iteration counts as
    /// finished (`withoutActuallyEscaping` checks that none is left).
    @inline(never)
    private func run(iteration: Int) {
        let pointer = UnsafePointer<Job>(bitPattern: body.load(ordering: .relaxed))!
        pointer.pointee.body(iteration)
    }

    private func work() {
        pthread_setspecific(workerKey, UnsafeRawPointer(bitPattern: 1))
        var seen = 0
        while true {
            var word = job.load(ordering: .acquiring)
            if word >> 32 == seen {
                // Poll for the next section, then sleep until it comes.
                let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                var polls = 0
                while word >> 32 == seen {
                    polls += 1
                    if polls & 255 == 0, DispatchTime.now().uptimeNanoseconds > deadline { break }
                    word = job.load(ordering: .acquiring)
                }
                if word >> 32 == seen {
                    wake.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while job.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    wake.unlock()
                    word = job.load(ordering: .acquiring)
                }
            }
            seen = word >> 32
            claimAndRun(generation: seen)
        }
    }
}
