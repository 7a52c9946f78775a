import Foundation
import Layers
import Tensor

/// Data to evaluate on after each epoch of `fit`.
public struct ValidationData {
    public var x: [Tensor]
    public var y: [Tensor]
    public var sampleWeight: Tensor?

    public init(x: Tensor, y: Tensor, sampleWeight: Tensor? = nil) {
        self.init(x: [x], y: [y], sampleWeight: sampleWeight)
    }

    public init(x: [Tensor], y: [Tensor], sampleWeight: Tensor? = nil) {
        self.x = x
        self.y = y
        self.sampleWeight = sampleWeight
    }
}

extension Model {
    /// Trains the model, as Keras's `fit` with the TensorFlow backend.
    ///
    /// Each batch runs one train step: the forward pass in training mode, the
    /// compiled loss plus the layers' losses and weight penalties, their
    /// gradients, and one optimizer update. Batches are taken in order, or in
    /// a fresh permutation per epoch when `shuffle` (drawn from `seed`, or from
    /// ``RandomState`` when nil); the last batch may be partial.
    ///
    /// A NaN or infinite loss or gradient stops training before that update is
    /// applied: a one-line message names the epoch and batch, the epoch is not
    /// reported to callbacks (so a checkpoint of the last good epoch stays),
    /// and ``History/stopReason`` records it.
    ///
    /// ```swift
    /// try model.compile(optimizer: Adam(), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
    /// let history = try model.fit(x: images, y: labels, batchSize: 32, epochs: 5, validationSplit: 0.1)
    /// ```
    /// - Parameters:
    ///   - x: inputs, first axis = samples.
    ///   - y: targets, first axis = samples.
    ///   - batchSize: samples per step (Keras's default 32).
    ///   - validationSplit: the fraction of the data, taken from its end before
    ///     any shuffling, held out for validation.
    ///   - validationData: data to validate on instead.
    ///   - classWeight: weight per class index, turned into sample weights.
    ///   - sampleWeight: weight per sample.
    ///   - initialEpoch: the epoch to start counting from (to resume).
    ///   - validationFreq: validate every this many epochs.
    ///   - verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    /// - Returns: the History callback with each epoch's logs.
    @discardableResult
    public func fit(x: Tensor, y: Tensor, batchSize: Int? = nil, epochs: Int = 1, shuffle: Bool = true, seed: UInt64? = nil,
                    validationSplit: Double = 0, validationData: ValidationData? = nil, classWeight: [Int: Float]? = nil,
                    sampleWeight: Tensor? = nil, initialEpoch: Int = 0, validationBatchSize: Int? = nil,
                    validationFreq: Int = 1, callbacks: [Callback] = [], verbose: Int = 1) throws -> History {
        try fit(x: [x], y: [y], batchSize: batchSize, epochs: epochs, shuffle: shuffle, seed: seed,
                validationSplit: validationSplit, validationData: validationData, classWeight: classWeight,
                sampleWeight: sampleWeight, initialEpoch: initialEpoch, validationBatchSize: validationBatchSize,
                validationFreq: validationFreq, callbacks: callbacks, verbose: verbose)
    }

    /// Trains a model with several inputs or outputs; one array per input and per output.
    @discardableResult
    public func fit(x: [Tensor], y: [Tensor], batchSize: Int? = nil, epochs: Int = 1, shuffle: Bool = true, seed: UInt64? = nil,
                    validationSplit: Double = 0, validationData: ValidationData? = nil, classWeight: [Int: Float]? = nil,
                    sampleWeight: Tensor? = nil, initialEpoch: Int = 0, validationBatchSize: Int? = nil,
                    validationFreq: Int = 1, callbacks: [Callback] = [], verbose: Int = 1) throws -> History {
        let state = try requireCompiled("fit")
        let batch = try checkBatchSize(batchSize)
        guard validationFreq >= 1 else { throw TrainingError.badConfig("fit: validationFreq must be at least 1") }
        var data = try ArrayData(x: x, y: y, sampleWeight: sampleWeight)
        var validation: ArrayData?
        if let validationData {
            validation = try ArrayData(x: validationData.x, y: validationData.y, sampleWeight: validationData.sampleWeight)
        } else if validationSplit > 0 {
            (data, validation) = try data.split(validationFraction: validationSplit)
        }
        if let classWeight { data.sampleWeight = try classSampleWeights(classWeight, data) }

        let steps = data.batchCount(size: batch)
        let list = CallbackList(callbacks, addHistory: true, addProgbar: verbose != 0, model: self,
                                params: CallbackParams(verbose: verbose, epochs: epochs, steps: steps))
        var generator: SeededGenerator? = SeededGenerator(seed: seed ?? RandomState.generator.next())
        let train = data
        return try runFit(state, list, epochs: epochs, initialEpoch: initialEpoch, shuffleGenerator: &generator,
                          batches: { _, generator in
                              let order = shuffle ? permutation(train.count, &generator) : nil
                              var step = 0
                              return {
                                  guard step < steps else { return nil }
                                  defer { step += 1 }
                                  return try train.batch(step, size: batch, order: order)
                              }
                          },
                          validate: validation.map { validation in
                              { list in try self.evaluate(state, validation, batchSize: validationBatchSize ?? batch, callbacks: list) }
                          },
                          validationFreq: validationFreq, lossFunction: nil)
    }

    /// Trains the model on a data source, as Keras's `fit` on a `tf.data.Dataset`:
    /// the source batches and shuffles (by epoch), and may carry no targets
    /// when a `loss` function needs none (distillation from a teacher).
    ///
    /// ```swift
    /// let history = try model.fit(source, epochs: 5, callbacks: [BackupAndRestore(backupDir: "ckpt")])
    /// // label-free, from a teacher's outputs:
    /// try model.fit(source, epochs: 2) { step in
    ///     let teacherLogits = try withoutGradient { try teacher.predictOnBatch(step.batch.x)[0] }
    ///     return try Distillation.klDivergence(student: step.outputs[0], teacher: teacherLogits, temperature: 4)
    /// }
    /// ```
    /// - Parameters:
    ///   - source: the training batches.
    ///   - validationData: batches to evaluate on after every `validationFreq` epochs.
    ///   - loss: replaces the compiled loss: the loss of a batch from the
    ///     model's outputs (recorded for gradients) and the batch. Added
    ///     losses and weight penalties are added to it, as to a compiled loss.
    ///   - initialEpoch: the epoch to start counting from.
    /// - Returns: the History callback with each epoch's logs.
    @discardableResult
    public func fit(_ source: BatchSource, epochs: Int = 1, initialEpoch: Int = 0, validationData: BatchSource? = nil,
                    validationFreq: Int = 1, callbacks: [Callback] = [], verbose: Int = 1,
                    loss: LossFunction? = nil) throws -> History {
        let state = try requireCompiled("fit")
        guard validationFreq >= 1 else { throw TrainingError.badConfig("fit: validationFreq must be at least 1") }
        let list = CallbackList(callbacks, addHistory: true, addProgbar: verbose != 0, model: self,
                                params: CallbackParams(verbose: verbose, epochs: epochs, steps: source.batchCount))
        var noGenerator: SeededGenerator?
        return try runFit(state, list, epochs: epochs, initialEpoch: initialEpoch, shuffleGenerator: &noGenerator,
                          batches: { epoch, _ in
                              let iterator = try source.batches(epoch: epoch)
                              return { try iterator.next().map(ArrayData.init(batch:)) }
                          },
                          validate: validationData.map { validation in
                              { list in try self.evaluate(state, validation, callbacks: list, lossFunction: loss) }
                          },
                          validationFreq: validationFreq, lossFunction: loss)
    }

    /// The epochs of `fit`, shared by arrays and data sources. `batches`
    /// gives the batches of an epoch (drawing its order from the shuffle
    /// generator, when there is one).
    private func runFit(_ state: TrainingState, _ list: CallbackList, epochs: Int, initialEpoch: Int,
                        shuffleGenerator generator: inout SeededGenerator?,
                        batches: (Int, inout SeededGenerator) throws -> () throws -> ArrayData?,
                        validate: ((CallbackList) throws -> Logs)?, validationFreq: Int,
                        lossFunction: LossFunction?) throws -> History {
        state.stopTraining = false
        state.history = list.history
        var firstEpoch = initialEpoch
        var resumed: TrainingCheckpoint?
        for backup in list.callbacks.compactMap({ $0 as? BackupAndRestore }) {
            if let checkpoint = try backup.restore(into: self) {
                resumed = checkpoint
                firstEpoch = Swift.max(firstEpoch, checkpoint.epoch)
                if let saved = checkpoint.shuffleState { generator?.state = saved }
            }
        }
        var trainingLogs: Logs = [:]
        try list.each { try $0.onTrainBegin(logs: [:]) }
        if let resumed, let history = list.history {
            history.epoch = resumed.historyEpochs
            history.history = resumed.history
        }
        training: for epoch in firstEpoch..<Swift.max(firstEpoch, epochs) {
            state.resetMetrics()
            try list.each { try $0.onEpochBegin(epoch, logs: [:]) }
            var g = generator ?? SeededGenerator(seed: 0)
            let next = try batches(epoch, &g)
            if generator != nil { generator = g }
            var step = 0
            while let batch = try next() {
                try list.each { try $0.onTrainBatchBegin(step, logs: [:]) }
                do {
                    try trainStep(state, batch, lossFunction: lossFunction)
                } catch TrainingError.nonFinite(let what) {
                    let message = "Epoch \(epoch + 1), batch \(step + 1): \(what); training stopped and the weights keep their values from before this batch"
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                    list.history?.stopReason = message
                    break training
                }
                let logs = state.results
                try list.each { try $0.onTrainBatchEnd(step, logs: logs) }
                step += 1
                if state.stopTraining { break }
            }
            var epochLogs = state.results
            if let validate, (epoch + 1) % validationFreq == 0 {
                let validationLogs = try validate(list)
                for (k, v) in validationLogs { epochLogs["val_" + k] = v }
            }
            state.shuffleState = generator?.state
            try list.onEpochEnd(epoch, logs: &epochLogs)
            trainingLogs = epochLogs
            if state.stopTraining { break }
        }
        try list.each { try $0.onTrainEnd(logs: trainingLogs) }
        return list.history!
    }

    /// The loss and metrics on a data source, as Keras's `evaluate` on a
    /// dataset (`return_dict=True`); `loss` replaces the compiled loss.
    public func evaluate(_ source: BatchSource, callbacks: [Callback] = [], verbose: Int = 1,
                         loss: LossFunction? = nil) throws -> Logs {
        let state = try requireCompiled("evaluate")
        let list = CallbackList(callbacks, addHistory: false, addProgbar: verbose != 0, model: self,
                                params: CallbackParams(verbose: verbose, epochs: 1, steps: source.batchCount))
        return try evaluate(state, source, callbacks: list, lossFunction: loss)
    }

    /// The loss and metrics on data, as Keras's `evaluate` (`return_dict=True`).
    public func evaluate(x: Tensor, y: Tensor, batchSize: Int? = nil, sampleWeight: Tensor? = nil,
                         callbacks: [Callback] = [], verbose: Int = 1) throws -> Logs {
        try evaluate(x: [x], y: [y], batchSize: batchSize, sampleWeight: sampleWeight, callbacks: callbacks, verbose: verbose)
    }

    /// The loss and metrics on data for a model with several inputs or outputs.
    public func evaluate(x: [Tensor], y: [Tensor], batchSize: Int? = nil, sampleWeight: Tensor? = nil,
                         callbacks: [Callback] = [], verbose: Int = 1) throws -> Logs {
        let state = try requireCompiled("evaluate")
        let batch = try checkBatchSize(batchSize)
        let data = try ArrayData(x: x, y: y, sampleWeight: sampleWeight)
        let list = CallbackList(callbacks, addHistory: false, addProgbar: verbose != 0, model: self,
                                params: CallbackParams(verbose: verbose, epochs: 1, steps: data.batchCount(size: batch)))
        return try evaluate(state, data, batchSize: batch, callbacks: list)
    }

    /// The model's outputs for inputs, batch by batch, in inference mode.
    public func predict(x: Tensor, batchSize: Int? = nil, callbacks: [Callback] = [], verbose: Int = 1) throws -> Tensor {
        let outputs = try predict(x: [x], batchSize: batchSize, callbacks: callbacks, verbose: verbose)
        guard outputs.count == 1 else {
            throw TrainingError.invalidData("model '\(name)' has \(outputs.count) outputs; use predict(x: [Tensor]) -> [Tensor]")
        }
        return outputs[0]
    }

    /// The outputs of a model with several inputs or outputs.
    public func predict(x: [Tensor], batchSize: Int? = nil, callbacks: [Callback] = [], verbose: Int = 1) throws -> [Tensor] {
        let batch = try checkBatchSize(batchSize)
        let data = try ArrayData(x: x, y: [])
        let steps = data.batchCount(size: batch)
        let list = CallbackList(callbacks, addHistory: false, addProgbar: verbose != 0, model: self,
                                params: CallbackParams(verbose: verbose, epochs: 1, steps: steps))
        try list.each { try $0.onPredictBegin(logs: [:]) }
        var pieces: [[Tensor]] = []
        for step in 0..<steps {
            try list.each { try $0.onPredictBatchBegin(step, logs: [:]) }
            pieces.append(try predictOnBatch(try data.batch(step, size: batch, order: nil).x))
            try list.each { try $0.onPredictBatchEnd(step, logs: [:]) }
        }
        try list.each { try $0.onPredictEnd(logs: [:]) }
        guard let first = pieces.first else { return [] }
        // One batch is returned as computed, as Keras does: an output without a
        // batch axis (`ops.mean(x)` over every axis) cannot be concatenated.
        guard pieces.count > 1 else { return first }
        return try first.indices.map { i in try Tensor.concatenate(pieces.map { $0[i] }, axis: 0) }
    }

    /// One train step on one batch (`train_on_batch`); returns the running logs.
    /// Metrics keep accumulating across calls until ``resetMetrics()``.
    /// - Throws: ``TrainingError/nonFinite(_:)`` without updating the weights
    ///   when the loss or a gradient is NaN or infinite.
    @discardableResult
    public func trainOnBatch(x: Tensor, y: Tensor, sampleWeight: Tensor? = nil, classWeight: [Int: Float]? = nil) throws -> Logs {
        try trainOnBatch(x: [x], y: [y], sampleWeight: sampleWeight, classWeight: classWeight)
    }

    /// One train step for a model with several inputs or outputs.
    @discardableResult
    public func trainOnBatch(x: [Tensor], y: [Tensor], sampleWeight: Tensor? = nil, classWeight: [Int: Float]? = nil) throws -> Logs {
        let state = try requireCompiled("trainOnBatch")
        var data = try ArrayData(x: x, y: y, sampleWeight: sampleWeight)
        if let classWeight { data.sampleWeight = try classSampleWeights(classWeight, data) }
        try trainStep(state, data)
        return state.results
    }

    /// The loss and metrics of one batch (`test_on_batch`), accumulated like ``trainOnBatch(x:y:sampleWeight:classWeight:)``.
    @discardableResult
    public func testOnBatch(x: [Tensor], y: [Tensor], sampleWeight: Tensor? = nil) throws -> Logs {
        let state = try requireCompiled("testOnBatch")
        try testStep(state, try ArrayData(x: x, y: y, sampleWeight: sampleWeight))
        return state.results
    }

    // MARK: Steps

    private func requireCompiled(_ method: String) throws -> TrainingState {
        guard let state = trainingState else { throw TrainingError.notCompiled(method) }
        return state
    }

    private func checkBatchSize(_ batchSize: Int?) throws -> Int {
        let b = batchSize ?? 32
        guard b >= 1 else { throw TrainingError.badConfig("batch size must be at least 1, got \(b)") }
        return b
    }

    private func classSampleWeights(_ classWeight: [Int: Float], _ data: ArrayData) throws -> Tensor {
        guard data.sampleWeight == nil else {
            throw TrainingError.invalidData("you cannot use `classWeight` and `sampleWeight` at the same time")
        }
        guard data.y.count == 1 else {
            throw TrainingError.invalidData("`classWeight` is only supported for models with a single output")
        }
        return try ArrayData.sampleWeights(classWeight: classWeight, targets: data.y[0])
    }

    /// The compiled (or custom) loss plus every added loss (activity
    /// penalties, sparsity terms) and weight penalty. Added losses with a name
    /// are also summed by name for the logs.
    private func totalLoss(_ state: TrainingState, _ batch: ArrayData, _ predictions: [Tensor], _ masks: [Tensor?],
                           lossFunction: LossFunction?, training: Bool) throws -> Tensor {
        var terms: [Tensor] = []
        var task: Tensor?
        if let lossFunction {
            let context = LossContext(outputs: predictions, masks: masks,
                                      batch: DataBatch(x: batch.x, y: batch.y, sampleWeight: batch.sampleWeight),
                                      training: training, state: state)
            task = try lossFunction(context)
        } else {
            task = try state.compiledLoss(yTrue: batch.y, yPred: predictions, masks: masks, sampleWeight: batch.sampleWeight)
        }
        if let task { terms.append(task) }
        var sums: [(String, Tensor)] = []
        for (name, l) in namedLosses {
            let value = try l.sum()
            terms.append(value)
            guard let name else { continue }
            if let i = sums.firstIndex(where: { $0.0 == name }) { sums[i].1 = try sums[i].1 + value } else { sums.append((name, value)) }
        }
        terms += try regularizationLosses()
        guard let first = terms.first else {
            throw TrainingError.badConfig("no loss to compute; provide a `loss` argument in `compile()`")
        }
        let total = try terms.dropFirst().reduce(first) { try $0 + $1 }
        guard total.count == 1 else {
            throw TrainingError.badConfig("the loss must reduce to a scalar, got shape \(total.shape); use a reduction other than 'none' to train")
        }
        try state.updateNamedLosses(sums, taskLoss: task, count: batch.count)
        return try total.reshaped(to: [])
    }

    /// Resolves the compiled losses and metrics, unless a loss function
    /// replaces them and the batch has no targets.
    private func prepare(_ state: TrainingState, _ batch: ArrayData, _ predictions: [Tensor], _ lossFunction: LossFunction?) throws -> Bool {
        if lossFunction != nil && batch.y.isEmpty { return false }
        try buildTraining(state, yTrue: batch.y, yPred: predictions)
        return true
    }

    /// Keras's `train_step`: forward, loss, gradients, one optimizer update, metrics.
    private func trainStep(_ state: TrainingState, _ batch: ArrayData, lossFunction: LossFunction? = nil) throws {
        // Moving statistics change during the forward pass; a rejected step puts them back.
        let snapshot = nonTrainableWeights.map { ($0, $0.value) }
        func reject(_ reason: String) throws -> Never {
            for (v, value) in snapshot { try v.assign(value) }
            throw TrainingError.nonFinite(reason)
        }
        let tape = GradientTape()
        let (loss, predictions, masks, compiled) = try tape.record { () -> (Tensor, [Tensor], [Tensor?], Bool) in
            let (predictions, masks) = try self.callAsFunction(batch.x, masks: batch.x.map { _ in nil }, training: true)
            let compiled = try prepare(state, batch, predictions, lossFunction)
            return (try totalLoss(state, batch, predictions, masks, lossFunction: lossFunction, training: true), predictions, masks, compiled)
        }
        guard loss.scalar.isFinite else { try reject("the loss is \(loss.scalar)") }
        let variables = trainableWeights
        let gradients = variables.isEmpty ? [] : try tape.gradient(of: loss, wrt: variables)
        for (g, v) in zip(gradients, variables) where g?.scalars.contains(where: { !$0.isFinite }) == true {
            try reject("the gradient of '\(v.name)' is not finite")
        }
        try state.lossTracker.update(loss.detached, sampleWeight: Tensor(Float(batch.count)))
        if !variables.isEmpty {
            let constraints = Dictionary(weightConstraints.map { (ObjectIdentifier($0.0), $0.1) }, uniquingKeysWith: { a, _ in a })
            try state.optimizer.apply(gradients, to: variables, constraints: constraints)
        }
        if compiled {
            try state.updateMetrics(yTrue: batch.y, yPred: predictions.map { $0.detached }, masks: masks, sampleWeight: batch.sampleWeight)
        }
    }

    /// Keras's `test_step`: forward in inference mode, loss, metrics.
    private func testStep(_ state: TrainingState, _ batch: ArrayData, lossFunction: LossFunction? = nil) throws {
        try withoutGradient {
            let (predictions, masks) = try self.callAsFunction(batch.x, masks: batch.x.map { _ in nil }, training: false)
            let compiled = try prepare(state, batch, predictions, lossFunction)
            let loss = try totalLoss(state, batch, predictions, masks, lossFunction: lossFunction, training: false)
            try state.lossTracker.update(loss, sampleWeight: Tensor(Float(batch.count)))
            if compiled {
                try state.updateMetrics(yTrue: batch.y, yPred: predictions, masks: masks, sampleWeight: batch.sampleWeight)
            }
        }
    }

    /// Runs the test loop over `data` with fresh metrics; returns their results.
    private func evaluate(_ state: TrainingState, _ data: ArrayData, batchSize: Int, callbacks list: CallbackList) throws -> Logs {
        let steps = data.batchCount(size: batchSize)
        var step = 0
        return try testLoop(state, list, lossFunction: nil) {
            guard step < steps else { return nil }
            defer { step += 1 }
            return try data.batch(step, size: batchSize, order: nil)
        }
    }

    /// Runs the test loop over epoch 0 of a data source.
    private func evaluate(_ state: TrainingState, _ source: BatchSource, callbacks list: CallbackList,
                          lossFunction: LossFunction?) throws -> Logs {
        let iterator = try source.batches(epoch: 0)
        return try testLoop(state, list, lossFunction: lossFunction) { try iterator.next().map(ArrayData.init(batch:)) }
    }

    private func testLoop(_ state: TrainingState, _ list: CallbackList, lossFunction: LossFunction?,
                          next: () throws -> ArrayData?) throws -> Logs {
        state.resetMetrics()
        try list.each { try $0.onTestBegin(logs: [:]) }
        var step = 0
        while let batch = try next() {
            try list.each { try $0.onTestBatchBegin(step, logs: [:]) }
            try testStep(state, batch, lossFunction: lossFunction)
            let logs = state.results
            try list.each { try $0.onTestBatchEnd(step, logs: logs) }
            step += 1
        }
        let logs = state.results
        try list.each { try $0.onTestEnd(logs: logs) }
        return logs
    }
}

/// A loss computed by the caller in place of the compiled loss (see
/// `fit(_:epochs:…:loss:)`): called once per batch, inside the gradient
/// recording when training.
public typealias LossFunction = (LossContext) throws -> Tensor

/// What a ``LossFunction`` sees of one step.
public final class LossContext {
    /// The model's outputs on the batch (recorded for gradients when training).
    public let outputs: [Tensor]
    /// The outputs' masks.
    public let masks: [Tensor?]
    /// The batch: inputs, targets (possibly none) and sample weights.
    public let batch: DataBatch
    /// Whether this is a training step (false in `evaluate` and validation).
    public let training: Bool
    private let state: TrainingState

    init(outputs: [Tensor], masks: [Tensor?], batch: DataBatch, training: Bool, state: TrainingState) {
        self.outputs = outputs
        self.masks = masks
        self.batch = batch
        self.training = training
        self.state = state
    }

    /// Adds to a running mean shown in the logs, progress bar and history
    /// under `name` (such as `agreement`): `sum` over `count` items. Reset
    /// with the metrics, each epoch and each evaluation.
    public func logMean(_ name: String, sum: Double, count: Double) {
        state.logMean(name, sum: sum, count: count)
    }
}

/// A uniformly random permutation of `0..<n` (Fisher–Yates).
func permutation(_ n: Int, _ generator: inout SeededGenerator) -> [Int] {
    var p = Array(0..<n)
    for i in stride(from: n - 1, to: 0, by: -1) {
        p.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
    }
    return p
}
