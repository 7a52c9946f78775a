import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// Several threads at once: two models predicting and a third training (with
/// dropout, so it draws random numbers and records gradients) must each give
/// exactly what they give alone. Gradient recording, `withoutGradient`, the
/// random state and the loader's placeholder budget are per thread; the
/// registries and id counters are locked.
final class ThreadSafetyTests: XCTestCase {
    /// A convolutional classifier's predictions on fixed data.
    private static func convPredict() throws -> [Tensor] {
        RandomState.seed(11)
        let x = Input(shape: [8, 8, 2])
        var h = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", activation: "relu")(x)
        h = try GlobalAveragePooling2D()(h)
        let y = try Dense(units: 3, activation: "softmax")(h)
        let model = try Model(inputs: [x], outputs: [y])
        var g = SeededGenerator(seed: 21)
        let input = Tensor.randomNormal([6, 8, 8, 2], generator: &g)
        return try (0..<5).map { _ in try model.predict(x: input, batchSize: 4, verbose: 0) }
    }

    /// An LSTM's predictions on fixed data.
    private static func recurrentPredict() throws -> [Tensor] {
        RandomState.seed(12)
        let x = Input(shape: [7, 3])
        let h = try LSTM(units: 5)(x)
        let y = try Dense(units: 2)(h)
        let model = try Model(inputs: [x], outputs: [y])
        var g = SeededGenerator(seed: 22)
        let input = Tensor.randomNormal([5, 7, 3], generator: &g)
        return try (0..<5).map { _ in try model.predict(x: input, batchSize: 2, verbose: 0) }
    }

    /// A regressor with dropout trained for a few epochs: its weights and losses.
    private static func fitted() throws -> [Tensor] {
        RandomState.seed(13)
        let x = Input(shape: [4])
        var h = try Dense(units: 8, activation: "tanh")(x)
        h = try Dropout(rate: 0.25)(h)
        let y = try Dense(units: 2)(h)
        let model = try Model(inputs: [x], outputs: [y])
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: "mse")
        let (data, targets) = regressionData(24)
        let history = try model.fit(x: data, y: targets, batchSize: 6, epochs: 4, shuffle: true, seed: 3, verbose: 0)
        let losses = try XCTUnwrap(history.history["loss"])
        XCTAssertEqual(losses.count, 4)
        return model.getWeights() + [Tensor(shape: [losses.count], scalars: losses.map { Float($0) })]
    }

    func testTwoPredictsAndAFitOnThreeThreadsMatchEachAlone() throws {
        let jobs: [@Sendable () throws -> [Tensor]] = [Self.convPredict, Self.recurrentPredict, Self.fitted]
        let alone = try jobs.map { try $0() }
        XCTAssertEqual(alone.count, 3)
        for round in 0..<5 {
            let results = ResultBox(count: jobs.count)
            let group = DispatchGroup()
            for (index, job) in jobs.enumerated() {
                group.enter()
                let thread = Thread {
                    results.set(index, Result { try job() })
                    group.leave()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            group.wait()
            for index in jobs.indices {
                let got = try results.get(index).get()
                XCTAssertEqual(got.count, alone[index].count, "round \(round), job \(index)")
                for (a, b) in zip(got, alone[index]) {
                    XCTAssertEqual(a.shape, b.shape, "round \(round), job \(index)")
                    XCTAssertEqual(a.scalars, b.scalars, "round \(round), job \(index): differs from the single-thread run")
                }
            }
        }
    }

    func testWithoutGradientOnOneThreadDoesNotStopRecordingOnAnother() throws {
        let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let other = Thread {
            withoutGradient {
                entered.signal()
                release.wait()
            }
        }
        other.start()
        entered.wait()
        defer { release.signal() }
        XCTAssertFalse(GradientTape.isDisabled, "another thread's withoutGradient leaked into this one")
        let variable = Variable(Tensor(shape: [2], scalars: [1, 2]), name: "v")
        let tape = GradientTape()
        let loss = try tape.record { try (variable.read() * variable.read()).sum() }
        let gradient = try XCTUnwrap(try tape.gradient(of: loss, wrt: [variable]).first ?? nil)
        XCTAssertEqual(gradient.scalars, [2, 4])
    }

    func testRandomStateIsPerThread() throws {
        RandomState.seed(5)
        let here = RandomState.generator.next()
        let box = ResultBox(count: 1)
        let group = DispatchGroup()
        group.enter()
        Thread {
            RandomState.seed(5)
            box.set(0, .success([Tensor(shape: [1], scalars: [Float(RandomState.generator.next() % 1000)])]))
            group.leave()
        }.start()
        group.wait()
        XCTAssertEqual(try box.get(0).get()[0].scalars, [Float(here % 1000)], "a thread seeded alike draws alike")
    }
}

/// Results written by worker threads, read after they finish.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[Tensor], Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[Tensor], Error>) {
        lock.lock(); defer { lock.unlock() }
        results[index] = result
    }

    func get(_ index: Int) throws -> Result<[Tensor], Error> {
        lock.lock(); defer { lock.unlock() }
        return try XCTUnwrap(results[index], "job \(index) did not finish")
    }
}
