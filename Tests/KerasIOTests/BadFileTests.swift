import Foundation
import XCTest
import HDF5
import Tensor
import Layers
import KerasIO

/// A layer with sublayers KerasIO does not know how to lay out in Keras 3 files.
final class UnknownComposite: UnaryLayer {
    let inner: Dense

    init(name: String) throws {
        inner = try Dense(units: 2, name: "\(name)_inner")
        super.init(name: name)
    }

    required init(config: LayerConfig) throws { throw LayerError.badConfig(layer: config.layerName, "not loadable") }

    override var sublayers: [Layer] { [inner] }
    override func build(inputShape: Shape) throws { try inner.buildIfNeeded([inputShape]) }
    override func computeOutputShape(_ inputShape: Shape) throws -> Shape { try inner.computeOutputShapes([inputShape])[0] }
    override func call(_ x: Tensor, training: Bool) throws -> Tensor { try inner(x) }
}

/// Broken files and failed writes: each error is one line naming the file
/// and the part at fault, and a failed write leaves no file behind and an
/// existing one untouched.
final class BadFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws { folder = try temporaryFolder(self) }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func smallModel(units: Int = 3, name: String = "d") throws -> Sequential {
        try Sequential([InputLayer(batchShape: [nil, 2], name: "x"), Dense(units: units, name: name), ReLU(name: "act")], name: "small")
    }

    /// Replaces the root `model_config` of a legacy file.
    private func setModelConfig(_ file: String, _ edit: (String) -> String) throws {
        let h5 = try HDF5File(path: file, mode: .readWrite)
        let text = try h5.attribute("model_config").readString()
        try h5.writeAttribute("model_config", string: edit(text), encoding: .ascii, form: .variableLength)
    }

    // MARK: Reading

    func testTruncatedFiles() throws {
        for ext in ["h5", "keras", "weights.h5"] {
            let whole = path("whole.\(ext)"), cut = path("cut.\(ext)")
            try KerasModelFile.save(try smallModel(), to: whole)
            let data = try Data(contentsOf: URL(fileURLWithPath: whole))
            try data.prefix(data.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
            if ext == "weights.h5" {
                assertKerasIOError(try KerasModelFile.loadWeights(into: try smallModel(), from: cut), startsWith: cut + ": ")
            } else {
                assertKerasIOError(try KerasModelFile.load(cut), startsWith: cut + ": ")
            }
        }
    }

    func testInvalidJSONInLegacyConfig() throws {
        let file = path("m.h5")
        try KerasModelFile.save(try smallModel(), to: file)
        try setModelConfig(file) { String($0.dropLast(3)) }
        assertKerasIOError(try KerasModelFile.load(file), startsWith: file + ": model_config: invalid JSON at byte")
    }

    func testInvalidJSONInKerasArchive() throws {
        let file = path("m.keras")
        try KerasModelFile.save(try smallModel(), to: file)
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        try StoredZip.replaceFirstByte(of: "config.json", in: &data, with: UInt8(ascii: "]"))
        try data.write(to: URL(fileURLWithPath: file))
        assertKerasIOError(try KerasModelFile.load(file), startsWith: file + ": config.json: invalid JSON at byte 0")
    }

    func testConfigAndWeightsDisagreeOnTheLayerCount() throws {
        let file = path("m.h5")
        try KerasModelFile.save(try smallModel(), to: file)
        let bigger = try Sequential([InputLayer(batchShape: [nil, 2], name: "x"), Dense(units: 3, name: "d"), Dense(units: 1, name: "e")])
        let config = try ModelConfigWriter(style: .legacy).modelConfig(bigger).serialized()
        try setModelConfig(file) { _ in config }
        assertKerasIOError(try KerasModelFile.load(file),
                           startsWith: file + ": /model_weights: the file has weights for 1 layers, the model has 2")

        let weights = path("m.weights.h5")
        try KerasModelFile.save(try smallModel(), to: weights)
        assertKerasIOError(try KerasModelFile.loadWeights(into: bigger, from: weights),
                           startsWith: weights + ": /layers/dense_1/vars: layer 'e' has 2 variables, the file has 0")
    }

    func testWrongWeightShape() throws {
        let file = path("m.h5")
        try KerasModelFile.save(try smallModel(units: 3), to: file)
        let config = try ModelConfigWriter(style: .legacy).modelConfig(try smallModel(units: 4)).serialized()
        try setModelConfig(file) { _ in config }
        assertKerasIOError(try KerasModelFile.load(file),
                           startsWith: file + ": /model_weights/d/d/kernel: weight 'd/kernel' of layer 'd' has shape [2, 4], the file has [2, 3]")

        let archive = path("m.keras")
        try KerasModelFile.save(try smallModel(units: 3), to: archive)
        let wider = try smallModel(units: 4)
        let before = weightBits(wider)
        assertKerasIOError(try KerasModelFile.loadWeights(into: wider, from: archive),
                           startsWith: archive + ": model.weights.h5:/layers/dense/vars/0: variable 'd/kernel' of layer 'd' has shape [2, 4]")
        XCTAssertEqual(weightBits(wider), before, "nothing is assigned when a layer fails")
    }

    func testUnknownLayer() throws {
        for ext in ["h5", "keras"] {
            let file = path("m.\(ext)")
            try KerasModelFile.save(try smallModel(), to: file)
            if ext == "h5" {
                try setModelConfig(file) { $0.replacingOccurrences(of: "\"ReLU\"", with: "\"Mystery\"") }
            } else {
                var data = try Data(contentsOf: URL(fileURLWithPath: file))
                try StoredZip.replace("\"ReLU\"", with: "\"ReLV\"", in: "config.json", of: &data)
                try data.write(to: URL(fileURLWithPath: file))
            }
            assertKerasIOError(try KerasModelFile.load(file), startsWith: file + ": layer 'act': unknown layer class")
        }
    }

    func testWeightsOnlyFilesNeedAModel() throws {
        let file = path("m.weights.h5")
        try KerasModelFile.save(try smallModel(), to: file)
        assertKerasIOError(try KerasModelFile.load(file), startsWith: file + ": holds weights only")
        assertKerasIOError(try KerasModelFile.loadWeights(into: try smallModel(), from: file, byName: true),
                           startsWith: file + ": loading by name needs a legacy .h5 file")
    }

    // MARK: Writing

    func testUnknownExtensionAndMissingFolder() throws {
        let model = try smallModel()
        assertKerasIOError(try KerasModelFile.save(model, to: path("m.onnx")), startsWith: path("m.onnx") + ": unknown model file extension")
        let nowhere = path("missing/m.h5")
        assertKerasIOError(try KerasModelFile.save(model, to: nowhere), startsWith: nowhere + ": the folder")
        XCTAssertEqual(try filesIn(folder), [])
    }

    func testADirectoryInTheWayIsLeftAlone() throws {
        let target = path("m.keras")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: target + "/inside.txt"))
        assertKerasIOError(try KerasModelFile.save(try smallModel(), to: target), startsWith: target + ": is a directory")
        XCTAssertEqual(try filesIn(URL(fileURLWithPath: target)), ["inside.txt"])
        XCTAssertEqual(try filesIn(folder), ["m.keras"])
    }

    func testAFailedWriteLeavesTheExistingFileAndNoTemporaryFiles() throws {
        let composite = try Sequential([InputLayer(batchShape: [nil, 2], name: "x"), UnknownComposite(name: "pair")])
        let longName = try Sequential([InputLayer(batchShape: [nil, 2], name: "x"),
                                       Dense(units: 1, name: String(repeating: "n", count: 70_000))])
        for (model, file, expected) in [(composite, "m.keras", "layer 'pair': UnknownComposite has sublayers"),
                                        (composite, "m.weights.h5", "layer 'pair': UnknownComposite has sublayers"),
                                        (longName, "m.h5", "/model_weights: the name 'nnnn")] {
            let target = path(file)
            try Data("previous contents".utf8).write(to: URL(fileURLWithPath: target))
            assertKerasIOError(try KerasModelFile.save(model, to: target), startsWith: target + ": ", contains: expected)
            XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "previous contents", file)
            XCTAssertEqual(try filesIn(folder), [file], "no temporary file is left next to \(file)")
            try FileManager.default.removeItem(atPath: target)
        }
    }

    func testASuccessfulWriteReplacesTheFile() throws {
        let target = path("m.h5")
        try Data("previous contents".utf8).write(to: URL(fileURLWithPath: target))
        let model = try smallModel()
        try KerasModelFile.save(model, to: target)
        XCTAssertEqual(weightBits(try KerasModelFile.load(target).model), weightBits(model))
        XCTAssertEqual(try filesIn(folder), ["m.h5"])
    }
}

/// Edits members of a zip archive whose members are stored uncompressed, as
/// `.keras` archives are, keeping the checksums valid.
enum StoredZip {
    /// Replaces the first occurrence of `old` with `new` (same length) in `member`.
    static func replace(_ old: String, with new: String, in member: String, of zip: inout Data) throws {
        let (start, count) = try locate(member, in: zip)
        var content = [UInt8](zip[start..<start + count])
        let o = Array(old.utf8), n = Array(new.utf8)
        precondition(o.count == n.count)
        let at = try XCTUnwrap((0...(content.count - o.count)).first { Array(content[$0..<$0 + o.count]) == o })
        content.replaceSubrange(at..<at + o.count, with: n)
        try write(content, member, start, &zip)
    }

    static func replaceFirstByte(of member: String, in zip: inout Data, with byte: UInt8) throws {
        let (start, count) = try locate(member, in: zip)
        var content = [UInt8](zip[start..<start + count])
        content[0] = byte
        try write(content, member, start, &zip)
    }

    private static func write(_ content: [UInt8], _ member: String, _ start: Int, _ zip: inout Data) throws {
        zip.replaceSubrange(start..<start + content.count, with: content)
        let crc = crc32(content)
        let name = Array(member.utf8)
        let bytes = [UInt8](zip)
        // Local header (PK\3\4, CRC at 14) and central directory entry (PK\1\2, CRC at 16) of the member.
        for (signature, crcOffset, nameOffset) in [([0x50, 0x4B, 3, 4] as [UInt8], 14, 30), ([0x50, 0x4B, 1, 2], 16, 46)] {
            let header = try XCTUnwrap((0..<bytes.count - nameOffset - name.count).first {
                Array(bytes[$0..<$0 + 4]) == signature && Array(bytes[$0 + nameOffset..<$0 + nameOffset + name.count]) == name
            })
            zip.replaceSubrange(header + crcOffset..<header + crcOffset + 4, with: (0..<4).map { UInt8((crc >> (8 * $0)) & 0xFF) })
        }
    }

    /// The offset and size of a stored member's content.
    private static func locate(_ member: String, in zip: Data) throws -> (Int, Int) {
        let bytes = [UInt8](zip), name = Array(member.utf8)
        let header = try XCTUnwrap((0..<bytes.count - 30 - name.count).first {
            bytes[$0..<$0 + 4].elementsEqual([0x50, 0x4B, 3, 4]) && Array(bytes[$0 + 30..<$0 + 30 + name.count]) == name
        })
        func u16(_ at: Int) -> Int { Int(bytes[header + at]) | Int(bytes[header + at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        return (header + 30 + u16(26) + u16(28), u32(18))
    }

    private static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
