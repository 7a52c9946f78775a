import Tensor

/// Inputs, targets and sample weights whose first axis is the sample axis,
/// cut into batches as Keras's `ArrayDataAdapter` does: in order (or by a
/// permutation), `batchSize` samples at a time, the last batch partial.
struct ArrayData {
    var x: [Tensor]
    var y: [Tensor]
    var sampleWeight: Tensor?
    let count: Int

    init(x: [Tensor], y: [Tensor], sampleWeight: Tensor? = nil) throws {
        guard !x.isEmpty else { throw TrainingError.invalidData("no input arrays were given") }
        let all = x + y + (sampleWeight.map { [$0] } ?? [])
        guard all.allSatisfy({ $0.rank >= 1 }) else {
            throw TrainingError.invalidData("every input, target and sample-weight array needs a sample axis; got shapes \(all.map { $0.shape })")
        }
        let sizes = Set(all.map { $0.shape[0] })
        guard sizes.count == 1 else {
            throw TrainingError.invalidData("data cardinality is ambiguous; make sure all arrays contain the same number of samples. "
                                            + "'x' sizes: \(x.map { $0.shape[0] }), 'y' sizes: \(y.map { $0.shape[0] })"
                                            + (sampleWeight.map { ", 'sample_weight' size: \($0.shape[0])" } ?? ""))
        }
        self.x = x
        self.y = y
        self.sampleWeight = sampleWeight
        self.count = sizes.first!
    }

    /// A batch from a ``BatchSource``: inputs and targets may differ in their
    /// first axis (clips as frames, one label per clip); the count is the inputs'.
    init(batch: DataBatch) throws {
        guard !batch.x.isEmpty else { throw TrainingError.invalidData("a batch from the data source has no input arrays") }
        let all = batch.x + batch.y + (batch.sampleWeight.map { [$0] } ?? [])
        guard all.allSatisfy({ $0.rank >= 1 }) else {
            throw TrainingError.invalidData("every input, target and sample-weight array of a batch needs a sample axis; got shapes \(all.map { $0.shape })")
        }
        x = batch.x
        y = batch.y
        sampleWeight = batch.sampleWeight
        count = batch.count
    }

    /// The samples in `range`, in order.
    func rows(_ range: Range<Int>) throws -> ArrayData {
        func cut(_ t: Tensor) throws -> Tensor {
            if range == 0..<count { return t }
            return try t.slice(begin: [range.lowerBound] + [Int](repeating: 0, count: t.rank - 1),
                               size: [range.count] + [Int](repeating: -1, count: t.rank - 1))
        }
        return try ArrayData(x: x.map(cut), y: y.map(cut), sampleWeight: try sampleWeight.map(cut))
    }

    /// The samples at `indices`, in that order.
    func rows(_ indices: [Int]) throws -> ArrayData {
        try ArrayData(x: x.map { try $0.gather(indices) }, y: y.map { try $0.gather(indices) },
                      sampleWeight: try sampleWeight.map { try $0.gather(indices) })
    }

    /// The number of batches of `size` (the last may be partial).
    func batchCount(size: Int) -> Int { (count + size - 1) / size }

    /// Batch `k` of an epoch: samples `k·size ..< (k+1)·size` of `order` (a
    /// permutation) or of the natural order.
    func batch(_ k: Int, size: Int, order: [Int]?) throws -> ArrayData {
        let start = k * size, end = Swift.min(start + size, count)
        return try order.map { try rows(Array($0[start..<end])) } ?? rows(start..<end)
    }

    /// Keras's `train_validation_split`: the last `fraction` of the samples
    /// (before any shuffling) becomes the validation data.
    func split(validationFraction fraction: Double) throws -> (train: ArrayData, validation: ArrayData) {
        let splitAt = Int((Double(count) * (1.0 - fraction)).rounded(.down))
        guard splitAt > 0, splitAt < count else {
            throw TrainingError.invalidData("training data contains \(count) samples, which is not sufficient to split it into a "
                                            + "validation and training set as specified by `validation_split=\(fraction)`")
        }
        return (try rows(0..<splitAt), try rows(splitAt..<count))
    }

    /// Keras's `class_weight_to_sample_weights`: each sample weighs its class's
    /// weight (1 when absent); one-hot targets use their arg-max.
    static func sampleWeights(classWeight: [Int: Float], targets y: Tensor) throws -> Tensor {
        var labels = y
        if labels.rank > 1 {
            labels = labels.shape.last != 1 ? try labels.argmax(axis: -1) : try labels.squeezed(axes: [-1])
        }
        guard labels.rank == 1 else {
            throw TrainingError.invalidData("class weights need one label per sample; targets have shape \(y.shape)")
        }
        return Tensor(shape: [labels.count], scalars: labels.scalars.map { classWeight[Int($0.rounded(.toNearestOrEven))] ?? 1 })
    }
}
