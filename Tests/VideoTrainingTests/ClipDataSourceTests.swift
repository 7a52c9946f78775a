import Foundation
import Layers
import Tensor
import Training
@testable import Video
import VideoTraining
import XCTest

final class ClipDataSourceTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ClipDataSourceTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private let synthetic = "synthetic:mode=motion,classes=5,clips=10,frames=4,size=16,seed=3"
    private var set: SyntheticActionSet {
        get throws { try SyntheticActionSet(.init(mode: .motion, classCount: 5, clipCount: 10, frameCount: 4, size: 16, seed: 3)) }
    }

    private func all(_ source: ClipDataSource, epoch: Int) throws -> [DataBatch] {
        let iterator = try source.batches(epoch: epoch)
        var out: [DataBatch] = []
        while let b = try iterator.next() { out.append(b) }
        return out
    }

    /// Frame `t` of clip `i` of the set as floats 0…255.
    private func frame(_ i: Int, _ t: Int) throws -> [Float] {
        let clip = try set.clip(at: i).clip
        return try clip.frame(t).pixels.map { Float($0) }
    }

    private func rows(_ x: Tensor, _ r: Int) -> [Float] {
        let size = x.count / x.shape[0]
        return Array(x.scalars[r * size..<(r + 1) * size])
    }

    // MARK: Clip integrity

    func testFramesAsBatchKeepsEachClipTogetherAndInOrder() throws {
        let source = try DataSourceSpec.parse(synthetic).makeSource(ClipSourceOptions(batchSize: 3, shuffle: true, seed: 7))
        XCTAssertEqual(source.count, 10)
        XCTAssertEqual(source.batchCount, 4)
        XCTAssertEqual(source.labels, .perFrame)
        var orders: [[Int]] = []
        for epoch in 0..<2 {
            let order = source.clipOrder(epoch: epoch)
            let batches = try all(source, epoch: epoch)
            XCTAssertEqual(batches.map { $0.x[0].shape }, [[12, 16, 16, 3], [12, 16, 16, 3], [12, 16, 16, 3], [4, 16, 16, 3]])
            for (batch, clips) in zip(batches, order) {
                for (k, clip) in clips.enumerated() {
                    for t in 0..<4 {
                        XCTAssertEqual(rows(batch.x[0], k * 4 + t), try frame(clip, t), "epoch \(epoch): clip \(clip) frame \(t) at row \(k * 4 + t)")
                    }
                }
                let label = clips.flatMap { [Float](repeating: Float($0 % 5), count: 4) }
                XCTAssertEqual(batch.y[0].shape, [clips.count * 4])
                XCTAssertEqual(batch.y[0].scalars, label, "labels per frame, the clip's repeated")
            }
            let flat = order.flatMap { $0 }
            XCTAssertEqual(flat.sorted(), Array(0..<10), "every clip once per epoch")
            orders.append(flat)
        }
        XCTAssertNotEqual(orders[0], orders[1], "shuffling moves clips between epochs")
        XCTAssertNotEqual(orders[0], Array(0..<10))
        XCTAssertEqual(source.clipOrder(epoch: 1).flatMap { $0 }, orders[1], "the order is fixed by seed and epoch")
    }

    func testTimeAxisLayoutAndLabelLayouts() throws {
        let spec = try DataSourceSpec.parse(synthetic)
        let perClip = try spec.makeSource(ClipSourceOptions(batchSize: 4, layout: .timeAxis))
        XCTAssertEqual(perClip.labels, .perClip)
        let first = try XCTUnwrap(try perClip.batches(epoch: 0).next())
        XCTAssertEqual(first.x[0].shape, [4, 4, 16, 16, 3])
        XCTAssertEqual(first.y[0].scalars, [0, 1, 2, 3])
        XCTAssertEqual(rows(first.x[0], 2), try (0..<4).flatMap { try frame(2, $0) }, "clip 2 whole, frames in order")

        let perFrame = try spec.makeSource(ClipSourceOptions(batchSize: 2, layout: .timeAxis, labels: .perFrame))
        XCTAssertEqual(try perFrame.batches(epoch: 0).next()?.y[0].shape, [2, 4])
        let framesPerClip = try spec.makeSource(ClipSourceOptions(batchSize: 2, labels: .perClip))
        let b = try XCTUnwrap(try framesPerClip.batches(epoch: 0).next())
        XCTAssertEqual(b.x[0].shape, [8, 16, 16, 3])
        XCTAssertEqual(b.y[0].scalars, [0, 1])
        let none = try spec.makeSource(ClipSourceOptions(batchSize: 2, labels: ClipLabels.none))
        XCTAssertEqual(try none.batches(epoch: 0).next()?.y.count, 0)
    }

    /// A `data synth` folder gives the same batches, bit for bit, as the set made on the fly.
    func testSynthFolderGivesTheSameBatchesAsTheSyntheticSet() throws {
        let out = folder.appendingPathComponent("synth")
        _ = try set.writeNPY(to: out)
        let spec = try DataSourceSpec.parse(out.path)
        XCTAssertEqual(spec, .arrays(folder: out))
        XCTAssertTrue(spec.hasLabels)
        let options = ClipSourceOptions(batchSize: 3, shuffle: true, seed: 4)
        let arrays = try spec.makeSource(options), generated = try DataSourceSpec.parse(synthetic).makeSource(options)
        XCTAssertEqual(arrays.classNames, generated.classNames)
        for epoch in 0..<2 {
            let a = try all(arrays, epoch: epoch), g = try all(generated, epoch: epoch)
            XCTAssertEqual(a.map { $0.x[0] }, g.map { $0.x[0] }, "epoch \(epoch)")
            XCTAssertEqual(a.map { $0.y[0] }, g.map { $0.y[0] }, "epoch \(epoch)")
        }
    }

    /// Clip length 2 on clips of 4 frames: each stored clip gives clips 2k (frames 0, 1) and 2k+1 (frames 2, 3).
    func testShorterClipLengthCutsConsecutiveWindows() throws {
        let out = folder.appendingPathComponent("synth")
        _ = try set.writeNPY(to: out)
        for spec in [try DataSourceSpec.parse(out.path), try DataSourceSpec.parse(synthetic)] {
            let source = try spec.makeSource(ClipSourceOptions(batchSize: 20, clipLength: 2))
            XCTAssertEqual(source.count, 20)
            XCTAssertEqual(source.clipLength, 2)
            let batch = try XCTUnwrap(try source.batches(epoch: 0).next())
            XCTAssertEqual(batch.x[0].shape, [40, 16, 16, 3])
            for clip in [0, 1, 7] {
                for t in 0..<2 {
                    XCTAssertEqual(rows(batch.x[0], clip * 2 + t), try frame(clip / 2, (clip % 2) * 2 + t), "\(spec) clip \(clip) frame \(t)")
                }
            }
            XCTAssertEqual(Array(batch.y[0].scalars.prefix(8)), [0, 0, 0, 0, 1, 1, 1, 1])
        }
        XCTAssertThrowsError(try DataSourceSpec.parse(synthetic).makeSource(ClipSourceOptions(clipLength: 5))) { error in
            XCTAssertEqual("\(error)", "bad config: clip source: clip length 5 must be within 1...4, the data's clip length")
        }
    }

    /// Hand derivation: bilinear resizing of a constant image is that constant.
    func testFramesAreResizedToTheModelSize() throws {
        let clips = Tensor(shape: [2, 3, 10, 10, 3], scalars: (0..<1800).map { Float(($0 / 300) * 10) })
        let source = try ClipDataSource(clips: clips, labels: [1, 0], options: ClipSourceOptions(batchSize: 2, frameSize: (4, 6)))
        let batch = try XCTUnwrap(try source.batches(epoch: 0).next())
        XCTAssertEqual(batch.x[0].shape, [6, 4, 6, 3])
        for r in 0..<6 { XCTAssertTrue(rows(batch.x[0], r).allSatisfy { $0 == Float(r * 10) }, "frame \(r)") }
        XCTAssertEqual(batch.y[0].scalars, [1, 1, 1, 0, 0, 0])
    }

    func testMatchReadsTheModelInput() throws {
        var options = ClipSourceOptions()
        let frameInput = Input(shape: [24, 32, 3])
        let frames = try Model(inputs: [frameInput], outputs: [try Dense(units: 1)(frameInput)])
        try options.match(frames)
        XCTAssertEqual(options.layout, .framesAsBatch)
        XCTAssertEqual(options.frameSize?.height, 24)
        XCTAssertEqual(options.frameSize?.width, 32)
        let clipInput = Input(shape: [6, 20, 20, 3])
        let clips = try Model(inputs: [clipInput], outputs: [try Dense(units: 1)(clipInput)])
        try options.match(clips)
        XCTAssertEqual(options.layout, .timeAxis)
        XCTAssertEqual(options.clipLength, 6)
        let vector = Input(shape: [5])
        XCTAssertThrowsError(try options.match(try Model(inputs: [vector], outputs: [try Dense(units: 1)(vector)])))
    }

    /// A synthetic DATA without `classes` takes the model's class count when the set has that many.
    func testSyntheticTakesTheModelsClassCount() throws {
        func classCount(units: Int, _ data: String) throws -> Int {
            let input = Input(shape: [16, 16, 3])
            let model = try Model(inputs: [input], outputs: [try Dense(units: units)(try GlobalAveragePooling2D()(input))])
            var options = ClipSourceOptions(batchSize: 1)
            try options.match(model)
            XCTAssertEqual(options.classCount, units)
            return try DataSourceSpec.parse(data).makeSource(options).classNames.count
        }
        XCTAssertEqual(try classCount(units: 6, "synthetic:mode=appearance,clips=2"), 6)
        XCTAssertEqual(try classCount(units: 6, "synthetic:mode=appearance,clips=2,classes=4"), 4)
        XCTAssertEqual(try classCount(units: 3, "synthetic:clips=2"), 3)
        // More outputs than the set has classes (motion has 10): the default.
        XCTAssertEqual(try classCount(units: 1000, "synthetic:clips=2"), 10)
    }

    // MARK: Training on clips

    func testFitAndEvaluateOnClips() throws {
        RandomState.seed(2)
        let input = Input(shape: [16, 16, 3])
        let pooled = try GlobalAveragePooling2D()(input)
        let out = try Dense(units: 5, activation: "softmax", name: "out")(pooled)
        let model = try Model(inputs: [input], outputs: [out])
        try model.compile(optimizer: SGD(learningRate: 1e-4), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
        var options = ClipSourceOptions(batchSize: 4, shuffle: true, seed: 1)
        try options.match(model)
        let source = try DataSourceSpec.parse(synthetic).makeSource(options)
        let history = try model.fit(source, epochs: 2, verbose: 0)
        XCTAssertEqual(history.epoch, [0, 1])
        XCTAssertEqual(Set(history.history.keys), ["loss", "accuracy"])
        let logs = try model.evaluate(source, verbose: 0)
        XCTAssertTrue(logs["loss"]!.isFinite)
    }

    private struct Interrupted: Error {}
    private final class InterruptAfter: Callback {
        let epoch: Int
        init(epoch: Int) { self.epoch = epoch }
        override func onEpochEnd(_ e: Int, logs: inout Logs) throws { if e == epoch { throw Interrupted() } }
    }

    /// A run on shuffled clips stopped after epoch 1 and resumed ends on the
    /// same weights, bit for bit, as a run straight through.
    func testStopAndResumeOnClipsIsBitExact() throws {
        func model(_ seed: UInt64) throws -> Model {
            RandomState.seed(seed)
            let input = Input(shape: [16, 16, 3])
            var h = try Conv2D(filters: 4, kernelSize: [3, 3], activation: "relu")(input)
            h = try Dropout(rate: 0.25)(try GlobalAveragePooling2D()(h))
            let m = try Model(inputs: [input], outputs: [try Dense(units: 5, activation: "softmax")(h)])
            try m.compile(optimizer: SGD(learningRate: 1e-3, momentum: 0.9), loss: "sparse_categorical_crossentropy", metrics: ["accuracy"])
            return m
        }
        let source = try DataSourceSpec.parse(synthetic).makeSource(ClipSourceOptions(batchSize: 3, shuffle: true, seed: 5))
        let straight = try model(1)
        try straight.fit(source, epochs: 3, verbose: 0)
        let dir = folder.appendingPathComponent("backup").path
        XCTAssertThrowsError(try model(1).fit(source, epochs: 3, callbacks: [BackupAndRestore(backupDir: dir), InterruptAfter(epoch: 0)],
                                              verbose: 0))
        let resumed = try model(2)
        let history = try resumed.fit(source, epochs: 3, callbacks: [BackupAndRestore(backupDir: dir)], verbose: 0)
        XCTAssertEqual(history.epoch, [0, 1, 2])
        XCTAssertEqual(resumed.getWeights(), straight.getWeights())
    }

    // MARK: Parsing DATA

    func testParseSynthetic() throws {
        XCTAssertEqual(try DataSourceSpec.parse("synthetic"),
                       .synthetic(mode: .motion, classes: nil, clips: 200, frames: nil, size: nil, seed: 0))
        XCTAssertEqual(try DataSourceSpec.parse("synthetic:mode=appearance,classes=6,clips=12,frames=3,size=32,seed=9"),
                       .synthetic(mode: .appearance, classes: 6, clips: 12, frames: 3, size: 32, seed: 9))
        for text in ["synthetic", "synthetic:mode=appearance,classes=6,clips=12,frames=3,size=32,seed=9", "synthetic:size=20,seed=4"] {
            let spec = try DataSourceSpec.parse(text)
            XCTAssertEqual(try DataSourceSpec.parse(spec.argument), spec, spec.argument)
        }
        let bad: [(String, String)] = [
            ("synthetic:colour=red", "DATA 'synthetic:colour=red': unknown key 'colour'; the keys are mode, classes, clips, frames, size, seed"),
            ("synthetic:clips=0", "DATA 'synthetic:clips=0': clips must be an integer of at least 1, got '0'"),
            ("synthetic:mode=dance", "DATA 'synthetic:mode=dance': mode must be motion or appearance, got 'dance'"),
            ("synthetic:seed=1,seed=2", "DATA 'synthetic:seed=1,seed=2': key 'seed' is given twice"),
            ("synthetic:size", "DATA 'synthetic:size': 'size' is not key=value"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try DataSourceSpec.parse(text)) { XCTAssertEqual("\($0)", message) }
        }
        // Without a size the set is made at the requested frame size.
        let source = try DataSourceSpec.parse("synthetic:clips=2,frames=2").makeSource(ClipSourceOptions(batchSize: 2, frameSize: (20, 24)))
        XCTAssertEqual(try source.batches(epoch: 0).next()?.x[0].shape, [4, 20, 24, 3])
    }

    func testParsePaths() throws {
        let missing = folder.appendingPathComponent("nothing").path
        XCTAssertThrowsError(try DataSourceSpec.parse(missing)) { XCTAssertEqual("\($0)", "DATA '\(missing)': no such file or folder") }
        let file = folder.appendingPathComponent("a.mp4")
        try Data().write(to: file)
        XCTAssertEqual(try DataSourceSpec.parse(file.path), .videoFile(file))
        XCTAssertEqual(try DataSourceSpec.parse(folder.path), .videoFolder(folder))

        let ucf = folder.appendingPathComponent("data")
        let lists = ucf.appendingPathComponent("ucfTrainTestlist")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ucf.appendingPathComponent("UCF-101"), withIntermediateDirectories: true)
        try Data("1 A\n".utf8).write(to: lists.appendingPathComponent("classInd.txt"))
        XCTAssertEqual(try DataSourceSpec.parse(ucf.path, split: 2, subset: .test),
                       .ucf101(root: ucf.appendingPathComponent("UCF-101"), split: 2, subset: .test))
        XCTAssertEqual(try DataSourceSpec.parse(ucf.appendingPathComponent("UCF-101").path),
                       .ucf101(root: ucf.appendingPathComponent("UCF-101"), split: 1, subset: .train), "lists beside the root")
        XCTAssertThrowsError(try DataSourceSpec.parse(ucf.path, split: 4)) { XCTAssertEqual("\($0)", "--split 4: a UCF101 split is 1, 2 or 3") }

        let arrays = folder.appendingPathComponent("arrays")
        try FileManager.default.createDirectory(at: arrays, withIntermediateDirectories: true)
        try Tensor.zeros([2, 3, 4, 4, 3]).writeNPY(to: arrays.appendingPathComponent("clips.npy"))
        XCTAssertEqual(try DataSourceSpec.parse(arrays.path), .arrays(folder: arrays))
        XCTAssertFalse(try DataSourceSpec.parse(arrays.path).hasLabels)
        try Tensor(shape: [3], scalars: [0, 1, 0]).writeNPY(to: arrays.appendingPathComponent("labels.npy"))
        XCTAssertThrowsError(try DataSourceSpec.parse(arrays.path).makeSource(ClipSourceOptions())) { error in
            XCTAssertEqual("\(error)", "\(arrays.path)/labels.npy: labels must have shape [2] (one per clip), got [3]")
        }
    }

    // MARK: Videos (decoded by the real FFmpeg)

    private func video(_ url: URL, seconds: Double = 1) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try FFmpegTools.run(URL(fileURLWithPath: "/usr/bin/ffmpeg"),
                                         ["-y", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                                          "-t", String(seconds), "-c:v", "mpeg4", "-q:v", "2", url.path])
        XCTAssertEqual(result.status, 0, result.errors)
    }

    func testVideoFilesAndFoldersCarryNoLabels() throws {
        let videos = folder.appendingPathComponent("videos")
        try video(videos.appendingPathComponent("a.avi"))
        try video(videos.appendingPathComponent("b.avi"))
        let spec = try DataSourceSpec.parse(videos.path)
        XCTAssertEqual(spec, .videoFolder(videos))
        XCTAssertFalse(spec.hasLabels)
        let source = try spec.makeSource(ClipSourceOptions(batchSize: 2, clipLength: 4, frameSize: (16, 16)))
        XCTAssertEqual(source.labels, ClipLabels.none)
        let batch = try XCTUnwrap(try source.batches(epoch: 0).next())
        XCTAssertEqual(batch.x[0].shape, [8, 16, 16, 3])
        XCTAssertTrue(batch.y.isEmpty)
        XCTAssertThrowsError(try spec.makeSource(ClipSourceOptions(labels: .perClip, clipLength: 4))) { error in
            XCTAssertEqual("\(error)", "invalid data: clip source: perClip labels were asked for, but the data carries no labels")
        }
        // One file: every non-overlapping clip of 4 frames out of 10.
        let single = try DataSourceSpec.parse(videos.appendingPathComponent("a.avi").path)
            .makeSource(ClipSourceOptions(batchSize: 8, clipLength: 4, frameSize: (16, 16)))
        XCTAssertEqual(single.count, 2)
        XCTAssertEqual(try single.batches(epoch: 0).next()?.x[0].shape, [8, 16, 16, 3])
    }

    func testUCF101RootGivesLabelledClips() throws {
        let root = folder.appendingPathComponent("UCF-101")
        for (c, name) in ["Jump", "Run"].enumerated() {
            for g in 1...2 { try video(root.appendingPathComponent("\(name)/v_\(name)_g0\(g)_c01.avi"), seconds: 0.8 + 0.1 * Double(c)) }
        }
        let lists = folder.appendingPathComponent("ucfTrainTestlist")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        try Data("1 Jump\n2 Run\n".utf8).write(to: lists.appendingPathComponent("classInd.txt"))
        try Data("Jump/v_Jump_g01_c01.avi 1\nRun/v_Run_g01_c01.avi 2\n".utf8).write(to: lists.appendingPathComponent("trainlist01.txt"))
        try Data("Jump/v_Jump_g02_c01.avi\nRun/v_Run_g02_c01.avi\n".utf8).write(to: lists.appendingPathComponent("testlist01.txt"))
        let spec = try DataSourceSpec.parse(root.path, split: 1, subset: .test)
        let source = try spec.makeSource(ClipSourceOptions(batchSize: 2, layout: .timeAxis, clipLength: 3, frameSize: (12, 12)))
        XCTAssertEqual(source.classNames, ["Jump", "Run"])
        let batch = try XCTUnwrap(try source.batches(epoch: 0).next())
        XCTAssertEqual(batch.x[0].shape, [2, 3, 12, 12, 3])
        XCTAssertEqual(batch.y[0].scalars, [0, 1])
    }
}
