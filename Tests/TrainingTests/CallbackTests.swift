import Foundation
import Layers
import Tensor
@testable import Training
import XCTest

/// Callback logic: EarlyStopping and ReduceLROnPlateau against Keras 3 fed
/// the same epoch logs; the others against Keras's documented behaviour.
final class CallbackTests: XCTestCase {
    private func compiledModel(learningRate: Float = 1) throws -> Model {
        let model = try smallRegressor()
        try model.compile(optimizer: SGD(learningRate: .constant(learningRate)), loss: "mse", metrics: ["mae"])
        return model
    }

    private func mode(_ json: JSONValue?) -> MonitorCallback.Mode {
        json?.stringValue.flatMap { MonitorCallback.Mode(rawValue: $0) } ?? .auto
    }

    func testEarlyStoppingMatchesKeras() throws {
        // tools/gen_training_fixtures.py writes 7 EarlyStopping cases.
        let cases = try XCTUnwrap(Fixture.json("callbacks.json")["early_stopping"]?.arrayValue)
        XCTAssertEqual(cases.count, 7, "early_stopping cases in callbacks.json")
        for c in cases {
            let k = try XCTUnwrap(c["kwargs"])
            let model = try compiledModel()
            let stop = EarlyStopping(monitor: k["monitor"]?.stringValue ?? "val_loss", minDelta: k["min_delta"]?.doubleValue ?? 0,
                                     patience: k["patience"]?.intValue ?? 0, mode: mode(k["mode"]),
                                     baseline: k["baseline"]?.doubleValue, startFromEpoch: k["start_from_epoch"]?.intValue ?? 0)
            stop.model = model
            try stop.onTrainBegin(logs: [:])
            let key = try XCTUnwrap(c["key"]?.stringValue)
            var stoppedAt: Int?
            for (epoch, v) in try XCTUnwrap(c["values"]?.arrayValue).enumerated() {
                var logs: Logs = [key: v.doubleValue!]
                try stop.onEpochEnd(epoch, logs: &logs)
                if model.stopTraining { stoppedAt = epoch; break }
            }
            XCTAssertEqual(stoppedAt, c["stopped_at"]?.intValue, "EarlyStopping \(c.name): stop epoch")
            XCTAssertEqual(stop.bestEpoch, c["best_epoch"]?.intValue, "EarlyStopping \(c.name): best epoch")
            XCTAssertEqual(stop.wait, c["wait"]?.intValue, "EarlyStopping \(c.name): wait")
            XCTAssertEqual(stop.best, c["best"]?.doubleValue, "EarlyStopping \(c.name): best")
        }
    }

    func testReduceLROnPlateauMatchesKeras() throws {
        // tools/gen_training_fixtures.py writes 4 ReduceLROnPlateau cases.
        let cases = try XCTUnwrap(Fixture.json("callbacks.json")["reduce_lr_on_plateau"]?.arrayValue)
        XCTAssertEqual(cases.count, 4, "reduce_lr_on_plateau cases in callbacks.json")
        for c in cases {
            let k = try XCTUnwrap(c["kwargs"])
            let model = try compiledModel()
            let reduce = try ReduceLROnPlateau(monitor: k["monitor"]?.stringValue ?? "val_loss", factor: k["factor"]?.doubleValue ?? 0.1,
                                           patience: k["patience"]?.intValue ?? 10, mode: mode(k["mode"]),
                                           minDelta: k["min_delta"]?.doubleValue ?? 1e-4, cooldown: k["cooldown"]?.intValue ?? 0,
                                           minLR: k["min_lr"]?.doubleValue ?? 0)
            reduce.model = model
            try reduce.onTrainBegin(logs: [:])
            let key = try XCTUnwrap(c["key"]?.stringValue)
            let expected = try XCTUnwrap(c["learning_rates"]?.arrayValue).map { Float($0.doubleValue!) }
            let values = try XCTUnwrap(c["values"]?.arrayValue)
            XCTAssertEqual(values.count, expected.count, "ReduceLROnPlateau \(c.name): values and learning rates")
            guard values.count == expected.count else { continue }
            for (epoch, v) in values.enumerated() {
                var logs: Logs = [key: v.doubleValue!]
                try reduce.onEpochEnd(epoch, logs: &logs)
                XCTAssertNotNil(logs["learning_rate"])
                XCTAssertEqual(model.optimizer!.currentLearningRate, expected[epoch], "ReduceLROnPlateau \(c.name) after epoch \(epoch)")
            }
        }
    }

    func testAutoModeNeedsAKnownDirection() throws {
        let model = try compiledModel()
        let stop = EarlyStopping(monitor: "val_mystery")
        stop.model = model
        var logs: Logs = ["val_mystery": 1]
        XCTAssertThrowsError(try stop.onEpochEnd(0, logs: &logs)) { error in
            XCTAssertTrue("\(error)".contains("pass mode: .max or mode: .min"), "\(error)")
        }
    }

    func testRestoreBestWeights() throws {
        let model = try compiledModel()
        let best = model.getWeights()
        let stop = EarlyStopping(monitor: "val_loss", patience: 1, restoreBestWeights: true)
        stop.model = model
        try stop.onTrainBegin(logs: [:])
        var logs: Logs = ["val_loss": 1]
        try stop.onEpochEnd(0, logs: &logs)
        try model.setWeights(best.map { $0 * 0 })
        logs = ["val_loss": 2]
        try stop.onEpochEnd(1, logs: &logs)
        XCTAssertTrue(model.stopTraining)
        try stop.onTrainEnd(logs: [:])
        XCTAssertEqual(model.getWeights(), best)
    }

    func testEarlyStoppingEndsFit() throws {
        let model = try compiledModel(learningRate: 0)   // no progress at all
        let (x, y) = regressionData(8)
        let history = try model.fit(x: x, y: y, batchSize: 4, epochs: 10, shuffle: false,
                                    callbacks: [EarlyStopping(monitor: "loss", patience: 2)], verbose: 0)
        XCTAssertEqual(history.epoch, [0, 1, 2])
    }

    func testModelCheckpointSavesBestWithFormattedPaths() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var saved: [String] = []
        let checkpoint = try ModelCheckpoint(filepath: dir.path + "/m-{epoch:02d}-{loss:.3f}.keras", saver: { _, url in
            saved.append(url.lastPathComponent)
            try Data("model".utf8).write(to: url)
        }, monitor: "loss", saveBestOnly: true)
        let model = try compiledModel(learningRate: 0.05)
        let (x, y) = regressionData(8)
        let history = try model.fit(x: x, y: y, batchSize: 8, epochs: 3, shuffle: false, callbacks: [checkpoint], verbose: 0)
        let losses = history.history["loss"]!
        XCTAssertEqual(saved.count, 3, "the loss falls every epoch, so every epoch is saved: \(saved)")
        XCTAssertEqual(saved.first, "m-01-\(String(format: "%.3f", losses[0])).keras")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(saved[2]).path))

        XCTAssertThrowsError(try ModelCheckpoint(filepath: "model.bin", saver: { _, _ in }))
        XCTAssertThrowsError(try ModelCheckpoint(filepath: "model.keras", saver: { _, _ in }, saveWeightsOnly: true))
        XCTAssertThrowsError(try formatPlaceholders("m-{nope}.keras", ["epoch": 1])) { error in
            XCTAssertTrue("\(error)".contains("no value named 'nope'"), "\(error)")
        }
    }

    func testCSVLoggerWritesKerasRows() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("log-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: file) }
        let model = try compiledModel(learningRate: 0.05)
        let (x, y) = regressionData(10)
        let history = try model.fit(x: x, y: y, batchSize: 4, epochs: 2, shuffle: false, validationSplit: 0.2,
                                    callbacks: [CSVLogger(filename: file.path)], verbose: 0)
        let text = try String(contentsOf: file, encoding: .utf8)
        let lines = text.components(separatedBy: "\r\n")
        XCTAssertEqual(lines[0], "epoch,loss,mae,val_loss,val_mae")
        XCTAssertEqual(lines[1], "0,\(history.history["loss"]![0]),\(history.history["mae"]![0]),\(history.history["val_loss"]![0]),\(history.history["val_mae"]![0])")
        XCTAssertEqual(lines.count, 4, "two rows and a final line end")

        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, validationSplit: 0.2,
                      callbacks: [CSVLogger(filename: file.path, append: true)], verbose: 0)
        let appended = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\r\n")
        XCTAssertEqual(appended.count, 5, "appending adds one row and no header")
        XCTAssertTrue(appended[3].hasPrefix("0,"))
    }

    func testLearningRateSchedulerSetsAndLogsTheRate() throws {
        let model = try compiledModel()
        let (x, y) = regressionData(4)
        let scheduler = LearningRateScheduler { epoch, _ in Float(epoch + 1) * 0.01 }
        let history = try model.fit(x: x, y: y, epochs: 3, callbacks: [scheduler], verbose: 0)
        XCTAssertEqual(history.history["learning_rate"]!, [0.01, 0.02, 0.03].map { Double(Float($0)) })
        XCTAssertEqual(model.optimizer!.currentLearningRate, 0.03)
    }

    func testTerminateOnNaN() throws {
        let model = try compiledModel()
        let stop = TerminateOnNaN()
        stop.model = model
        try stop.onTrainBatchEnd(0, logs: ["loss": 1])
        XCTAssertFalse(model.stopTraining)
        try stop.onTrainBatchEnd(1, logs: ["loss": .nan])
        XCTAssertTrue(model.stopTraining)
        XCTAssertThrowsError(try TerminateOnNaN(raiseError: true).onTrainBatchEnd(3, logs: ["loss": .infinity])) { error in
            XCTAssertTrue("\(error)".contains("NaN or Inf loss encountered at batch 3"), "\(error)")
        }
    }

    func testProgressBarLines() throws {
        let (x, y) = regressionData(10)
        let plain = TextSink()
        let model = try compiledModel(learningRate: 0.01)
        try model.fit(x: x, y: y, batchSize: 4, epochs: 2, callbacks: [ProgbarLogger(output: plain.write, isTerminal: false)], verbose: 1)
        let lines = plain.text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4, plain.text)
        XCTAssertEqual(lines[0], "Epoch 1/2")
        let pattern = #"^3/3 ━━━━━━━━━━━━━━━━━━━━ \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}$"#
        XCTAssertNotNil(lines[1].range(of: pattern, options: .regularExpression), lines[1])
        XCTAssertFalse(plain.text.contains("\u{1B}"), "no escape codes off a terminal")

        let terminal = TextSink()
        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, callbacks: [ProgbarLogger(output: terminal.write, isTerminal: true)], verbose: 1)
        XCTAssertTrue(terminal.text.contains("\r"))
        XCTAssertTrue(terminal.text.contains("\u{1B}[32m━"))
        XCTAssertFalse(terminal.text.contains("Epoch 1/1"), "one epoch prints no epoch header")

        let perEpoch = TextSink()
        try model.fit(x: x, y: y, batchSize: 4, epochs: 1, callbacks: [ProgbarLogger(output: perEpoch.write)], verbose: 2)
        XCTAssertNotNil(perEpoch.text.range(of: #"^3/3 - \d+s - ?\d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}\n$"#,
                                            options: .regularExpression), perEpoch.text)
    }
}
