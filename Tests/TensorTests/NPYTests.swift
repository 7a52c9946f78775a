import XCTest
import Tensor

/// `.npy` files written by NumPy (tools/gen_tensor_fixtures.py): every dtype,
/// version 2, big-endian; Fortran order, unknown dtypes and truncation rejected.
final class NPYTests: XCTestCase {
    /// `np.arange(6).reshape(2, 3) * 1.5 - 2.0` as float64.
    let base: [Double] = (0..<6).map { Double($0) * 1.5 - 2 }

    func url(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/npy/\(name)", withExtension: "npy"))
    }

    func testEveryDtypeReadsAsFloat() throws {
        let expected: [String: [Float]] = [
            "float32": base.map { Float($0) },
            "float64": base.map { Float($0) },
            "int32": base.map { Float(Int32($0)) },       // NumPy truncates toward zero
            "int64": base.map { Float(Int64($0)) },
            "uint8": base.map { Float(UInt8(abs($0))) },
            "bool": base.map { $0 > 0 ? 1 : 0 },
            "big_endian": base.map { Float($0) },
            "version2": base.map { Float($0) },
        ]
        for (name, values) in expected {
            let t = try Tensor(npyFile: try url(name))
            XCTAssertEqual(t.shape, [2, 3], name)
            XCTAssertEqual(t.scalars, values, name)
        }
    }

    func testScalar() throws {
        let t = try Tensor(npyFile: try url("scalar"))
        XCTAssertEqual(t.shape, [])
        XCTAssertEqual(t.scalars, [3.25])
    }

    func testRoundTripThroughTheWriter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for shape in [[], [0], [5], [2, 3, 4]] {
            let t = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0) * 0.25 - 1 })
            let file = dir.appendingPathComponent("t.npy")
            try t.writeNPY(to: file)
            XCTAssertEqual(try Tensor(npyFile: file), t, "\(shape)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["t.npy"], "no temporary file left")
        }
    }

    func testFortranOrderIsRejected() throws {
        XCTAssertThrowsError(try Tensor(npyFile: try url("fortran"))) { error in
            XCTAssertTrue("\(error)".hasSuffix("fortran.npy: Fortran-ordered arrays are not supported; save with C order"), "\(error)")
        }
    }

    func testUnsupportedDtypeIsRejected() throws {
        XCTAssertThrowsError(try Tensor(npyFile: try url("complex"))) { error in
            XCTAssertTrue("\(error)".contains("complex.npy: bad .npy header: unsupported dtype '<c8'"), "\(error)")
        }
    }

    func testTruncatedFilesGiveErrorsNotCrashes() throws {
        let data = try Data(contentsOf: try url("float32"))
        for cut in [0, 5, 9, 20, data.count - 1] {
            XCTAssertThrowsError(try Tensor(npyData: data.prefix(cut), name: "cut.npy"), "cut at \(cut)") { error in
                XCTAssertTrue("\(error)".hasPrefix("cut.npy: "), "\(error)")
            }
        }
    }

    func testBadHeaderAndMissingFile() throws {
        var data = try Data(contentsOf: try url("float32"))
        let header = String(decoding: data, as: UTF8.self)
        let range = try XCTUnwrap(header.range(of: "'shape': (2, 3)"))
        let offset = header.utf8.distance(from: header.startIndex, to: range.lowerBound)
        data.replaceSubrange(offset..<offset + 15, with: Array("'shape': (2, x)".utf8))
        XCTAssertThrowsError(try Tensor(npyData: data, name: "bad.npy")) { error in
            XCTAssertEqual("\(error)", "bad.npy: bad .npy header: shape entry 'x'")
        }
        XCTAssertThrowsError(try Tensor(npyFile: URL(fileURLWithPath: "/nonexistent/x.npy"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/x.npy: cannot read"), "\(error)")
        }
    }
}
