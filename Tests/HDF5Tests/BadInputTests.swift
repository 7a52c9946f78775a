import Foundation
import HDF5
import XCTest

/// Bad files and bad requests give typed errors naming the file and the
/// object, never a crash.
final class BadInputTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    func testMissingFile() {
        let path = directory.path("missing.h5")
        assertHDF5Error(.fileNotFound, file: path, object: "/", containing: "no such file", try HDF5File(path: path))
    }

    func testDirectoryIsNotAnHDF5File() {
        assertHDF5Error(.notHDF5, file: directory.url.path, object: "/", try HDF5File(path: directory.url.path))
    }

    func testRandomBytesAreNotAnHDF5File() throws {
        let path = directory.path("random.h5")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        assertHDF5Error(.notHDF5, file: path, object: "/", containing: "not an HDF5 file", try HDF5File(path: path))
    }

    func testTruncatedCopiesOfAFixtureFailToOpen() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("keras3_model.h5")))
        for length in [0, 7, 8, 100, 1000, original.count / 2, original.count - 1] {
            let path = directory.path("truncated_\(length).h5")
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            // Too short to hold the signature: not HDF5; otherwise HDF5 sees the end of file is missing.
            if length < 8 {
                assertHDF5Error(.notHDF5, file: path, object: "/", try HDF5File(path: path))
            } else {
                assertHDF5Error(.openFailed, file: path, object: "/", containing: "truncated", try HDF5File(path: path))
            }
        }
    }

    func testMissingObjectsAndAttributes() throws {
        let path = try Fixtures.path("keras3_model.h5")
        let file = try HDF5File(path: path)
        let dense = try file.group("model_weights/d1")
        assertHDF5Error(.notFound, file: path, object: "/model_weights/d1", containing: "attribute 'nope' not found",
                        try dense.attribute("nope"))
        assertHDF5Error(.notFound, file: path, object: "/model_weights/d1", containing: "dataset 'seq/d1/missing' not found",
                        try dense.dataset("seq/d1/missing"))
        assertHDF5Error(.notFound, file: path, object: "/", containing: "group 'model_weights/nope' not found",
                        try file.group("model_weights/nope"))
        assertHDF5Error(.notFound, file: path, object: "/", containing: "'nope' not found", try file.kind(of: "nope"))
        assertHDF5Error(.notFound, file: path, object: "/", containing: "attribute 'nope' not found",
                        try file.deleteAttribute("nope"))
        XCTAssertFalse(file.hasAttribute("nope"))
    }

    func testAskingForTheWrongKindOfObject() throws {
        let path = try Fixtures.path("keras3_model.h5")
        let file = try HDF5File(path: path)
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "is a group, not a dataset",
                        try file.dataset("model_weights"))
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "is a dataset, not a group",
                        try file.group("model_weights/d1/seq/d1/kernel"))
    }

    func testCorruptedDimensionsAreRefused() throws {
        let path = try Fixtures.path("corrupt_dims.h5")
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.dataset("intact").read(as: Float.self), [1, 1, 1])
        for name in ["huge", "mismatch"] {
            // HDF5 1.10.8 already rejects these when opening; either way nothing is allocated.
            do {
                let values = try file.dataset(name).read(as: Float.self)
                XCTFail("\(name): read \(values.count) values from corrupted dimensions")
            } catch let error as HDF5Error {
                XCTAssertTrue([.corrupted, .tooLarge, .operationFailed].contains(error.kind), "\(error)")
                XCTAssertTrue(error.description.hasPrefix("\(path): /\(name): "), "\(error)")
            }
        }
    }

    func testReadLimitRefusesLargeReads() throws {
        let path = try Fixtures.path("datasets.h5")
        let file = try HDF5File(path: path, maxReadBytes: 64)
        XCTAssertEqual(try file.dataset("float32_rank2").read(as: Float.self).count, 6)
        assertHDF5Error(.tooLarge, file: path, object: "/float32_rank3", containing: "read limit is 64 bytes",
                        try file.dataset("float32_rank3").read(as: Float.self))
        // The limit is on memory: 24 uint8 values fit as bytes but not as doubles.
        XCTAssertEqual(try file.dataset("uint8_rank3").read(as: UInt8.self).count, 24)
        assertHDF5Error(.tooLarge, file: path, object: "/uint8_rank3", try file.dataset("uint8_rank3").read(as: Double.self))

        let attributes = try Fixtures.path("attributes.h5")
        assertHDF5Error(.tooLarge, file: attributes, object: "/", containing: "attribute 'int64_array'",
                        try HDF5File(path: attributes, maxReadBytes: 16).attribute("int64_array").readInt64s())
    }

    func testInvalidWrites() throws {
        let path = directory.path("writes.h5")
        let file = try HDF5File(path: path, mode: .create)
        assertHDF5Error(.invalidArgument, file: path, object: "/", containing: "shape [2, 2] holds 4 elements but 3 values",
                        try file.createDataset("w", shape: [2, 2], values: [Float(1), 2, 3]))
        assertHDF5Error(.invalidArgument, file: path, object: "/", containing: "invalid shape [-1]",
                        try file.createDataset("w", shape: [-1], values: [Float]()))
        XCTAssertFalse(file.contains("w"))
        assertHDF5Error(.invalidArgument, file: path, object: "/", containing: "NUL",
                        try file.writeAttribute("s", string: "a\0b", form: .variableLength))
        assertHDF5Error(.invalidArgument, file: path, object: "/", containing: "shape [3] holds 3 elements but 2 values",
                        try file.writeAttribute("n", values: [1.0, 2.0], shape: [3]))
        assertHDF5Error(.invalidArgument, file: path, object: "/", try file.writeAttribute("", scalar: 1.0))

        let group = try file.createGroup("a/b")
        XCTAssertEqual(group.objectPath, "/a/b")
        assertHDF5Error(.alreadyExists, file: path, object: "/", containing: "group 'a/b'", try file.createGroup("a/b"))
        try group.createDataset("x", shape: [1], values: [Float(1)])
        assertHDF5Error(.alreadyExists, file: path, object: "/a/b", containing: "dataset 'x'",
                        try group.createDataset("x", shape: [1], values: [Float(2)]))
        assertHDF5Error(.invalidArgument, file: path, object: "/", try file.createGroup("/"))
    }

    func testCreateNewRefusesAnExistingFile() throws {
        let path = directory.path("existing.h5")
        _ = try HDF5File(path: path, mode: .createNew)
        assertHDF5Error(.alreadyExists, file: path, object: "/", try HDF5File(path: path, mode: .createNew))
    }

    func testWritingToAReadOnlyFileFails() throws {
        let path = directory.path("readonly.h5")
        try HDF5File(path: path, mode: .create).createGroup("g")
        let file = try HDF5File(path: path)
        assertHDF5Error(.operationFailed, file: path, object: "/", containing: "creating attribute 'x' failed",
                        try file.writeAttribute("x", scalar: 1.0))
        assertHDF5Error(.operationFailed, file: path, object: "/g/h", containing: "no write intent",
                        try file.createGroup("g/h"))
    }

    func testCreatingInAMissingDirectoryFails() {
        let path = directory.path("no/such/dir/x.h5")
        assertHDF5Error(.openFailed, file: path, object: "/", containing: "cannot create the file",
                        try HDF5File(path: path, mode: .create))
    }
}
