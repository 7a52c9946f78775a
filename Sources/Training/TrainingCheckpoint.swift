import Foundation
import Layers
import Tensor

/// Everything a run of `fit` needs to continue bit-exactly after an epoch:
/// the model's weights, the optimizer's state, the random generators and the
/// data position (the epoch; data sources order their batches by epoch).
///
/// On disk it is one file, written to a temporary file beside it and renamed:
/// the 8 bytes `KDCKPT01`, the header length as a little-endian UInt64, the
/// header (UTF-8 JSON), then the float32 values (little-endian) the header's
/// offsets point into. Values are stored as bits, so a restored run repeats
/// the saved one exactly.
public struct TrainingCheckpoint {
    /// One saved slot variable of the optimizer.
    public struct Slot {
        public var path: String
        public var shape: [Int]
        public var values: [Float]
    }

    /// Epochs completed; the next epoch to run.
    public var epoch: Int
    /// The model's weights in `model.weights` order, by variable name.
    public var weights: [(name: String, value: Tensor)]
    /// The optimizer's name, step count, fixed learning rate (nil for a schedule) and slots.
    public var optimizerName: String
    public var iterations: Int
    public var learningRate: Float?
    public var slots: [Slot]
    /// ``RandomState``'s generator (dropout, noise) after the epoch.
    public var randomState: [UInt64]
    /// `fit`'s shuffle generator for arrays after the epoch, when it has one.
    public var shuffleState: [UInt64]?
    /// The History so far.
    public var history: [String: [Double]]
    public var historyEpochs: [Int]

    static let magic = Data("KDCKPT01".utf8)

    /// The state of `model` (compiled) after `epoch` epochs.
    public init(model: Model, epoch: Int, history: [String: [Double]] = [:], historyEpochs: [Int] = []) throws {
        guard let state = model.trainingState else { throw TrainingError.notCompiled("TrainingCheckpoint") }
        let optimizer = state.optimizer
        self.epoch = epoch
        weights = model.weights.map { ($0.name, $0.value) }
        optimizerName = optimizer.name
        iterations = optimizer.iterations
        if case .constant(let lr) = optimizer.learningRate { learningRate = lr } else { learningRate = nil }
        var slots: [Slot] = []
        optimizer.forEachSlot { path, shape, values in slots.append(Slot(path: path, shape: shape, values: values)) }
        self.slots = slots
        randomState = RandomState.generator.state
        shuffleState = state.shuffleState
        self.history = history
        self.historyEpochs = historyEpochs
    }

    /// Puts the saved weights, optimizer state and random state into `model`
    /// (compiled, built, with the same architecture and optimizer).
    /// - Throws: `invalidData` naming the file part that does not fit.
    public func restore(into model: Model, origin: String = "checkpoint") throws {
        guard let state = model.trainingState else { throw TrainingError.notCompiled("restoring a checkpoint") }
        let variables = model.weights
        guard variables.count == weights.count else {
            throw TrainingError.invalidData("\(origin): weights: the file has \(weights.count) weights, model '\(model.name)' has "
                                            + "\(variables.count)\(model.built ? "" : " (build the model before restoring)")")
        }
        for (v, saved) in zip(variables, weights) where v.shape != saved.value.shape {
            throw TrainingError.invalidData("\(origin): weights/\(saved.name): shape \(saved.value.shape), the model's '\(v.name)' has \(v.shape)")
        }
        let optimizer = state.optimizer
        if !slots.isEmpty && !optimizer.built { optimizer.build(model.trainableWeights) }
        var current: [(String, [Int])] = []
        optimizer.forEachSlot { path, shape, _ in current.append((path, shape)) }
        guard current.count == slots.count else {
            throw TrainingError.invalidData("\(origin): optimizer: the file has \(slots.count) slot variables, optimizer "
                                            + "'\(optimizer.name)' has \(current.count)")
        }
        for (have, saved) in zip(current, slots) where have.1 != saved.shape {
            throw TrainingError.invalidData("\(origin): optimizer/\(saved.path): shape \(saved.shape), the optimizer's '\(have.0)' has \(have.1)")
        }
        for (v, saved) in zip(variables, weights) { try v.assign(saved.value) }
        var index = 0
        optimizer.forEachSlot { _, _, values in
            values = slots[index].values
            index += 1
        }
        optimizer.iterations = iterations
        if let learningRate, case .constant = optimizer.learningRate { try optimizer.setLearningRate(learningRate) }
        RandomState.generator.state = randomState
    }

    // MARK: The file

    /// Writes the checkpoint to `url` through a temporary file in the same folder.
    public func write(to url: URL) throws {
        var payload = Data()
        func append(_ values: [Float]) -> Int {
            let offset = payload.count / 4
            var bits = values.map { $0.bitPattern.littleEndian }
            bits.withUnsafeMutableBytes { payload.append(contentsOf: $0) }
            return offset
        }
        func words(_ w: [UInt64]) -> JSONValue { .array(w.map { .string(String($0, radix: 16)) }) }
        let weightEntries: [JSONValue] = weights.map { name, value in
            let offset = append(value.scalars)
            return ["name": .string(name), "shape": .array(value.shape.map { .int($0) }), "offset": .int(offset)]
        }
        let slotEntries: [JSONValue] = slots.map { slot in
            let offset = append(slot.values)
            return ["path": .string(slot.path), "shape": .array(slot.shape.map { .int($0) }), "offset": .int(offset),
                    "count": .int(slot.values.count)]
        }
        var historyObject = JSONObject()
        for key in history.keys.sorted() { historyObject[key] = .array(history[key]!.map { .double($0) }) }
        let header: JSONValue = [
            "format": 1, "epoch": .int(epoch), "weights": .array(weightEntries),
            "optimizer": ["name": .string(optimizerName), "iterations": .int(iterations),
                          "learning_rate": learningRate.map { .double(Double($0)) } ?? .null,
                          "learning_rate_bits": learningRate.map { .int(Int($0.bitPattern)) } ?? .null,
                          "slots": .array(slotEntries)],
            "random_state": words(randomState), "shuffle_state": shuffleState.map(words) ?? .null,
            "history": .object(historyObject), "history_epochs": .array(historyEpochs.map { .int($0) }),
        ]
        let headerData = Data(header.serialized().utf8)
        var data = Self.magic
        var length = UInt64(headerData.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(headerData)
        data.append(payload)
        try writeAtomically(data, to: url)
    }

    /// Reads a checkpoint written by ``write(to:)``.
    /// - Throws: `invalidData` naming the file and the part that is wrong.
    public init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidData("\(path): cannot read the checkpoint")
        }
        func bad(_ part: String, _ why: String) -> TrainingError { .invalidData("\(path): \(part): \(why)") }
        guard data.count >= 16, data.prefix(8) == Self.magic else { throw bad("header", "not a KerasDelta training checkpoint") }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw bad("header", "truncated file") }
        let headerEnd = 16 + Int(length)
        let header: JSONValue
        do {
            header = try JSONValue(parsing: String(decoding: data.subdata(in: 16..<headerEnd), as: UTF8.self))
        } catch {
            throw bad("header", "\(error)")
        }
        let payload = data.subdata(in: headerEnd..<data.count)
        let floatCount = payload.count / 4
        func floats(_ offset: Int, _ count: Int, _ part: String) throws -> [Float] {
            guard offset >= 0, count >= 0, offset + count <= floatCount else { throw bad(part, "values outside the file (truncated?)") }
            return payload.withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * (offset + $0), as: UInt32.self))) }
            }
        }
        func shape(_ v: JSONValue?, _ part: String) throws -> [Int] {
            guard let dims = v?.arrayValue?.compactMap({ $0.intValue }), dims.allSatisfy({ $0 >= 0 }) else { throw bad(part, "bad shape") }
            return dims
        }
        func words(_ v: JSONValue?, _ part: String) throws -> [UInt64] {
            guard let w = v?.arrayValue?.compactMap({ $0.stringValue.flatMap { UInt64($0, radix: 16) } }), w.count == 4 else {
                throw bad(part, "expected 4 hexadecimal words")
            }
            return w
        }
        guard header["format"]?.intValue == 1 else { throw bad("format", "unknown version \(header["format"]?.serialized() ?? "none")") }
        guard let epoch = header["epoch"]?.intValue, epoch >= 0 else { throw bad("epoch", "missing") }
        self.epoch = epoch
        weights = try (header["weights"]?.arrayValue ?? []).enumerated().map { i, entry in
            let part = "weights/\(entry["name"]?.stringValue ?? String(i))"
            let dims = try shape(entry["shape"], part)
            guard let offset = entry["offset"]?.intValue else { throw bad(part, "no offset") }
            return (entry["name"]?.stringValue ?? "", Tensor(shape: dims, scalars: try floats(offset, dims.reduce(1, *), part)))
        }
        let optimizer = header["optimizer"]
        optimizerName = optimizer?["name"]?.stringValue ?? ""
        guard let iterations = optimizer?["iterations"]?.intValue else { throw bad("optimizer/iterations", "missing") }
        self.iterations = iterations
        learningRate = optimizer?["learning_rate_bits"]?.intValue.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
        slots = try (optimizer?["slots"]?.arrayValue ?? []).enumerated().map { i, entry in
            let part = "optimizer/\(entry["path"]?.stringValue ?? String(i))"
            guard let offset = entry["offset"]?.intValue, let count = entry["count"]?.intValue else { throw bad(part, "no offset or count") }
            return Slot(path: entry["path"]?.stringValue ?? "", shape: try shape(entry["shape"], part), values: try floats(offset, count, part))
        }
        randomState = try words(header["random_state"], "random_state")
        shuffleState = header["shuffle_state"].map { $0.isNull } == false ? try words(header["shuffle_state"], "shuffle_state") : nil
        var history: [String: [Double]] = [:]
        for (key, values) in header["history"]?.objectValue ?? JSONObject() {
            history[key] = values.arrayValue?.compactMap { $0.doubleValue } ?? []
        }
        self.history = history
        historyEpochs = header["history_epochs"]?.arrayValue?.compactMap { $0.intValue } ?? []
    }
}

/// Writes `data` to a temporary file in `url`'s folder, then renames it over `url`.
func writeAtomically(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try data.write(to: temporary)
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw TrainingError.invalidData("\(url.path): cannot write: \(error.localizedDescription)")
    }
    guard rename(temporary.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw TrainingError.invalidData("\(url.path): cannot write: \(reason)")
    }
}
