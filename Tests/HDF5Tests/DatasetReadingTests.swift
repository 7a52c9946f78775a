import HDF5
import XCTest

/// Reads the h5py-written datasets in `datasets.h5` and compares with `expected.json`.
final class DatasetReadingTests: XCTestCase {
    func testEveryDatasetMatchesWhatH5pyWrote() throws {
        let file = try Fixtures.open("datasets.h5")
        let records = try Fixtures.expected().datasets
        XCTAssertEqual(records.count, 27)
        for record in records {
            let dataset = try file.dataset(record.path)
            XCTAssertEqual(dataset.objectPath, record.path)
            XCTAssertEqual(dataset.shape, record.shape, record.path)
            XCTAssertEqual(dataset.count, record.shape.reduce(1, *), record.path)
            XCTAssertEqual(dataset.elementType.description, record.dtype, record.path)
            XCTAssertEqual(try dataset.read(as: Double.self), record.values.doubles, record.path)
            switch (record.dtype, record.values) {
            case ("float32", .reals(let reals)), ("float16", .reals(let reals)):
                XCTAssertEqual(try dataset.read(as: Float.self), reals.map { Float($0) }, record.path)
            case ("int32", .integers(let integers)), ("int16", .integers(let integers)):
                XCTAssertEqual(try dataset.read(as: Int32.self), integers.map { Int32($0) }, record.path)
            case ("int64", .integers(let integers)):
                XCTAssertEqual(try dataset.read(as: Int64.self), integers, record.path)
            case ("uint8", .integers(let integers)):
                XCTAssertEqual(try dataset.read(as: UInt8.self), integers.map { UInt8($0) }, record.path)
            case ("float64", _), (_, .strings([])):
                break
            default:
                XCTFail("\(record.path): unexpected record \(record.dtype)")
            }
        }
    }

    func testScalarDatasetHasRankZero() throws {
        let dataset = try Fixtures.open("datasets.h5").dataset("int64_rank0")
        XCTAssertEqual(dataset.shape, [])
        XCTAssertEqual(dataset.count, 1)
        XCTAssertEqual(try dataset.read(as: Int64.self), [1 << 40 + 1])
    }

    func testNameContainingSlashResolvesThroughIntermediateGroups() throws {
        let file = try Fixtures.open("datasets.h5")
        let direct = try file.dataset("model_weights/dense/dense/kernel:0")
        let stepwise = try file.group("model_weights").group("dense").dataset("dense/kernel:0")
        XCTAssertEqual(stepwise.objectPath, "/model_weights/dense/dense/kernel:0")
        XCTAssertEqual(direct.shape, [4, 3])
        XCTAssertEqual(try direct.read(as: Float.self), try stepwise.read(as: Float.self))
        XCTAssertEqual(try file.kind(of: "model_weights/dense/dense"), .group)
    }

    func testReadIntoCallerBuffer() throws {
        let dataset = try Fixtures.open("datasets.h5").dataset("float32_gzip")
        var values = [Float](repeating: .nan, count: dataset.count)
        try values.withUnsafeMutableBufferPointer { try dataset.read(into: $0) }
        XCTAssertEqual(values, (0..<100).map { Float($0) * 0.25 - 1.5 })

        let path = try Fixtures.path("datasets.h5")
        var short = [Float](repeating: 0, count: 3)
        assertHDF5Error(.invalidArgument, file: path, object: "/float32_gzip", containing: "buffer holds 3 elements",
                        try short.withUnsafeMutableBufferPointer { try dataset.read(into: $0) })
    }

    func testStringDatasetCannotBeReadAsNumbers() throws {
        let path = try Fixtures.path("datasets.h5")
        let dataset = try HDF5File(path: path).dataset("strings")
        XCTAssertEqual(dataset.elementType, .string)
        assertHDF5Error(.typeMismatch, file: path, object: "/strings", containing: "string values",
                        try dataset.read(as: Float.self))
    }

    func testObjectsKeepTheFileOpen() throws {
        var file: HDF5File? = try Fixtures.open("datasets.h5")
        let dataset = try XCTUnwrap(file).dataset("float64_rank1")
        let attributeOwner = try XCTUnwrap(file).group("model_weights")
        file = nil
        XCTAssertEqual(try dataset.read(as: Double.self), [-1.5, -1.25, -1.0, -0.75, -0.5])
        XCTAssertEqual(try attributeOwner.childNames(), ["dense"])
    }
}
