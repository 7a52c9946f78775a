import HDF5
import XCTest

/// Reads every attribute form in `attributes.h5` (written by h5py exactly as
/// Keras writes them) and compares with `expected.json`.
final class AttributeReadingTests: XCTestCase {
    func testEveryAttributeMatchesWhatH5pyWrote() throws {
        let file = try Fixtures.open("attributes.h5")
        let expected = try Fixtures.expected()
        XCTAssertEqual(Set(expected.attributes.keys), ["/", "/chunked"])
        for (objectPath, records) in expected.attributes {
            let group = try file.group(objectPath)
            XCTAssertEqual(try group.attributeNames(), records.map(\.name).sorted(), objectPath)
            for record in records {
                try check(try group.attribute(record.name), against: record)
            }
        }
    }

    private func check(_ attribute: Attribute, against record: Expected.AttributeRecord) throws {
        let name = record.name
        XCTAssertEqual(attribute.shape, record.shape, name)
        XCTAssertEqual(attribute.count, record.count, name)
        XCTAssertEqual(attribute.elementType.description, record.dtype, name)
        if record.dtype == "string" {
            guard case .strings(let strings) = record.values else { return XCTFail("\(name): expected strings") }
            XCTAssertEqual(try attribute.readStrings(), strings, name)
            if record.shape.isEmpty {
                XCTAssertEqual(try attribute.readString(), strings.first, name)
            }
            XCTAssertEqual(attribute.stringEncoding, record.encoding == "utf8" ? .utf8 : .ascii, name)
            XCTAssertEqual(attribute.stringForm, Self.form(record), name)
            return
        }
        XCTAssertNil(attribute.stringForm, name)
        XCTAssertNil(attribute.stringEncoding, name)
        // A zero-length non-string attribute (Keras's empty `weight_names`) reads as no strings.
        if record.count == 0 {
            XCTAssertEqual(try attribute.readStrings(), [], name)
        }
        XCTAssertEqual(try attribute.readDoubles(), record.values.doubles, name)
        switch record.values {
        case .integers(let integers):
            XCTAssertEqual(try attribute.readInt64s(), integers, name)
            if record.dtype == "int32" { XCTAssertEqual(try attribute.readInt32s(), integers.map { Int32($0) }, name) }
        case .reals(let reals):
            if record.dtype == "float32" { XCTAssertEqual(try attribute.readFloats(), reals.map { Float($0) }, name) }
        case .strings:
            XCTAssertEqual(record.count, 0, name)
        }
    }

    private static func form(_ record: Expected.AttributeRecord) -> StringForm? {
        switch (record.form, record.padding) {
        case ("variable", _): return .variableLength
        case ("fixed", "nullPadded"): return .fixedLength(.nullPadded)
        case ("fixed", "nullTerminated"): return .fixedLength(.nullTerminated)
        case ("fixed", "spacePadded"): return .fixedLength(.spacePadded)
        default: return nil
        }
    }

    func testKerasAttributeFormsByName() throws {
        let file = try Fixtures.open("attributes.h5")
        // str -> scalar VLEN UTF-8, with non-ASCII text.
        XCTAssertEqual(try file.attribute("utf8_scalar").readString(), "naïve café — 模型 ✓")
        // bytes -> scalar VLEN ASCII.
        let backend = try file.attribute("backend")
        XCTAssertEqual(backend.stringEncoding, .ascii)
        XCTAssertEqual(backend.stringForm, .variableLength)
        XCTAssertEqual(try backend.readString(), "tensorflow")
        // list of bytes -> 1-D VLEN ASCII.
        XCTAssertEqual(try file.attribute("vlen_ascii_list").readStrings(), ["input_layer", "dense", "dense_1"])
        // np.asarray(list of bytes) -> fixed 'S', NULL-padded: trailing NULs stripped.
        XCTAssertEqual(try file.attribute("fixed_nullpad_list").readStrings(), ["dense/kernel:0", "dense/bias:0", "b"])
        XCTAssertEqual(try file.attribute("fixed_nullterm_list").readStrings(), ["ab", "cdefg", ""])
        XCTAssertEqual(try file.attribute("fixed_spacepad_list").readStrings(), ["ab", "cdefg", ""])
        // np.asarray([]) -> float64 (0,): an empty name list.
        let empty = try file.attribute("empty_float64")
        XCTAssertEqual(empty.elementType, .float64)
        XCTAssertEqual(empty.shape, [0])
        XCTAssertEqual(try empty.readStrings(), [])
        XCTAssertEqual(try file.attribute("null_float32").readStrings(), [])
    }

    func testChunkedLayerNamesConcatenateInOrder() throws {
        let group = try Fixtures.open("attributes.h5").group("chunked")
        XCTAssertEqual(try group.attributeNames(), ["layer_names0", "layer_names1"])
        let first = try group.attribute("layer_names0")
        XCTAssertEqual(first.stringForm, .fixedLength(.nullPadded))
        let names = try first.readStrings() + group.attribute("layer_names1").readStrings()
        XCTAssertEqual(names, (0..<7).map { "layer_0\($0)" } + ["a_much_longer_layer_name"])
    }

    func testReadingTheWrongKindOfValueThrowsTypeMismatch() throws {
        let path = try Fixtures.path("attributes.h5")
        let file = try HDF5File(path: path)
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "attribute 'float64_array'",
                        try file.attribute("float64_array").readStrings())
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "attribute 'vlen_ascii_list'",
                        try file.attribute("vlen_ascii_list").readDoubles())
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "3 strings, not one",
                        try file.attribute("vlen_ascii_list").readString())
        assertHDF5Error(.typeMismatch, file: path, object: "/", containing: "0 strings, not one",
                        try file.attribute("empty_float64").readString())
    }

    func testNumbersConvertBetweenTypes() throws {
        let file = try Fixtures.open("attributes.h5")
        XCTAssertEqual(try file.attribute("int32_array").read(as: Double.self), [-2147483648, 0, 2147483647])
        XCTAssertEqual(try file.attribute("float32_array").read(as: Double.self), [1.5, -0.25, 3.0])
        XCTAssertEqual(try file.attribute("int32_matrix").shape, [2, 3])
        XCTAssertEqual(try file.attribute("int32_matrix").readInt64s(), [-2, -1, 0, 1, 2, 3])
    }
}
