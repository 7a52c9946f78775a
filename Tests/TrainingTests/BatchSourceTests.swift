import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// An identity layer that adds `weight · mean(x²)` as a named loss in
/// training calls and counts the non-zero values it sees as `delta_density`,
/// as the DeltaActivation layer does with its sparsity loss and density.
final class PenaltyProbe: UnaryLayer {
    var weight: Float = 0
    var nonZero = 0.0, total = 0.0

    init(weight: Float, name: String) {
        self.weight = weight
        super.init(name: name)
    }

    required init(config: LayerConfig) throws { try super.init(config: config) }

    override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        if training { addLoss(try x.square().mean() * weight, name: "delta_loss") }
        nonZero += Double(x.scalars.filter { $0 != 0 }.count)
        total += Double(x.count)
        return x
    }

    override func trainingMetrics() -> [String: (sum: Double, count: Double)] {
        total > 0 ? ["delta_density": (nonZero, total)] : [:]
    }

    override func resetTrainingMetrics() {
        nonZero = 0
        total = 0
    }
}

final class BatchSourceTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("BatchSourceTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Sources

    func testArraySourceOrderIsFixedByEpochAndCoversEverySample() throws {
        let x = Tensor(shape: [7, 1], scalars: (0..<7).map(Float.init))
        let source = try ArrayBatchSource(x: x, batchSize: 3, shuffle: true, seed: 5)
        XCTAssertEqual(source.batchCount, 3)
        func epoch(_ e: Int) throws -> [[Float]] {
            let it = try source.batches(epoch: e)
            var out: [[Float]] = []
            while let b = try it.next() { out.append(b.x[0].scalars) }
            return out
        }
        let first = try epoch(0)
        XCTAssertEqual(first.map(\.count), [3, 3, 1], "the last batch is partial")
        XCTAssertEqual(first.joined().sorted(), (0..<7).map(Float.init), "every sample once")
        XCTAssertEqual(try epoch(0), first, "the same epoch gives the same batches")
        XCTAssertNotEqual(try epoch(1), first, "another epoch, another order")
        let plain = try ArrayBatchSource(x: x, batchSize: 3)
        XCTAssertEqual(try plain.batches(epoch: 4).next()?.x[0].scalars, [0, 1, 2])
    }

    /// The same batches through a source and through arrays give the same weights, bit for bit.
    func testFitOnASourceEqualsFitOnArrays() throws {
        let (x, y) = regressionData(11)
        let a = try smallRegressor(seed: 3), b = try smallRegressor(seed: 3)
        for m in [a, b] { try m.compile(optimizer: Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"]) }
        let ha = try a.fit(x: x, y: y, batchSize: 4, epochs: 2, shuffle: false, verbose: 0)
        let hb = try b.fit(try ArrayBatchSource(x: x, y: y, batchSize: 4), epochs: 2, verbose: 0)
        XCTAssertEqual(a.getWeights(), b.getWeights())
        XCTAssertEqual(ha.history, hb.history)
        let logs = try b.evaluate(try ArrayBatchSource(x: x, y: y, batchSize: 5), verbose: 0)
        XCTAssertEqual(logs, try a.evaluate(x: x, y: y, batchSize: 5, verbose: 0))
    }

    /// Inputs and targets may differ in length: clips as frames with one label per clip.
    func testBatchesMayHaveFewerTargetsThanInputs() throws {
        RandomState.seed(1)
        let input = Input(shape: [3])
        let clips = try ClipsOfTwo(name: "clips")(input)            // [2B, 3] → [B, 6]
        let out = try Dense(units: 2, name: "out")(clips)
        let model = try Model(inputs: [input], outputs: [out])
        try model.compile(optimizer: SGD(learningRate: 0.1), loss: "mse")
        var g = SeededGenerator(seed: 2)
        let batch = DataBatch(x: Tensor.randomNormal([4, 3], generator: &g), y: Tensor.randomNormal([2, 2], generator: &g))
        XCTAssertEqual(batch.count, 4)
        // The logged loss is the batch's loss before its update.
        let expected = try MeanSquaredError()(batch.y[0], try model.predictOnBatch(batch.x)[0])
        let history = try model.fit(FixedBatches(batches: [batch]), epochs: 1, verbose: 0)
        XCTAssertEqual(history.epoch, [0])
        XCTAssertEqual(history.history["loss"]![0], Double(expected.scalar), accuracy: 1e-6)
    }

    // MARK: Named losses and layer metrics

    /// Hand derivation: the probe passes x through, the Dense kernel is ones
    /// and its bias zero, SGD's rate is 0 so nothing changes. For a batch,
    /// task loss = mean((x₁ + x₂)²) (targets 0), delta_loss = 0.5·mean(x²),
    /// loss = their sum; epoch values weigh each batch by its sample count.
    /// delta_density = non-zero inputs ÷ all inputs seen in the epoch.
    func testNamedLossesAndLayerMetricsAreLoggedUnderTheirNames() throws {
        let x = Tensor(shape: [5, 2], scalars: [1, 0, 2, -1, 0, 0, 3, 1, -2, 2])
        let y = Tensor.zeros([5, 1])
        let input = Input(shape: [2])
        let probe = PenaltyProbe(weight: 0.5, name: "probe")
        let out = try Dense(units: 1, name: "out")(try probe(input))
        let model = try Model(inputs: [input], outputs: [out])
        try model.setWeights([Tensor.ones([2, 1]), Tensor.zeros([1])])
        try model.compile(optimizer: SGD(learningRate: 0), loss: "mse")

        let csv = folder.appendingPathComponent("log.csv")
        let sink = TextSink()
        let history = try model.fit(try ArrayBatchSource(x: x, y: y, batchSize: 3), epochs: 2,
                                    callbacks: [CSVLogger(filename: csv.path), ProgbarLogger(output: sink.write, isTerminal: false)],
                                    verbose: 1)
        let rows = stride(from: 0, to: 10, by: 2).map { (Double(x.scalars[$0]), Double(x.scalars[$0 + 1])) }
        func task(_ r: ArraySlice<(Double, Double)>) -> Double { r.map { ($0.0 + $0.1) * ($0.0 + $0.1) }.reduce(0, +) / Double(r.count) }
        func delta(_ r: ArraySlice<(Double, Double)>) -> Double { 0.5 * r.map { $0.0 * $0.0 + $0.1 * $0.1 }.reduce(0, +) / Double(2 * r.count) }
        let (b1, b2) = (rows[0..<3], rows[3..<5])
        let taskLoss = (3 * task(b1) + 2 * task(b2)) / 5, deltaLoss = (3 * delta(b1) + 2 * delta(b2)) / 5
        for epoch in 0..<2 {
            XCTAssertEqual(history.history["task_loss"]![epoch], taskLoss, accuracy: 1e-5)
            XCTAssertEqual(history.history["delta_loss"]![epoch], deltaLoss, accuracy: 1e-5)
            XCTAssertEqual(history.history["loss"]![epoch], taskLoss + deltaLoss, accuracy: 1e-5)
            XCTAssertEqual(history.history["delta_density"]![epoch], 7.0 / 10.0, "reset each epoch, not 14/20 … accumulated")
        }
        let header = try String(contentsOf: csv, encoding: .utf8).split(separator: "\r\n").first.map(String.init)
        XCTAssertEqual(header, "epoch,delta_density,delta_loss,loss,task_loss,val_delta_density,val_delta_loss,val_loss,val_task_loss")
        XCTAssertTrue(sink.text.contains(" - delta_density: 0.7000 - delta_loss: "), sink.text)
        XCTAssertTrue(sink.text.contains(" - task_loss: "), sink.text)

        // Evaluation adds no delta loss (inference calls) but counts the density afresh.
        let logs = try model.evaluate(try ArrayBatchSource(x: x, y: y, batchSize: 5), verbose: 0)
        XCTAssertEqual(logs["delta_density"], 0.7)
        XCTAssertNil(logs["delta_loss"])
        XCTAssertEqual(logs["loss"]!, taskLoss, accuracy: 1e-5)
    }

    func testValidationLogsGetTheirOwnLayerMetrics() throws {
        let x = Tensor(shape: [4, 2], scalars: [1, 1, 1, 1, 1, 1, 1, 1])
        let xv = Tensor(shape: [2, 2], scalars: [0, 0, 0, 1])
        let input = Input(shape: [2])
        let out = try Dense(units: 1, name: "out")(try PenaltyProbe(weight: 1, name: "probe")(input))
        let model = try Model(inputs: [input], outputs: [out])
        try model.compile(optimizer: SGD(learningRate: 0.01), loss: "mse")
        let history = try model.fit(try ArrayBatchSource(x: x, y: Tensor.zeros([4, 1]), batchSize: 2), epochs: 1,
                                    validationData: try ArrayBatchSource(x: xv, y: Tensor.zeros([2, 1]), batchSize: 2), verbose: 0)
        XCTAssertEqual(history.history["delta_density"], [1.0])
        XCTAssertEqual(history.history["val_delta_density"], [0.25])
    }

    // MARK: Custom losses

    /// A loss function computing what the compiled MSE computes trains
    /// exactly as `compile(loss: "mse")`.
    func testLossFunctionReplacesTheCompiledLoss() throws {
        let (x, y) = regressionData(10)
        let source = try ArrayBatchSource(x: x, y: y, batchSize: 4, shuffle: true, seed: 2)
        let custom = try smallRegressor(seed: 3), reference = try smallRegressor(seed: 3)
        try custom.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: nil)
        try reference.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: "mse")
        let history = try custom.fit(source, epochs: 3, verbose: 0) { step in
            XCTAssertTrue(step.training)
            return try MeanSquaredError()(step.batch.y[0], step.outputs[0])
        }
        let referenceHistory = try reference.fit(source, epochs: 3, verbose: 0)
        XCTAssertEqual(custom.getWeights(), reference.getWeights())
        XCTAssertEqual(history.history["loss"], referenceHistory.history["loss"])
    }

    /// Label-free: the targets come from a teacher run without gradient
    /// inside the loss function, which also logs the agreement.
    func testLossFunctionTrainsWithoutTargets() throws {
        let (x, _) = regressionData(10)
        let teacher = try smallRegressor(seed: 8)
        let student = try smallRegressor(seed: 3)
        try student.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: nil)
        var calls = 0, matches = 0
        let distill: LossFunction = { step in
            XCTAssertTrue(step.batch.y.isEmpty)
            let t = try withoutGradient { try teacher.predictOnBatch(step.batch.x)[0] }
            let agreement = try Distillation.agreement(student: step.outputs[0].detached, teacher: t)
            step.logMean("agreement", sum: Double(agreement.matches), count: Double(agreement.count))
            if step.training { calls += 1; matches += agreement.matches }
            return try Distillation.meanSquaredError(student: step.outputs[0], teacher: t)
        }
        let source = try ArrayBatchSource(x: x, batchSize: 4, shuffle: true, seed: 2)
        let before = try student.evaluate(source, verbose: 0, loss: distill)
        let history = try student.fit(source, epochs: 3, verbose: 0, loss: distill)
        XCTAssertEqual(calls, 9)
        let loss = try XCTUnwrap(history.history["loss"])
        XCTAssertLessThan(loss[2], before["loss"]!, "the student moves towards the teacher")
        let agreement = try XCTUnwrap(history.history["agreement"])
        XCTAssertEqual(agreement.count, 3)
        XCTAssertEqual(agreement.reduce(0, +) * 10, Double(matches), accuracy: 1e-9, "each epoch: matches ÷ 10 rows")
    }

    // MARK: Checkpoints

    /// A model with dropout (random draws), batch normalization (moving
    /// statistics) and Adam (slots), trained on shuffled batches.
    private func resumableModel(seed: UInt64) throws -> Model {
        RandomState.seed(seed)
        let input = Input(shape: [4])
        var h = try Dense(units: 6, activation: "relu", name: "d1")(input)
        h = try BatchNormalization(name: "bn")(h)
        h = try Dropout(rate: 0.3, name: "drop")(h)
        let out = try Dense(units: 2, name: "out")(h)
        let model = try Model(inputs: [input], outputs: [out])
        try model.compile(optimizer: Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"])
        return model
    }

    /// Thrown by a callback to simulate a crash after an epoch.
    struct Interrupted: Error {}

    final class InterruptAfter: Callback {
        let epoch: Int
        init(epoch: Int) { self.epoch = epoch }
        override func onEpochEnd(_ e: Int, logs: inout Logs) throws { if e == epoch { throw Interrupted() } }
    }

    func testStopAndResumeEndsBitIdenticalToAStraightRun() throws {
        let (x, y) = regressionData(19)
        let source = try ArrayBatchSource(x: x, y: y, batchSize: 4, shuffle: true, seed: 11)

        let straight = try resumableModel(seed: 1)
        let straightHistory = try straight.fit(source, epochs: 5, verbose: 0)
        let straightRandom = RandomState.generator.state

        let dir = folder.appendingPathComponent("backup").path
        let first = try resumableModel(seed: 1)
        XCTAssertThrowsError(try first.fit(source, epochs: 5, callbacks: [BackupAndRestore(backupDir: dir), InterruptAfter(epoch: 1)],
                                           verbose: 0)) { XCTAssertTrue($0 is Interrupted) }
        let backup = BackupAndRestore(backupDir: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: backup.checkpointURL.path))
        XCTAssertEqual(try TrainingCheckpoint(contentsOf: backup.checkpointURL).epoch, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["latest.checkpoint"], "no temporary file left")

        RandomState.seed(12345)                                    // a fresh process: other random state…
        let resumed = try resumableModel(seed: 77)                 // …and other initial weights
        let resumedHistory = try resumed.fit(source, epochs: 5, callbacks: [backup], verbose: 0)
        XCTAssertEqual(resumed.getWeights(), straight.getWeights(), "bit-identical weights")
        XCTAssertEqual(resumed.optimizer?.iterations, straight.optimizer?.iterations)
        XCTAssertEqual(resumed.optimizer?.variables.map(\.values), straight.optimizer?.variables.map(\.values), "bit-identical optimizer state")
        XCTAssertEqual(RandomState.generator.state, straightRandom)
        XCTAssertEqual(resumedHistory.epoch, [0, 1, 2, 3, 4])
        XCTAssertEqual(resumedHistory.history, straightHistory.history)
        XCTAssertEqual(backup.lastEpoch, 5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: backup.checkpointURL.path), "deleted after a normal end")
    }

    /// Arrays shuffled by `fit` itself: the shuffle generator is saved too.
    func testArrayFitResumesBitIdentically() throws {
        let (x, y) = regressionData(13)
        let straight = try resumableModel(seed: 2)
        try straight.fit(x: x, y: y, batchSize: 5, epochs: 4, seed: 9, verbose: 0)
        let dir = folder.appendingPathComponent("arrays").path
        let first = try resumableModel(seed: 2)
        XCTAssertThrowsError(try first.fit(x: x, y: y, batchSize: 5, epochs: 4, seed: 9,
                                           callbacks: [BackupAndRestore(backupDir: dir), InterruptAfter(epoch: 2)], verbose: 0))
        let resumed = try resumableModel(seed: 3)
        try resumed.fit(x: x, y: y, batchSize: 5, epochs: 4, seed: 9, callbacks: [BackupAndRestore(backupDir: dir)], verbose: 0)
        XCTAssertEqual(resumed.getWeights(), straight.getWeights())
    }

    /// A NaN loss in epoch 3 stops the run; the checkpoint keeps epoch 2,
    /// equal to a clean run of 2 epochs, and is not deleted.
    func testNaNStopsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        let (x, y) = regressionData(12)
        let source = try ArrayBatchSource(x: x, y: y, batchSize: 4, shuffle: true, seed: 3)
        let mse = MeanSquaredError()
        func run(_ model: Model, epochs: Int, nanAtStep: Int?, callbacks: [Callback]) throws -> History {
            var step = 0
            return try model.fit(source, epochs: epochs, callbacks: callbacks, verbose: 0) { context in
                defer { step += 1 }
                let loss = try mse(context.batch.y[0], context.outputs[0])
                return step == nanAtStep ? loss * Float.nan : loss
            }
        }
        let clean = try resumableModel(seed: 4)
        _ = try run(clean, epochs: 2, nanAtStep: nil, callbacks: [])

        let dir = folder.appendingPathComponent("nan").path
        let backup = BackupAndRestore(backupDir: dir)             // deleteCheckpoint: true
        let model = try resumableModel(seed: 4)
        let history = try run(model, epochs: 5, nanAtStep: 2 * 3 + 1, callbacks: [backup])
        XCTAssertEqual(history.epoch, [0, 1])
        XCTAssertTrue(history.stopReason?.hasPrefix("Epoch 3, batch 2: the loss is nan") ?? false, history.stopReason ?? "none")
        let checkpoint = try TrainingCheckpoint(contentsOf: backup.checkpointURL)
        XCTAssertEqual(checkpoint.epoch, 2)
        XCTAssertEqual(checkpoint.weights.map(\.value), clean.getWeights(), "the last good epoch, bit for bit")
        XCTAssertEqual(checkpoint.iterations, 6)
        XCTAssertTrue(model.getWeights().allSatisfy { $0.scalars.allSatisfy(\.isFinite) })

        // Restoring it into a fresh model gives the clean run's state.
        let fresh = try resumableModel(seed: 99)
        try checkpoint.restore(into: fresh)
        XCTAssertEqual(fresh.getWeights(), clean.getWeights())
        XCTAssertEqual(fresh.optimizer?.variables.map(\.values), clean.optimizer?.variables.map(\.values))
    }

    func testBadCheckpointsThrowNamingTheFileAndPart() throws {
        let model = try resumableModel(seed: 5)
        let (x, y) = regressionData(4)
        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, verbose: 0)
        let url = folder.appendingPathComponent("c.checkpoint")
        try TrainingCheckpoint(model: model, epoch: 1).write(to: url)
        let data = try Data(contentsOf: url)

        try data.prefix(data.count - 8).write(to: url)
        XCTAssertThrowsError(try TrainingCheckpoint(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path): weights/d1/kernel: values outside the file (truncated?)")
                          || "\(error)".contains("\(url.path): optimizer/"), "\(error)")
        }
        try Data("not a checkpoint at all".utf8).write(to: url)
        XCTAssertThrowsError(try TrainingCheckpoint(contentsOf: url)) { error in
            XCTAssertEqual("\(error)", "invalid data: \(url.path): header: not a KerasDelta training checkpoint")
        }
        try data.write(to: url)
        let other = try smallRegressor()
        try other.compile(optimizer: "adam", loss: "mse")
        XCTAssertThrowsError(try TrainingCheckpoint(contentsOf: url).restore(into: other, origin: url.path)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path): weights: the file has 8 weights"), "\(error)")
        }
    }

    // MARK: Frozen batch normalization

    func testFrozenBatchNormalizationKeepsItsStatistics() throws {
        let (x, y) = regressionData(8)
        for trainAffine in [false, true] {
            let model = try resumableModel(seed: 6)
            let bn = try XCTUnwrap(try model.layer(named: "bn") as? BatchNormalization)
            try bn.movingMean.assign(Tensor(shape: [6], scalars: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
            let frozen = model.freezeBatchNormalization(trainAffine: trainAffine)
            XCTAssertEqual(frozen.count, 1)
            let before = bn.weights.map(\.value)
            try model.fit(x: x, y: y, batchSize: 4, epochs: 2, verbose: 0)
            XCTAssertEqual(bn.movingMean.value, before[2], "moving mean unchanged")
            XCTAssertEqual(bn.movingVariance.value, before[3], "moving variance unchanged")
            if trainAffine {
                XCTAssertNotEqual(bn.gamma!.value, before[0], "gamma trains")
            } else {
                XCTAssertEqual(bn.gamma!.value, before[0], "gamma frozen, as Keras's trainable = False")
            }
            // A training call normalizes with the moving statistics.
            let probe = try Tensor(shape: [2, 6], scalars: (0..<12).map { Float($0) })
            XCTAssertEqual(try bn(probe, training: true), try bn(probe, training: false))
            model.unfreezeBatchNormalization()
            XCTAssertTrue(bn.trainable)
            XCTAssertFalse(bn.freezeStatistics)
        }
    }
}

/// Joins each two consecutive rows: `[2B, F]` → `[B, 2F]` (a per-clip head on frames).
final class ClipsOfTwo: UnaryLayer {
    init(name: String) { super.init(name: name) }
    required init(config: LayerConfig) throws { try super.init(config: config) }
    override func call(_ x: Tensor, training: Bool) throws -> Tensor { try x.reshaped(to: [x.shape[0] / 2, 2 * x.shape[1]]) }
    override func computeOutputShape(_ s: Shape) throws -> Shape { [s[0].map { $0 / 2 }, s[1].map { 2 * $0 }] }
}

/// Batches given in advance, the same every epoch.
struct FixedBatches: BatchSource {
    let batches: [DataBatch]
    var batchCount: Int { batches.count }
    func batches(epoch: Int) throws -> BatchIterator { BatchIterator(batches) }
}
