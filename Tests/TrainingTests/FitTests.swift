import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// The training loop's contract beyond Keras parity: determinism, data
/// splitting, NaN handling, errors, multi-output models and the compile config.
final class FitTests: XCTestCase {
    private func trained(seed: UInt64, shuffleSeed: UInt64) throws -> (Model, History) {
        let model = try smallRegressor(seed: seed)
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"])
        let (x, y) = regressionData(23)
        let history = try model.fit(x: x, y: y, batchSize: 5, epochs: 3, shuffle: true, seed: shuffleSeed, verbose: 0)
        return (model, history)
    }

    func testSameSeedAndDataGiveBitIdenticalTraining() throws {
        let (a, ha) = try trained(seed: 3, shuffleSeed: 7)
        let (b, hb) = try trained(seed: 3, shuffleSeed: 7)
        XCTAssertEqual(a.getWeights(), b.getWeights())
        XCTAssertEqual(ha.history, hb.history)
        let (c, _) = try trained(seed: 3, shuffleSeed: 8)
        XCTAssertNotEqual(a.getWeights(), c.getWeights(), "another shuffle seed visits batches in another order")
    }

    func testRandomStateSeedsTheShuffleWhenNoSeedIsGiven() throws {
        func run() throws -> [Tensor] {
            let model = try smallRegressor(seed: 4)
            try model.compile(optimizer: SGD(learningRate: 0.1), loss: "mse")
            let (x, y) = regressionData(12)
            RandomState.seed(99)
            try model.fit(x: x, y: y, batchSize: 4, epochs: 2, verbose: 0)
            return model.getWeights()
        }
        XCTAssertEqual(try run(), try run())
    }

    func testValidationSplitHoldsOutTheLastSamples() throws {
        let model = try smallRegressor()
        try model.compile(optimizer: SGD(learningRate: 0.05), loss: "mse", metrics: ["mae"])
        let (x, y) = regressionData(12)
        let history = try model.fit(x: x, y: y, batchSize: 4, epochs: 1, shuffle: true, seed: 1, validationSplit: 0.25, verbose: 0)
        let tail = try model.evaluate(x: try x.slice(begin: [9, 0], size: [3, 4]), y: try y.slice(begin: [9, 0], size: [3, 2]), verbose: 0)
        XCTAssertEqual(history.history["val_loss"]![0], tail["loss"]!, accuracy: 1e-6)
        XCTAssertEqual(history.history["val_mae"]![0], tail["mae"]!, accuracy: 1e-6)
        XCTAssertThrowsError(try model.fit(x: x, y: y, validationSplit: 0.99, verbose: 0))
    }

    func testNaNInTheDataStopsBeforeTheBadUpdate() throws {
        var (x, y) = regressionData(8)
        var scalars = x.scalars
        scalars[5 * 4] = .nan                          // sample 5: the second batch of 4
        x = Tensor(shape: x.shape, scalars: scalars)
        let model = try smallRegressor(seed: 2), reference = try smallRegressor(seed: 2)
        for m in [model, reference] { try m.compile(optimizer: SGD(learningRate: 0.1, momentum: 0.9), loss: "mse") }
        let history = try model.fit(x: x, y: y, batchSize: 4, epochs: 3, shuffle: false, verbose: 0)
        XCTAssertEqual(history.epoch, [], "the first epoch never completes")
        let reason = try XCTUnwrap(history.stopReason)
        XCTAssertTrue(reason.hasPrefix("Epoch 1, batch 2: the loss is nan"), reason)
        try reference.trainOnBatch(x: try x.slice(begin: [0, 0], size: [4, 4]), y: try y.slice(begin: [0, 0], size: [4, 2]))
        XCTAssertEqual(model.getWeights(), reference.getWeights(), "only the first batch was applied")

        let before = model.getWeights()
        XCTAssertThrowsError(try model.trainOnBatch(x: try x.slice(begin: [4, 0], size: [4, 4]), y: try y.slice(begin: [4, 0], size: [4, 2]))) { error in
            guard case TrainingError.nonFinite(let m) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(m, "the loss is nan")
        }
        XCTAssertEqual(model.getWeights(), before)
    }

    func testDivergenceKeepsTheLastGoodCheckpoint() throws {
        let model = try smallRegressor()
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "mse")
        let (x, y) = regressionData(8)
        var saves: [Int] = []
        let checkpoint = try ModelCheckpoint(filepath: "/tmp/unused-{epoch}.keras", saver: { _, url in
            saves.append(Int(url.lastPathComponent.dropFirst("unused-".count).prefix { $0.isNumber })!)
        }, monitor: "loss")
        // From the second epoch on the rate is absurd: the weights overflow.
        let blowUp = LearningRateScheduler { epoch, rate in epoch == 0 ? rate : 1e30 }
        let history = try model.fit(x: x, y: y, batchSize: 2, epochs: 3, shuffle: false, callbacks: [blowUp, checkpoint], verbose: 0)
        XCTAssertEqual(history.epoch, [0])
        XCTAssertEqual(saves, [1], "only the finished, finite epoch was saved")
        XCTAssertTrue(history.stopReason?.hasPrefix("Epoch 2, batch ") ?? false, history.stopReason ?? "no reason")
        XCTAssertTrue(model.getWeights().allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
    }

    func testErrors() throws {
        let model = try smallRegressor()
        let (x, y) = regressionData(6)
        XCTAssertThrowsError(try model.fit(x: x, y: y, verbose: 0)) { error in
            XCTAssertEqual(error as? TrainingError, .notCompiled("fit"))
        }
        try model.compile(optimizer: "adam", loss: "mse")
        XCTAssertThrowsError(try model.fit(x: x, y: try y.slice(begin: [0, 0], size: [5, 2]), verbose: 0)) { error in
            XCTAssertTrue("\(error)".contains("data cardinality is ambiguous"), "\(error)")
        }
        XCTAssertThrowsError(try model.fit(x: x, y: y, classWeight: [0: 1], sampleWeight: Tensor.ones([6]), verbose: 0))
        XCTAssertThrowsError(try model.fit(x: x, y: y, batchSize: 0, verbose: 0))
    }

    func testPredictAndEvaluate() throws {
        let model = try smallRegressor()
        try model.compile(optimizer: "sgd", loss: "mse", metrics: ["mae"])
        let (x, y) = regressionData(10)
        let predicted = try model.predict(x: x, batchSize: 3, verbose: 0)
        XCTAssertEqual(predicted, try model(x))
        let logs = try model.evaluate(x: x, y: y, batchSize: 4, verbose: 0)
        let mse = try (try predicted - y).square().mean().scalar
        XCTAssertEqual(logs["loss"]!, Double(mse), accuracy: 1e-6)
        XCTAssertEqual(Set(logs.keys), ["loss", "mae"])
        XCTAssertEqual(model.metricsNames, ["loss", "mae"])
    }

    func testTrainOnBatchAccumulatesUntilReset() throws {
        let model = try smallRegressor()
        try model.compile(optimizer: SGD(learningRate: 0), loss: "mse")
        let (x, y) = regressionData(4)
        let first = try model.trainOnBatch(x: x, y: y)["loss"]!
        let (x2, y2) = regressionData(4, seed: 10)
        let second = try model.trainOnBatch(x: x2, y: y2)["loss"]!
        let alone = try model.evaluate(x: x2, y: y2, verbose: 0)["loss"]!
        XCTAssertEqual(second, (first + alone) / 2, accuracy: 1e-6)
        model.resetMetrics()
        XCTAssertEqual(try model.trainOnBatch(x: x2, y: y2)["loss"]!, alone, accuracy: 1e-6)
    }

    func testMultiOutputModel() throws {
        RandomState.seed(1)
        let input = Input(shape: [3])
        let a = try Dense(units: 2, name: "head_a")(input), b = try Dense(units: 1, name: "head_b")(input)
        let model = try Model(inputs: [input], outputs: [a, b])
        try model.compile(optimizer: SGD(learningRate: 0.01), losses: ["mse", "mae"], lossWeights: [1, 0.5],
                          outputMetrics: [["mae"], []])
        var g = SeededGenerator(seed: 3)
        let x = Tensor.randomNormal([6, 3], generator: &g)
        let ys = [Tensor.randomNormal([6, 2], generator: &g), Tensor.randomNormal([6, 1], generator: &g)]
        let history = try model.fit(x: [x], y: ys, batchSize: 6, epochs: 1, verbose: 0)
        XCTAssertEqual(Set(history.history.keys), ["loss", "head_a_loss", "head_b_loss", "head_a_mae"])
        let logs = try model.evaluate(x: [x], y: ys, verbose: 0)
        XCTAssertEqual(logs["loss"]!, logs["head_a_loss"]! + 0.5 * logs["head_b_loss"]!, accuracy: 1e-6)
        XCTAssertEqual(try model.predict(x: [x], verbose: 0).map { $0.shape }, [[6, 2], [6, 1]])
        XCTAssertThrowsError(try model.compile(optimizer: "sgd", loss: "mse", metrics: ["mae"]))
    }

    func testSequentialBuildsOnFirstBatch() throws {
        RandomState.seed(6)
        let model = try Sequential([Dense(units: 4, activation: "relu"), Dense(units: 1)])
        try model.compile(optimizer: RMSprop(learningRate: 0.01), loss: "mse")
        let (x, y) = regressionData(16, features: 3, outputs: 1)
        let history = try model.fit(x: x, y: y, batchSize: 4, epochs: 4, verbose: 0)
        XCTAssertEqual(model.trainableWeights.count, 4)
        XCTAssertLessThan(history.history["loss"]!.last!, history.history["loss"]!.first!)
    }

    func testConstraintsApplyAfterEachUpdate() throws {
        RandomState.seed(2)
        let x = Input(shape: [4])
        let dense = try Dense(config: LayerConfig(["name": "d", "units": 3, "kernel_constraint": ["class_name": "NonNeg", "config": [:]]]))
        let model = try Model(inputs: [x], outputs: [try dense(x)])
        try model.compile(optimizer: SGD(learningRate: 1), loss: "mse")
        let (xs, ys) = regressionData(8, outputs: 3)
        try model.fit(x: xs, y: ys, batchSize: 4, epochs: 2, verbose: 0)
        XCTAssertTrue(dense.kernel.value.scalars.allSatisfy { $0 >= 0 })
    }
}
