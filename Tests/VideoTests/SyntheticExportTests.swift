import Foundation
import XCTest
@testable import Video

final class SyntheticExportTests: XCTestCase {
    /// The header text and payload of a version 1.0 `.npy` file.
    private func readNPY(_ url: URL) throws -> (header: String, payload: Data) {
        let data = try Data(contentsOf: url)
        XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + length) % 64, 0, "header padded to 64 bytes")
        let header = String(decoding: data[10..<(10 + length)], as: UTF8.self)
        XCTAssertTrue(header.hasSuffix("\n"))
        return (header, data.subdata(in: (10 + length)..<data.count))
    }

    func testWritesClipsLabelsAndClassNames() throws {
        let media = try TestMedia()
        let set = try SyntheticActionSet(.init(classCount: 3, clipCount: 40, frameCount: 2, size: 16, seed: 6))
        let files = try set.writeNPY(to: media.url("out/synth"), scaling: .unit)

        let clips = try readNPY(files.clips)
        XCTAssertTrue(clips.header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (40, 2, 16, 16, 3), }"))
        XCTAssertEqual(clips.payload.count, 40 * 2 * 16 * 16 * 3 * 4)
        let floats = clips.payload.withUnsafeBytes { raw in
            (0..<(clips.payload.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.load(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        let clipSize = 2 * 16 * 16 * 3
        XCTAssertEqual(Array(floats[(37 * clipSize)..<(38 * clipSize)]), set.clip(at: 37).clip.tensor(scaling: .unit).scalars)

        let labels = try readNPY(files.labels)
        XCTAssertTrue(labels.header.hasPrefix("{'descr': '<i4', 'fortran_order': False, 'shape': (40,), }"))
        let values = labels.payload.withUnsafeBytes { raw in
            (0..<40).map { Int(Int32(littleEndian: raw.load(fromByteOffset: $0 * 4, as: Int32.self))) }
        }
        XCTAssertEqual(values, (0..<40).map { $0 % 3 })
        XCTAssertEqual(try String(contentsOf: files.classNames, encoding: .utf8), "shift_left\nshift_right\nshift_up\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: media.url("out/synth").path)
        XCTAssertEqual(leftovers.sorted(), ["classes.txt", "clips.npy", "labels.npy"], "no temporary files remain")
    }

    func testUnwritableFolderFailsCleanly() throws {
        let media = try TestMedia()
        let blocker = try media.write("a file, not a folder", to: "blocked")
        let set = try SyntheticActionSet(.init(classCount: 2, clipCount: 2, frameCount: 2, size: 16))
        assertVideoError(try set.writeNPY(to: blocker.appendingPathComponent("out")), mentions: blocker.path) {
            if case .writeFailed = $0 { return true } else { return false }
        }
    }

    func testAbandonedWriterLeavesNoFile() throws {
        let media = try TestMedia()
        let target = media.url("partial.npy")
        do {
            let writer = try NPYWriter(url: target, type: .float32, shape: [4])
            try writer.write([1, 2] as [Float])
            assertVideoError(try writer.commit(), mentions: target.path) {
                if case .writeFailed = $0 { return true } else { return false }
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: media.folder.path), [])
    }
}
