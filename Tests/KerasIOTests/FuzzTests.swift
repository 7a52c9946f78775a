import Foundation
import XCTest
import HDF5
import Tensor
import Layers
import KerasIO
import Delta
import Streaming

/// Hostile files: real Keras files (the committed fixtures) mutated
/// deterministically, thousands of cases in all. Every load must either
/// succeed or throw one `KerasIOError` whose single-line description starts
/// with the file's path; none may crash, hang or allocate without bound.
///
/// - Structured edits (JSON of `model_config`/`training_config`/`config.json`/
///   `metadata.json`, and the string attributes of legacy files) keep the
///   container valid and run in this process, so the error type itself is
///   checked.
/// - Byte-level edits (bit flips, truncation, insertions, deletions,
///   overwrites, biased towards HDF5 metadata and heaps, also inside `.keras`
///   members with their checksums fixed) run `keras-delta` in child
///   processes under `timeout` and `ulimit -v`: libhdf5 1.10 itself can crash
///   or allocate without bound on some corrupted heaps, and such a crash must
///   be counted, not take the test runner down. The contract there is exit
///   status 0 or 2 with one stderr line naming the file; crashes are
///   classified by a backtrace as inside libhdf5 (reported) or in our code
///   (a failure).
///
/// `FUZZ_SCALE=N` multiplies the case counts (e.g. for a soak run);
/// `FUZZ_SEED` changes the seed.
final class FuzzTests: XCTestCase {
    static let scale = Int(ProcessInfo.processInfo.environment["FUZZ_SCALE"] ?? "") ?? 1
    static let seed = UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? 2024
    private var folder: URL!

    override func setUpWithError() throws { folder = try temporaryFolder(self) }

    /// The committed Keras-written files of `Fixtures/<sub>` with extension `ext`.
    static func fixtures(_ sub: String, _ suffix: String) throws -> [URL] {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(sub)", withExtension: nil))
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            .filter { $0.hasSuffix(suffix) }.map { dir.appendingPathComponent($0) }
    }

    /// Every fixture folder holding Keras-written models: MLPs, convolutions,
    /// nested and shared models, RNNs and Bidirectional, attention, masks,
    /// op nodes, augmentation, Conv3D and video models, delta models (DeltaActivation).
    static let modelFolders = ["models", "configs", "video", "masking", "operations", "regressions", "augmentation", "delta"]

    /// Legacy full-model files (tf-keras and Keras 3 `.h5`), from every folder.
    static func legacyModels() throws -> [URL] {
        try modelFolders.flatMap { try fixtures($0, ".h5") }
            .filter { !$0.lastPathComponent.hasSuffix(".weights.h5") && !$0.lastPathComponent.hasSuffix(".weights_only.h5") }
    }

    /// Keras 3 `.keras` archives, from every folder.
    static func archives() throws -> [URL] { try modelFolders.flatMap { try fixtures($0, ".keras") } }

    /// `folder/name` of a fixture: names repeat across folders (`ops_keras2.h5`).
    static func label(_ source: URL) -> String {
        source.deletingLastPathComponent().lastPathComponent + "/" + source.lastPathComponent
    }

    /// A file name for case `i` of `source`, unique across folders.
    static func caseFile(_ source: URL, _ i: Int, _ tag: String = "") -> String {
        "\(source.deletingLastPathComponent().lastPathComponent)_\(source.lastPathComponent.replacingOccurrences(of: ".", with: "_"))"
            + "\(tag)-\(i).\(source.pathExtension)"
    }

    /// Both writers must be represented, and every folder must still hold models.
    func testFixtureListCoversEveryKindOfModel() throws {
        let legacy = try Self.legacyModels(), archives = try Self.archives()
        XCTAssertTrue(legacy.contains { $0.lastPathComponent.contains("keras2") }, "no tf-keras file")
        XCTAssertTrue(legacy.contains { $0.lastPathComponent.contains("keras3") }, "no Keras 3 .h5 file")
        for folder in Self.modelFolders {
            XCTAssertFalse((legacy + archives).filter { $0.deletingLastPathComponent().lastPathComponent == folder }.isEmpty,
                           "no model in Fixtures/\(folder)")
        }
        for kind in ["bidirectional", "attention", "ops", "augmented", "conv3d", "lstm", "gru", "masking", "delta"] {
            XCTAssertTrue((legacy + archives).contains { $0.path.contains(kind) }, "no '\(kind)' model")
        }
    }

    // MARK: In-process checks

    struct Tally {
        var loaded = 0
        var rejected = 0
        var failures: [String] = []
        var cases: Int { loaded + rejected + failures.count }
        var slowest = (0.0, "")
    }

    /// Runs `load` on the mutated file `path`; records whether it loaded or
    /// failed as the contract says.
    private func expectLoadOrError(_ path: String, _ what: String, _ tally: inout Tally, _ load: () throws -> Void) {
        FuzzWatchdog.shared.begin(what)
        let start = Date()
        defer {
            // Reported, not asserted: a hang is the watchdog's to catch.
            let seconds = Date().timeIntervalSince(start)
            if seconds > tally.slowest.0 { tally.slowest = (seconds, what) }
            FuzzWatchdog.shared.end()
        }
        do {
            try load()
            tally.loaded += 1
        } catch let error as KerasIOError {
            let text = error.description
            if !text.hasPrefix(path + ": ") || text.contains("\n") || text.count > 3000 {
                tally.failures.append("\(what): badly formed error: \(text.prefix(300))")
            } else {
                tally.rejected += 1
            }
        } catch {
            tally.failures.append("\(what): \(type(of: error)) instead of KerasIOError: \("\(error)".prefix(300))")
        }
        if FuzzWatchdog.residentBytes() > FuzzWatchdog.shared.residentLimit {
            tally.failures.append("\(what): resident memory grew to \(FuzzWatchdog.residentBytes() >> 20) MiB")
        }
    }

    private func report(_ name: String, _ tally: Tally) {
        print("FuzzTests: \(name): \(tally.cases) cases, \(tally.loaded) loaded, \(tally.rejected) rejected with a KerasIOError, "
              + "\(tally.failures.count) failures; slowest \(String(format: "%.2f", tally.slowest.0)) s (\(tally.slowest.1))")
        for failure in tally.failures.prefix(25) { XCTFail(failure) }
        XCTAssertGreaterThan(tally.cases, 0, "\(name): no case ran")
        XCTAssertEqual(tally.failures.count, 0, "\(name): \(tally.failures.count) cases broke the contract")
    }

    // MARK: JSON edits

    func testJSONEditsOfLegacyConfigs() throws {
        var rng = FuzzRandom(seed: Self.seed)
        let perFile = 16 * Self.scale
        var cases: [(path: String, what: String)] = []
        // The committed files, and the delta models this package writes (edited, they stream).
        for source in try Self.legacyModels() + Self.writtenDeltaModels().filter({ $0.pathExtension == "h5" }) {
            let original = try HDF5File(path: source.path)
            let modelConfig = try original.attribute("model_config").readString()
            let trainingConfig = original.hasAttribute("training_config") ? try original.attribute("training_config").readString() : nil
            for i in 0..<perFile {
                let training = trainingConfig != nil && rng.chance(0.15)
                let attribute = training ? "training_config" : "model_config"
                let text = training ? trainingConfig! : modelConfig
                let (edited, how) = try JSONMutation.mutateConfig(text, &rng)
                let path = folder.appendingPathComponent(Self.caseFile(source, i)).path
                try FileManager.default.copyItem(atPath: source.path, toPath: path)
                let file = try HDF5File(path: path, mode: .readWrite)
                try file.writeAttribute(attribute, string: edited, encoding: .ascii, form: .variableLength)
                try file.flush()
                cases.append((path, "\(Self.label(source)) #\(i) \(attribute): \(how)"))
            }
        }
        try check(cases, "JSON edits of legacy .h5 configs")
    }

    func testJSONEditsOfKerasArchives() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 1)
        let perFile = 14 * Self.scale
        var cases: [(path: String, what: String)] = []
        for source in try Self.archives() + Self.writtenDeltaModels().filter({ $0.pathExtension == "keras" }) {
            let members = try StoredZipArchive.members([UInt8](try Data(contentsOf: source)))
            for i in 0..<perFile {
                let target = rng.chance(0.2) ? "metadata.json" : "config.json"
                guard let index = members.firstIndex(where: { $0.0 == target }) else { continue }
                let text = String(decoding: members[index].1, as: UTF8.self)
                let (edited, how) = try JSONMutation.mutateConfig(text, &rng)
                var changed = members
                changed[index].1 = Array(edited.utf8)
                let path = folder.appendingPathComponent(Self.caseFile(source, i)).path
                try Data(StoredZipArchive.archive(changed)).write(to: URL(fileURLWithPath: path))
                cases.append((path, "\(Self.label(source)) #\(i) \(target): \(how)"))
            }
        }
        try check(cases, "JSON edits of .keras archives")
    }

    /// Loads every case in this process and checks the contract; with
    /// `FUZZ_IN_CHILD=1`, runs them through the CLI instead, to list every
    /// crash at once rather than stop at the first.
    private func check(_ cases: [(path: String, what: String)], _ name: String) throws {
        if ProcessInfo.processInfo.environment["FUZZ_IN_CHILD"] != nil {
            try runInChildProcesses(cases.map { CLIFuzzRunner.Job(file: $0.path, command: .summary) }, cases.map(\.what), name)
            return
        }
        var tally = Tally()
        var streamed = 0
        for c in cases {
            expectLoadOrError(c.path, c.what, &tally) {
                if streamIfDelta(try KerasModelFile.load(c.path).model) { streamed += 1 }
            }
            try? FileManager.default.removeItem(atPath: c.path)
        }
        report(name, tally)
        print("FuzzTests: \(name): \(streamed) loaded delta models streamed")
    }

    /// A loaded model with delta layers (the `delta` fixtures, edited) is
    /// also compiled to a streaming plan and streams a clip's worth of
    /// frames: any thrown error is fine there, a crash or a hang is not.
    /// Returns whether a plan was made.
    private func streamIfDelta(_ model: Model) -> Bool {
        guard model.executionOrder.contains(where: { $0.layer is DeltaActivation }),
              let plan = try? StreamingPlan(model),
              (plan.inputShapes + plan.outputShapes).allSatisfy({ $0.reduce(1, *) <= 1 << 22 }) else { return false }
        let stream = plan.makeStream()
        let frames = plan.inputShapes.map { shape in
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0 % 7) / 7 })
        }
        for _ in 0..<(plan.clipLength ?? 2) + 1 { _ = try? stream.push(frames) }
        _ = try? stream.finish()
        return true
    }

    /// Weights a damaged or hostile delta model may hold (NaN, infinities,
    /// zero or negative thresholds and variances, the float extremes), one
    /// layer at a time: the streaming plan compiles and streams, or throws.
    func testHostileWeightValuesStream() throws {
        let values: [Float] = [.nan, .infinity, -.infinity, 0, -0.3, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        var cases = 0, streamed = 0
        for url in try Self.fixtures("delta", ".h5") + Self.archives().filter({ $0.path.contains("/delta/") }) {
            let original = try KerasModelFile.load(url.path).model
            for layerIndex in original.layers.indices {
                for value in values {
                    let model = try original.clone(weights: .copy)
                    let layer = model.layers[layerIndex]
                    let weights = layer.getWeights()
                    guard !weights.isEmpty else { break }
                    // The first element of every weight, and the whole of the last (a threshold, a variance, a bias).
                    var edited = weights.map { w in w.count == 0 ? w : Tensor(shape: w.shape, scalars: [value] + w.scalars.dropFirst()) }
                    edited[edited.count - 1] = Tensor(repeating: value, shape: weights.last!.shape)
                    try layer.setWeights(edited)
                    cases += 1
                    if streamIfDelta(model) { streamed += 1 }
                }
            }
        }
        print("FuzzTests: hostile weight values: \(cases) cases, \(streamed) streamed")
        XCTAssertGreaterThan(streamed, cases / 2, "most hostile values should still compile to a plan")
    }

    // MARK: Targeted hostile configs

    /// Replaces the root `model_config` of a copy of a committed tf-keras file.
    private func legacyCopy(_ edit: (JSONValue) throws -> JSONValue) throws -> String {
        let source = try ModelFixtures.url("dense_mlp_keras2.h5")
        let path = folder.appendingPathComponent("hostile-\(UUID().uuidString.prefix(8)).h5").path
        try FileManager.default.copyItem(atPath: source.path, toPath: path)
        let file = try HDF5File(path: path, mode: .readWrite)
        let config = try edit(try JSONValue(parsing: try file.attribute("model_config").readString()))
        try file.writeAttribute("model_config", string: config.serialized(), encoding: .ascii, form: .variableLength)
        try file.flush()
        return path
    }

    private func editFirstLayer(_ key: String, _ value: JSONValue, at index: Int = 0) -> (JSONValue) -> JSONValue {
        { config in
            JSONMutation.update(config, [.key("config"), .key("layers"), .index(index), .key("config"), .key(key)][...]) { _ in value } ?? config
        }
    }

    func testAbsurdShapesAreOneTypedError() throws {
        // dense_mlp_keras2: InputLayer, then Dense(16) 'hidden'.
        let wide = try legacyCopy(editFirstLayer("units", .int(1 << 40), at: 1))
        assertKerasIOError(try KerasModelFile.load(wide), startsWith: wide + ": ",
                           contains: "config key 'units' must be an integer of magnitude at most 2^31")
        let input = try legacyCopy(editFirstLayer("batch_input_shape", [nil, .int(1 << 40)]))
        assertKerasIOError(try KerasModelFile.load(input), startsWith: input + ": ", contains: "batch_input_shape")
        // Within 2^31, but more weights than the 20 KB file can hold: refused before allocating 4 GB.
        let budget = try legacyCopy(editFirstLayer("units", .int(1 << 30), at: 1))
        assertKerasIOError(try KerasModelFile.load(budget), startsWith: budget + ": ", contains: "more values than the file holds")
    }

    func testQuotedHostileTextStaysOneBoundedLine() throws {
        let name = String(repeating: "n", count: 1 << 20) + "\nsecond line"
        let path = try legacyCopy(editFirstLayer("activation", .string(name), at: 1))
        assertKerasIOError(try KerasModelFile.load(path), startsWith: path + ": ", contains: "characters)")
        XCTAssertThrowsError(try KerasModelFile.load(path)) { XCTAssertLessThan("\($0)".count, 3000) }
    }

    func testDeeplyNestedModels() throws {
        // Sequential inside Sequential: 150 levels parse and load (or fail cleanly);
        // 400 levels exceed the JSON parser's depth limit of 512.
        for depth in [150, 400] {
            let path = try legacyCopy { config in
                var nested = config
                for i in 0..<depth {
                    nested = ["class_name": "Sequential", "config": ["name": .string("s\(i)"), "layers": [nested]]]
                }
                return nested
            }
            do { _ = try KerasModelFile.load(path) } catch let error as KerasIOError {
                XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description)
                if depth == 400 { XCTAssertTrue(error.description.contains("nesting too deep"), error.description) }
            }
        }
    }

    // MARK: Attribute edits

    /// The string attributes legacy loading trusts: `layer_names`,
    /// `weight_names`, `keras_version`, and the configs' storage types; a
    /// loaded delta model (a fixture or one this package writes) then streams.
    func testAttributeEditsOfLegacyFiles() throws {
        var tally = Tally()
        var rng = FuzzRandom(seed: Self.seed &+ 2)
        var streamed = 0
        let sources = try Self.legacyModels() + Self.fixtures("models", ".weights_only.h5")
            + Self.writtenDeltaModels().filter { $0.pathExtension == "h5" }
        for source in sources {
            for i in 0..<(6 * Self.scale) {
                let path = folder.appendingPathComponent(Self.caseFile(source, i, "-attr")).path
                try FileManager.default.copyItem(atPath: source.path, toPath: path)
                let file = try HDF5File(path: path, mode: .readWrite)
                let how = try editAttributes(file, &rng)
                try file.flush()
                let weightsOnly = source.lastPathComponent.contains("weights_only")
                expectLoadOrError(path, "\(Self.label(source)) #\(i): \(how)", &tally) {
                    if weightsOnly {
                        let modelFile = source.deletingLastPathComponent()
                            .appendingPathComponent(source.lastPathComponent.replacingOccurrences(of: ".weights_only.h5", with: ".h5"))
                        let model = try KerasModelFile.load(modelFile.path).model
                        try KerasModelFile.loadWeights(into: model, from: path, byName: rng.chance(0.5), skipMismatch: rng.chance(0.3))
                    } else if streamIfDelta(try KerasModelFile.load(path).model) {
                        streamed += 1
                    }
                }
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        report("attribute edits of legacy .h5 files", tally)
        print("FuzzTests: attribute edits of legacy .h5 files: \(streamed) loaded delta models streamed")
    }

    private func editAttributes(_ file: HDF5File, _ rng: inout FuzzRandom) throws -> String {
        let root: Group = file.contains("model_weights") && !file.hasAttribute("layer_names") ? try file.group("model_weights") : file
        var names = root.hasAttribute("layer_names") ? try root.attribute("layer_names").readStrings() : []
        let groups = names.filter { root.contains($0) }
        switch rng.below(9) {
        case 0:
            guard !names.isEmpty else { return "nothing" }
            let removed = names.remove(at: rng.below(names.count))
            try root.writeAttribute("layer_names", strings: names, encoding: .ascii, form: .variableLength)
            return "layer_names without '\(removed)'"
        case 1:
            guard !names.isEmpty else { return "nothing" }
            names[rng.below(names.count)] = rng.pick(["missing", "", "/", "model_weights", "../x", "a/b/c"])
            try root.writeAttribute("layer_names", strings: names, encoding: .ascii, form: .variableLength)
            return "layer_names with a renamed entry"
        case 2:
            names = rng.chance(0.5) ? names.reversed() : names + names
            try root.writeAttribute("layer_names", strings: names, encoding: .ascii, form: .fixedLength(.nullPadded))
            return "layer_names reversed or doubled, fixed-length"
        case 3:
            try root.writeAttribute("layer_names", values: [1.5, 2.5], shape: [2])
            return "layer_names as numbers"
        case 4:
            // Keras's chunked form, with a gap or a duplicate.
            try root.deleteAttribute("layer_names")
            let half = names.count / 2
            try root.writeAttribute("layer_names0", strings: Array(names[..<half]), encoding: .ascii, form: .fixedLength(.nullPadded))
            try root.writeAttribute(rng.chance(0.5) ? "layer_names2" : "layer_names1", strings: Array(names[half...]),
                                    encoding: .ascii, form: .fixedLength(.nullPadded))
            return "layer_names chunked"
        case 5, 6:
            guard let layer = groups.isEmpty ? nil : rng.pick(groups) else { return "nothing" }
            let group = try root.group(layer)
            var weights = try group.hasAttribute("weight_names") ? group.attribute("weight_names").readStrings() : []
            let how: String
            switch rng.below(5) {
            case 0 where !weights.isEmpty: weights.removeLast(); how = "one fewer"
            case 1 where !weights.isEmpty: weights[rng.below(weights.count)] = "missing:0"; how = "a missing dataset"
            case 2: weights.append(weights.first ?? "x"); how = "one more"
            case 3: weights = weights.isEmpty ? [] : [layer]; how = "a group instead of a dataset"
            default: weights = weights.reversed(); how = "reversed"
            }
            try group.writeAttribute("weight_names", strings: weights, encoding: .ascii, form: .variableLength)
            return "weight_names of '\(layer)': \(how)"
        case 7:
            guard file.hasAttribute("model_config") else { return "nothing" }
            let v = rng.pick(["", "1", "2.2.4", "3.", "99.0.0", "three"])
            try file.writeAttribute("keras_version", string: v, encoding: .utf8, form: .variableLength)
            return "keras_version '\(v)'"
        default:
            guard file.hasAttribute("model_config") else { return "nothing" }
            if rng.chance(0.5) {
                try file.writeAttribute("model_config", values: [Int32(7)], shape: [1])
                return "model_config as a number"
            }
            let text = try file.attribute("model_config").readString()
            // An attribute stored in the object header holds at most 64 KiB.
            guard text.utf8.count < 64512 else {
                try file.writeAttribute("model_config", string: text, encoding: .utf8, form: .variableLength)
                return "model_config variable-length UTF-8"
            }
            try file.writeAttribute("model_config", string: text, encoding: .utf8, form: .fixedLength(.spacePadded))
            return "model_config fixed-length, space-padded"
        }
    }

    // MARK: Byte mutations in child processes

    func testByteMutationsInChildProcesses() throws {
        var rng = FuzzRandom(seed: Self.seed &+ 3)
        let perFile = 9 * Self.scale
        // (file, the model giving the architecture for a weights-only file)
        var sources: [(URL, URL?)] = []
        for url in try Self.legacyModels() + Self.archives() { sources.append((url, nil)) }
        for url in try Self.fixtures("models", ".weights.h5") {
            sources.append((url, URL(fileURLWithPath: url.path.replacingOccurrences(of: ".weights.h5", with: ".keras"))))
        }
        for url in try Self.fixtures("models", ".weights_only.h5") {
            sources.append((url, URL(fileURLWithPath: url.path.replacingOccurrences(of: ".weights_only.h5", with: ".h5"))))
        }
        let applications = try Self.writtenDeltaModels()
        for url in applications { sources.append((url, nil)) }
        // Undamaged, each delta model streams: its damaged copies are not all rejected for another reason.
        if let binary = CLIFuzzRunner.locateBinary() {
            let clean = try CLIFuzzRunner(binary: binary).run(applications.map { CLIFuzzRunner.Job(file: $0.path, command: .stream) },
                                                              in: folder)
            for (url, outcome) in zip(applications, clean) { XCTAssertEqual(outcome, .loaded, url.lastPathComponent) }
        }
        var jobs: [CLIFuzzRunner.Job] = []
        var descriptions: [String] = []
        for (source, model) in sources {
            let data = [UInt8](try Data(contentsOf: source))
            let isZip = data.starts(with: [0x50, 0x4B])
            let members = isZip ? try StoredZipArchive.members(data) : []
            let spots = ByteMutation.hotspots(data)
            let memberSpots = members.map { ByteMutation.hotspots($0.1) }
            let isDelta = source.deletingLastPathComponent().lastPathComponent == "delta"
            // A deltaized application has the most kinds of layer to reach: four times the cases.
            for i in 0..<(applications.contains(source) ? 4 * perFile : perFile) {
                var mutated: [UInt8], how: String
                if isZip && rng.chance(0.6) {
                    // Inside a member, with a valid checksum, to reach the JSON and HDF5 readers.
                    let m = rng.below(members.count)
                    var changed = members
                    (changed[m].1, how) = ByteMutation.mutate(members[m].1, hotspots: memberSpots[m], &rng)
                    how = "\(members[m].0): \(how)"
                    mutated = StoredZipArchive.archive(changed)
                } else {
                    (mutated, how) = ByteMutation.mutate(data, hotspots: spots, &rng)
                }
                let path = folder.appendingPathComponent(Self.caseFile(source, i)).path
                try Data(mutated).write(to: URL(fileURLWithPath: path))
                // A delta model streams: its damaged weights and thresholds reach the streaming plan.
                let command: CLIFuzzRunner.Job.Command = model.map { .convert(model: $0.path) } ?? (isDelta ? .stream : .summary)
                jobs.append(CLIFuzzRunner.Job(file: path, command: command))
                descriptions.append("\(Self.label(source)) #\(i): \(how)")
            }
        }
        try runInChildProcesses(jobs, descriptions, "byte mutations")
    }

    /// Delta models written by this package into a `delta/` folder of their
    /// own, once per test run (the tests that damage or edit them share them;
    /// the folder goes when the class's tests end), so that their damaged and
    /// edited copies stream:
    /// - MobileNetV3Small of the keras.applications suite (`.fixtures/applications/`;
    ///   padding, residual adds, squeeze-and-excitation gates, hard-swish, a
    ///   softmax head), deltaized as `.h5` with the delta layers after the
    ///   non-linearities and as `.keras` with delta layers at every MAC input
    ///   (on the residual sums and the gated products too). Left out when the
    ///   suite was not generated (`make test` generates it; ApplicationModelTests
    ///   fails without it). One application only: mutating a 5 MB file costs
    ///   seconds in a debug build.
    /// - A small clip model whose recurrent layers step frame by frame (``recurrentClipModel()``).
    /// - Two small deltaized models with the streaming steps the others lack
    ///   (``streamingStepsModel()``, ``convolutionClipModel()``).
    private static func writtenDeltaModels() throws -> [URL] {
        if let written = writtenDeltaModelFiles { return written }
        let dir = writtenDeltaModelFolder.appendingPathComponent("delta")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var macInputs = DeltaizeOptions()
        macInputs.placement = .macInputs
        let recurrent = dir.appendingPathComponent("recurrent_clip_delta.keras")
        try KerasModelFile.save(try Self.recurrentClipModel(), to: recurrent.path)
        let steps = dir.appendingPathComponent("streaming_steps_delta.keras")
        try KerasModelFile.save(try deltaize(try Self.streamingStepsModel(), options: macInputs).model, to: steps.path)
        let clip = dir.appendingPathComponent("conv3d_clip_delta.h5")
        try KerasModelFile.save(try deltaize(try Self.convolutionClipModel()).model, to: clip.path)
        let sequence = dir.appendingPathComponent("separable_1d_delta_mac_inputs.h5")
        try KerasModelFile.save(try deltaize(try Self.separableSequenceModel(), options: macInputs).model, to: sequence.path)
        var urls = [recurrent, steps, clip, sequence]
        let source = ApplicationModelTests.folder.appendingPathComponent("mobilenetv3small_keras3.keras")
        if FileManager.default.fileExists(atPath: source.path) {
            let model = try KerasModelFile.load(source.path).model
            for (name, options) in [("mobilenetv3small_delta.h5", DeltaizeOptions()), ("mobilenetv3small_delta_mac_inputs.keras", macInputs)] {
                let url = dir.appendingPathComponent(name)
                try KerasModelFile.save(try deltaize(model, options: options).model, to: url.path)
                urls.append(url)
            }
        }
        writtenDeltaModelFiles = urls
        return urls
    }

    private nonisolated(unsafe) static var writtenDeltaModelFiles: [URL]?
    private static let writtenDeltaModelFolder = FileManager.default.temporaryDirectory
        .appendingPathComponent("kerasio-fuzz-delta-\(UUID().uuidString)")

    override class func tearDown() {
        try? FileManager.default.removeItem(at: writtenDeltaModelFolder)
        super.tearDown()
    }

    /// 12×12 frames through batch normalization, a depthwise residual, max
    /// pooling, a transposed convolution, bilinear resizing, a separable
    /// convolution with swish, layer normalization, a concatenation with a
    /// GELU branch, a permutation, a center crop and a softmax head.
    private static func streamingStepsModel() throws -> Model {
        RandomState.seed(37)
        let x = Input(shape: [12, 12, 3])
        var h = try Rescaling(scale: 1.0 / 255)(x)
        h = try ReLU()(try BatchNormalization()(try Conv2D(filters: 8, kernelSize: [3], padding: "same")(h)))
        h = try Add()([h, try DepthwiseConv2D(kernelSize: [3], padding: "same", activation: "relu")(h)])[0]
        h = try MaxPooling2D(poolSize: [2])(h)                                                                  // [6, 6, 8]
        h = try Conv2DTranspose(filters: 6, kernelSize: [3], strides: [2], padding: "same", activation: "relu")(h)  // [12, 12, 6]
        h = try Resizing(height: 8, width: 10)(h)
        h = try SeparableConv2D(filters: 8, kernelSize: [3], activation: "swish")(h)                           // [6, 8, 8]
        h = try LayerNormalization()(h)
        h = try Concatenate()([h, try Conv2D(filters: 4, kernelSize: [1], activation: "gelu")(h)])[0]
        h = try CenterCrop(height: 6, width: 4)(try Permute(dims: [2, 1, 3])(h))
        return try Model(inputs: [x], outputs: [try Dense(units: 3, activation: "softmax")(try GlobalAveragePooling2D()(h))])
    }

    /// Clips of 4 frames of 8×8: a Conv3D over time, max pooling over
    /// space, a TimeDistributed convolution and pooling over the clip.
    private static func convolutionClipModel() throws -> Model {
        RandomState.seed(41)
        let x = Input(shape: [4, 8, 8, 3])
        var h = try Conv3D(filters: 6, kernelSize: [3], padding: "same", activation: "relu")(x)
        h = try MaxPooling3D(poolSize: [1, 2, 2])(h)
        h = try TimeDistributed(try Conv2D(filters: 6, kernelSize: [3], activation: "relu"))(h)
        return try Model(inputs: [x], outputs: [try Dense(units: 2)(try GlobalAveragePooling3D()(h))])
    }

    /// 8×8 frames read as sequences of 64 pixels: a strided separable
    /// convolution with swish (split at `mac-inputs`), a causal one (kept
    /// whole), a causal convolution, global pooling and a Dense head.
    private static func separableSequenceModel() throws -> Model {
        RandomState.seed(43)
        let x = Input(shape: [8, 8, 3])
        var h = try Reshape(targetShape: [64, 3])(x)
        h = try SeparableConv1D(filters: 6, kernelSize: [3], strides: [2], padding: "same", depthMultiplier: 2,
                                activation: "swish")(h)
        h = try SeparableConv1D(filters: 5, kernelSize: [2], padding: "causal", activation: "relu")(h)
        h = try Conv1D(filters: 4, kernelSize: [3], padding: "causal")(h)
        return try Model(inputs: [x], outputs: [try Dense(units: 3)(try GlobalAveragePooling1D()(h))])
    }

    /// Clips of 4 frames of 8×8: a delta layer on the input, a ConvLSTM2D
    /// returning its sequence, a delta layer, per-frame global pooling, an LSTM
    /// returning its last output, a Dense head.
    private static func recurrentClipModel() throws -> Model {
        RandomState.seed(31)
        let x = Input(shape: [4, 8, 8, 3])
        var h = try DeltaActivation(thresholdInit: 0.05, clipLength: nil, name: "frames_delta")(x)
        h = try ConvLSTM2D(filters: 4, kernelSize: [3], padding: "same", returnSequences: true, name: "conv_lstm")(h)
        h = try DeltaActivation(thresholdInit: 0.05, clipLength: nil, name: "conv_lstm_delta")(h)
        h = try TimeDistributed(try GlobalAveragePooling2D())(h)
        h = try LSTM(units: 4, name: "lstm")(h)
        return try Model(inputs: [x], outputs: [try Dense(units: 2)(h)])
    }

    /// Runs the CLI on every job in child processes and checks the contract:
    /// exit status 0, or 2 with one stderr line naming the file. The CLI's
    /// crash guard ends a fault inside libhdf5 with such a line; each of those
    /// is rerun without the guard to confirm where it faulted. Any crash, any
    /// fault in our code and any timeout fails.
    private func runInChildProcesses(_ jobs: [CLIFuzzRunner.Job], _ descriptions: [String], _ name: String) throws {
        guard let binary = CLIFuzzRunner.locateBinary() else {
            XCTFail("no keras-delta next to the test bundle; build it (`swift build --product keras-delta`) or set KERAS_DELTA_CLI")
            return
        }
        let runner = CLIFuzzRunner(binary: binary)
        let start = Date()
        let outcomes = try runner.run(jobs, in: folder)
        let seconds = Date().timeIntervalSince(start)

        var loaded = 0, rejected = 0, timeouts: [String] = [], contractBreaks: [String] = []
        var crashed: [Int] = [], guarded: [Int] = []
        for (index, outcome) in outcomes.enumerated() {
            let job = jobs[index], what = descriptions[index]
            switch outcome {
            case .loaded: loaded += 1
            case .rejected(let stderr):
                let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
                if lines.count == 1, lines[0].hasPrefix("keras-delta: \(job.file): ") {
                    rejected += 1
                    // The crash guard ended a fault in libhdf5: confirm below that it was there.
                    if lines[0].contains(": libhdf5 crashed ") { guarded.append(index) }
                } else {
                    contractBreaks.append("\(what): stderr is not one line naming the file: \(stderr.prefix(300))")
                }
            case .failed(let status, let stderr):
                contractBreaks.append("\(what): exit status \(status): \(stderr.prefix(300))")
            case .timeout:
                timeouts.append(what)
            case .signal:
                crashed.append(index)
            }
        }

        // `FUZZ_KEEP=DIR` keeps a copy of every crashing or hanging file.
        if let keep = ProcessInfo.processInfo.environment["FUZZ_KEEP"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            for (index, outcome) in outcomes.enumerated() where outcome == .timeout || crashed.contains(index) || guarded.contains(index) {
                let file = jobs[index].file
                try? FileManager.default.copyItem(atPath: file, toPath: keep + "/" + (file as NSString).lastPathComponent)
            }
        }

        // Every fault fails the test, whether the crash guard ended it with one
        // line or the process died of a signal. Each is rerun without the
        // guard and with a backtrace, and valgrind where installed, to say
        // where it happened; that attribution is information, not an excuse.
        var faults: [String] = []
        let faulted = guarded + crashed
        if !faulted.isEmpty {
            let again = try runner.run(faulted.map { jobs[$0] }, in: folder, backtrace: true)
            for (index, outcome) in zip(faulted, again) {
                let what = descriptions[index], kind = guarded.contains(index) ? "ended by the crash guard" : "crash"
                guard case .signal(let signal, let stderr) = outcome else {
                    faults.append("\(what): \(kind), then \(outcome) on a rerun (not deterministic)")
                    continue
                }
                faults.append("\(what): \(kind), signal \(signal): \(runner.classifyCrash(jobs[index], stderr: stderr))")
            }
        }
        let streamed = zip(jobs, outcomes).filter { job, outcome in
            if case .stream = job.command { return outcome == .loaded }
            return false
        }.count
        print("FuzzTests: \(name): \(jobs.count) cases in \(String(format: "%.0f", seconds)) s: \(loaded) loaded (\(streamed) of them streamed), "
              + "\(rejected - guarded.count) rejected with one line naming the file, \(timeouts.count) hangs (over \(runner.seconds) s), "
              + "\(crashed.count) crashes, \(guarded.count) faults ended by the crash guard, \(contractBreaks.count) other contract breaks")
        let kinds = ["bit flips", "truncated", "inserted", "deleted", "overwritten", "zeroed"]
        let perKind = kinds.map { kind in "\(descriptions.filter { $0.contains(kind) }.count) \(kind)" }
        print("FuzzTests: \(name) by mutation: " + perKind.joined(separator: ", "))
        XCTAssertGreaterThan(jobs.count, 0, "\(name): no case ran")
        XCTAssertEqual(outcomes.count, jobs.count, "\(name): outcomes for \(outcomes.count) of \(jobs.count) cases")
        for c in faults.prefix(20) { XCTFail("fault: \(c)") }
        for c in timeouts.prefix(20) { XCTFail("hang (no exit within \(runner.seconds) s): \(c)") }
        for c in contractBreaks.prefix(20) { XCTFail(c) }
        XCTAssertEqual(faults.count + timeouts.count + contractBreaks.count, 0)
    }

}

/// Aborts with the case at hand when one case runs for more than
/// `FUZZ_HANG_SECONDS` (default 300),
/// so a hang is reported rather than waited for; and knows the process's
/// resident memory.
final class FuzzWatchdog: @unchecked Sendable {
    static let shared = FuzzWatchdog()
    private let lock = NSLock()
    private var current: (String, Date)?
    let residentLimit: Int

    private init() {
        residentLimit = FuzzWatchdog.residentBytes() + (3 << 30)
        let thread = Thread { [unowned self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                self.lock.lock()
                let c = self.current
                self.lock.unlock()
                if let (what, start) = c, Date().timeIntervalSince(start) > FuzzWatchdog.hangSeconds {
                    FileHandle.standardError.write(Data("FuzzTests: hang for over \(Int(FuzzWatchdog.hangSeconds)) s on: \(what)\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    static let hangSeconds = Double(ProcessInfo.processInfo.environment["FUZZ_HANG_SECONDS"] ?? "") ?? 300

    /// `FUZZ_VERBOSE=1` prints every case before it runs, to find the one that crashed.
    static let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] != nil

    func begin(_ what: String) {
        if Self.verbose { FileHandle.standardError.write(Data("FuzzTests: case \(what)\n".utf8)) }
        lock.lock()
        current = (what, Date())
        lock.unlock()
    }

    func end() {
        lock.lock()
        current = nil
        lock.unlock()
    }

    /// The resident set size, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
