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
        state.stopTraining = false
        state.history = list.history
        var generator = SeededGenerator(seed: seed ?? RandomState.generator.next())
        var trainingLogs: Logs = [:]
        try list.each { try $0.onTrainBegin(logs: [:]) }
        training: for epoch in initialEpoch..<Swift.max(initialEpoch, epochs) {
            state.resetMetrics()
            try list.each { try $0.onEpochBegin(epoch, logs: [:]) }
            let order = shuffle ? permutation(data.count, &generator) : nil
            for step in 0..<steps {
                try list.each { try $0.onTrainBatchBegin(step, logs: [:]) }
                do {
                    try trainStep(state, try data.batch(step, size: batch, order: order))
                } catch TrainingError.nonFinite(let what) {
                    let message = "Epoch \(epoch + 1), batch \(step + 1): \(what); training stopped and the weights keep their values from before this batch"
                    FileHandle.standardError.write(Data((message + "\n").utf8))
                    list.history?.stopReason = message
                    break training
                }
                let logs = state.results
                try list.each { try $0.onTrainBatchEnd(step, logs: logs) }
                if state.stopTraining { break }
            }
            var epochLogs = state.results
            if let validation, (epoch + 1) % validationFreq == 0 {
                let validationLogs = try evaluate(state, validation, batchSize: validationBatchSize ?? batch, callbacks: list)
                for (k, v) in validationLogs { epochLogs["val_" + k] = v }
            }
            try list.onEpochEnd(epoch, logs: &epochLogs)
            trainingLogs = epochLogs
            if state.stopTraining { break }
        }
        try list.each { try $0.onTrainEnd(logs: trainingLogs) }
        return list.history!
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

    /// The compiled loss plus every added loss (activity penalties) and weight penalty.
    private func totalLoss(_ state: TrainingState, _ batch: ArrayData, _ predictions: [Tensor], _ masks: [Tensor?]) throws -> Tensor {
        var terms: [Tensor] = []
        if let compiled = try state.compiledLoss(yTrue: batch.y, yPred: predictions, masks: masks, sampleWeight: batch.sampleWeight) {
            terms.append(compiled)
        }
        for l in losses { terms.append(try l.sum()) }
        terms += try regularizationLosses()
        guard let first = terms.first else {
            throw TrainingError.badConfig("no loss to compute; provide a `loss` argument in `compile()`")
        }
        let total = try terms.dropFirst().reduce(first) { try $0 + $1 }
        guard total.count == 1 else {
            throw TrainingError.badConfig("the loss must reduce to a scalar, got shape \(total.shape); use a reduction other than 'none' to train")
        }
        return try total.reshaped(to: [])
    }

    /// Keras's `train_step`: forward, loss, gradients, one optimizer update, metrics.
    private func trainStep(_ state: TrainingState, _ batch: ArrayData) throws {
        // Moving statistics change during the forward pass; a rejected step puts them back.
        let snapshot = nonTrainableWeights.map { ($0, $0.value) }
        func reject(_ reason: String) throws -> Never {
            for (v, value) in snapshot { try v.assign(value) }
            throw TrainingError.nonFinite(reason)
        }
        let tape = GradientTape()
        let (loss, predictions, masks) = try tape.record { () -> (Tensor, [Tensor], [Tensor?]) in
            let (predictions, masks) = try self.callAsFunction(batch.x, masks: batch.x.map { _ in nil }, training: true)
            try buildTraining(state, yTrue: batch.y, yPred: predictions)
            return (try totalLoss(state, batch, predictions, masks), predictions, masks)
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
        try state.updateMetrics(yTrue: batch.y, yPred: predictions.map { $0.detached }, masks: masks, sampleWeight: batch.sampleWeight)
    }

    /// Keras's `test_step`: forward in inference mode, loss, metrics.
    private func testStep(_ state: TrainingState, _ batch: ArrayData) throws {
        try withoutGradient {
            let (predictions, masks) = try self.callAsFunction(batch.x, masks: batch.x.map { _ in nil }, training: false)
            try buildTraining(state, yTrue: batch.y, yPred: predictions)
            let loss = try totalLoss(state, batch, predictions, masks)
            try state.lossTracker.update(loss, sampleWeight: Tensor(Float(batch.count)))
            try state.updateMetrics(yTrue: batch.y, yPred: predictions, masks: masks, sampleWeight: batch.sampleWeight)
        }
    }

    /// Runs the test loop over `data` with fresh metrics; returns their results.
    private func evaluate(_ state: TrainingState, _ data: ArrayData, batchSize: Int, callbacks list: CallbackList) throws -> Logs {
        state.resetMetrics()
        try list.each { try $0.onTestBegin(logs: [:]) }
        for step in 0..<data.batchCount(size: batchSize) {
            try list.each { try $0.onTestBatchBegin(step, logs: [:]) }
            try testStep(state, try data.batch(step, size: batchSize, order: nil))
            let logs = state.results
            try list.each { try $0.onTestBatchEnd(step, logs: logs) }
        }
        let logs = state.results
        try list.each { try $0.onTestEnd(logs: logs) }
        return logs
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
