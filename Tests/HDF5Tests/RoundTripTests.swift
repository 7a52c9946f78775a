import HDF5
import XCTest

/// Files written by this library read back with the same values and the same
/// HDF5 forms.
final class RoundTripTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    func testEveryStringAttributeForm() throws {
        let path = directory.path("strings.h5")
        let text = "naïve café — 模型 ✓"
        let names = ["input_layer", "dense/kernel:0", "", "βήτα"]
        let paddings: [StringPadding] = [.nullPadded, .nullTerminated, .spacePadded]
        do {
            let group = try HDF5File(path: path, mode: .create).createGroup("g")
            try group.writeAttribute("vlen_utf8", string: text, encoding: .utf8, form: .variableLength)
            try group.writeAttribute("vlen_ascii", string: "{\"class_name\": \"Sequential\"}", encoding: .ascii, form: .variableLength)
            try group.writeAttribute("empty", string: "", form: .variableLength)
            try group.writeAttribute("vlen_list", strings: names, encoding: .ascii, form: .variableLength)
            try group.writeAttribute("no_strings", strings: [], form: .variableLength)
            try group.writeEmptyAttribute("keras_empty")
            for padding in paddings {
                try group.writeAttribute("fixed_\(padding)", string: text, encoding: .utf8, form: .fixedLength(padding))
                try group.writeAttribute("fixed_list_\(padding)", strings: names, encoding: .ascii, form: .fixedLength(padding))
            }
        }
        let group = try HDF5File(path: path).group("g")
        try expect(group, "vlen_utf8", [text], shape: [], .utf8, .variableLength)
        try expect(group, "vlen_ascii", ["{\"class_name\": \"Sequential\"}"], shape: [], .ascii, .variableLength)
        try expect(group, "empty", [""], shape: [], .utf8, .variableLength)
        try expect(group, "vlen_list", names, shape: [4], .ascii, .variableLength)
        try expect(group, "no_strings", [], shape: [0], .utf8, .variableLength)
        for padding in paddings {
            try expect(group, "fixed_\(padding)", [text], shape: [], .utf8, .fixedLength(padding))
            try expect(group, "fixed_list_\(padding)", names, shape: [4], .ascii, .fixedLength(padding))
        }
        let empty = try group.attribute("keras_empty")
        XCTAssertEqual(empty.elementType, .float64)
        XCTAssertEqual(empty.shape, [0])
        XCTAssertEqual(try empty.readStrings(), [])
        XCTAssertEqual(try group.attributeNames(order: .creation),
                       ["vlen_utf8", "vlen_ascii", "empty", "vlen_list", "no_strings", "keras_empty"]
                           + paddings.flatMap { ["fixed_\($0)", "fixed_list_\($0)"] })
    }

    private func expect(_ group: Group, _ name: String, _ strings: [String], shape: [Int],
                        _ encoding: StringEncoding, _ form: StringForm, line: UInt = #line) throws {
        let attribute = try group.attribute(name)
        XCTAssertEqual(attribute.shape, shape, name, line: line)
        XCTAssertEqual(attribute.elementType, .string, name, line: line)
        XCTAssertEqual(attribute.stringEncoding, encoding, name, line: line)
        XCTAssertEqual(attribute.stringForm, form, name, line: line)
        XCTAssertEqual(try attribute.readStrings(), strings, name, line: line)
        if shape.isEmpty { XCTAssertEqual(try attribute.readString(), strings.first, name, line: line) }
    }

    func testFixedLengthWidthMatchesNumpy() throws {
        let path = directory.path("width.h5")
        try HDF5File(path: path, mode: .create)
            .writeAttribute("names", strings: ["ab", "abcd"], encoding: .ascii, form: .fixedLength(.nullPadded))
        // numpy's 'S4' for [b"ab", b"abcd"]: the longest string uses every byte.
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertNotNil(data.range(of: Data("ab\0\0abcd".utf8)))
        XCTAssertEqual(try HDF5File(path: path).attribute("names").readStrings(), ["ab", "abcd"])
    }

    func testNumericAttributes() throws {
        let path = directory.path("numbers.h5")
        do {
            let file = try HDF5File(path: path, mode: .create)
            try file.writeAttribute("f32", scalar: Float(0.5))
            try file.writeAttribute("f64", scalar: -2.25)
            try file.writeAttribute("i32", scalar: Int32.min)
            try file.writeAttribute("i64", scalar: Int64.max)
            try file.writeAttribute("u8", values: [UInt8(0), 255])
            try file.writeAttribute("f32s", values: [Float(1.5), -0.25, 3])
            try file.writeAttribute("f64s", values: [0.125, -1e300, 42])
            try file.writeAttribute("i32s", values: [Int32(-1), 0, 1])
            try file.writeAttribute("i64s", values: [Int64.min, 0, Int64.max])
            try file.writeAttribute("matrix", values: (0..<6).map(Int32.init), shape: [2, 3])
        }
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.attribute("f32").shape, [])
        XCTAssertEqual(try file.attribute("f32").elementType, .float32)
        XCTAssertEqual(try file.attribute("f32").readFloats(), [0.5])
        XCTAssertEqual(try file.attribute("f64").readDoubles(), [-2.25])
        XCTAssertEqual(try file.attribute("i32").readInt32s(), [Int32.min])
        XCTAssertEqual(try file.attribute("i64").readInt64s(), [Int64.max])
        XCTAssertEqual(try file.attribute("u8").elementType, .uint8)
        XCTAssertEqual(try file.attribute("u8").read(as: UInt8.self), [0, 255])
        XCTAssertEqual(try file.attribute("f32s").readFloats(), [1.5, -0.25, 3])
        XCTAssertEqual(try file.attribute("f64s").readDoubles(), [0.125, -1e300, 42])
        XCTAssertEqual(try file.attribute("i32s").readInt32s(), [-1, 0, 1])
        XCTAssertEqual(try file.attribute("i64s").readInt64s(), [Int64.min, 0, Int64.max])
        XCTAssertEqual(try file.attribute("matrix").shape, [2, 3])
        XCTAssertEqual(try file.attribute("matrix").readInt32s(), [0, 1, 2, 3, 4, 5])
    }

    func testWritingAnAttributeAgainReplacesIt() throws {
        let path = directory.path("replace.h5")
        let file = try HDF5File(path: path, mode: .create)
        try file.writeAttribute("weight_names", values: [1.0, 2.0])
        try file.writeAttribute("weight_names", strings: ["kernel"], encoding: .ascii, form: .variableLength)
        XCTAssertEqual(try file.attribute("weight_names").readStrings(), ["kernel"])
        try file.deleteAttribute("weight_names")
        XCTAssertFalse(file.hasAttribute("weight_names"))
        XCTAssertEqual(try file.attributeNames(), [])
    }

    func testEveryDatasetTypeAndRank() throws {
        let path = directory.path("datasets.h5")
        let shapes: [[Int]] = [[], [5], [2, 3], [2, 3, 4], [0], [3, 0]]
        func values(_ count: Int) -> [Double] { (0..<count).map { Double($0) * 0.25 - 1.5 } }
        do {
            let file = try HDF5File(path: path, mode: .create)
            for (rank, shape) in shapes.enumerated() {
                let doubles = values(shape.reduce(1, *))
                try file.createDataset("float32/\(rank)", shape: shape, values: doubles.map { Float($0) })
                try file.createDataset("float64/\(rank)", shape: shape, values: doubles)
                try file.createDataset("int32/\(rank)", shape: shape, values: doubles.indices.map { Int32($0) - 7 })
                try file.createDataset("int64/\(rank)", shape: shape, values: doubles.indices.map { Int64($0) << 40 })
                try file.createDataset("uint8/\(rank)", shape: shape, values: doubles.indices.map { UInt8($0 * 11) })
            }
            // Keras 3 marks bfloat16 variables with a dataset attribute.
            try file.dataset("float32/1").writeAttribute("dtype", string: "bfloat16", form: .variableLength)
        }
        let file = try HDF5File(path: path)
        for (rank, shape) in shapes.enumerated() {
            let doubles = values(shape.reduce(1, *))
            let float32 = try file.dataset("float32/\(rank)")
            XCTAssertEqual(float32.shape, shape)
            XCTAssertEqual(float32.elementType, .float32)
            XCTAssertEqual(try float32.read(as: Float.self), doubles.map { Float($0) })
            XCTAssertEqual(try file.dataset("float64/\(rank)").read(as: Double.self), doubles)
            XCTAssertEqual(try file.dataset("int32/\(rank)").read(as: Int32.self), doubles.indices.map { Int32($0) - 7 })
            XCTAssertEqual(try file.dataset("int64/\(rank)").read(as: Int64.self), doubles.indices.map { Int64($0) << 40 })
            XCTAssertEqual(try file.dataset("uint8/\(rank)").read(as: UInt8.self), doubles.indices.map { UInt8($0 * 11) })
            for type in ["float64", "int32", "int64", "uint8"] {
                XCTAssertEqual(try file.dataset("\(type)/\(rank)").shape, shape, type)
            }
        }
        XCTAssertEqual(try file.dataset("float32/1").attribute("dtype").readString(), "bfloat16")
        XCTAssertEqual(try file.dataset("float32/1").attributeNames(), ["dtype"])
        XCTAssertEqual(try file.dataset("int64/2").elementType, .int64)
        XCTAssertEqual(try file.dataset("uint8/2").read(as: Double.self), [0, 11, 22, 33, 44, 55])
    }

    func testKerasStyleWeightsFile() throws {
        let path = directory.path("model.h5")
        let kernel = (0..<12).map { Float($0) * 0.125 - 0.5 }
        do {
            let file = try HDF5File(path: path, mode: .create)
            try file.writeAttribute("keras_version", string: "3.15.1", encoding: .utf8, form: .variableLength)
            try file.writeAttribute("model_config", string: "{\"class_name\": \"Sequential\"}", encoding: .ascii, form: .variableLength)
            let weights = try file.createGroup("model_weights")
            try weights.writeAttribute("layer_names", strings: ["input_1", "dense"], encoding: .ascii, form: .variableLength)
            try weights.createGroup("input_1").writeEmptyAttribute("weight_names")
            let dense = try weights.createGroup("dense")
            try dense.writeAttribute("weight_names", strings: ["dense/kernel:0"], encoding: .ascii, form: .fixedLength(.nullPadded))
            try dense.createDataset("dense/kernel:0", shape: [4, 3], values: kernel)
            try file.flush()
        }
        let weights = try HDF5File(path: path).group("model_weights")
        XCTAssertEqual(try weights.attribute("layer_names").readStrings(), ["input_1", "dense"])
        XCTAssertEqual(try weights.group("input_1").attribute("weight_names").readStrings(), [])
        let dense = try weights.group("dense")
        let names = try dense.attribute("weight_names").readStrings()
        XCTAssertEqual(names, ["dense/kernel:0"])
        let dataset = try dense.dataset(names[0])
        XCTAssertEqual(dataset.objectPath, "/model_weights/dense/dense/kernel:0")
        XCTAssertEqual(try dataset.read(as: Float.self), kernel)
    }

    func testEqualContentGivesEqualBytes() throws {
        func write(_ path: String) throws -> Data {
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.writeAttribute("keras_version", string: "3.15.1", form: .variableLength)
                try file.createGroup("model_weights/dense")
                    .createDataset("dense/kernel:0", shape: [2, 2], values: [Float(1), 2, 3, 4])
            }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let first = try write(directory.path("first.h5"))
        // HDF5 timestamps have one-second resolution: a stored time would differ.
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(first, try write(directory.path("second.h5")))
    }

    func testReadWriteModeUpdatesAnExistingFile() throws {
        let path = directory.path("update.h5")
        try HDF5File(path: path, mode: .create).createGroup("a")
        let file = try HDF5File(path: path, mode: .readWrite)
        XCTAssertEqual(file.mode, .readWrite)
        try file.group("a").createDataset("x", shape: [2], values: [Int64(1), 2])
        XCTAssertEqual(try file.dataset("a/x").read(as: Int64.self), [1, 2])
    }
}
