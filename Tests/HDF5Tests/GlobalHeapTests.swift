import Foundation
import HDF5
import XCTest

/// Variable-length strings live in the global heap. libhdf5 1.10's own
/// reader loops forever on a collection whose first object header is zeroed
/// (its walk advances by the free-space size, 0) and reads out of bounds on
/// absurd sizes; the package's reader checks each reference first, so every
/// damage below is one `.corrupted` error naming the attribute.
final class GlobalHeapTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory = nil }

    /// A file with a 1-D and a scalar VLEN attribute, its bytes, and where its
    /// (only) collection starts. Layout from the HDF5 spec (8-byte lengths):
    /// `GCOL`, version, 3 reserved, size (8); then per object: index (2),
    /// reference count (2), reserved (4), size (8), data padded to 8.
    private func written() throws -> (bytes: [UInt8], collection: Int) {
        let path = directory.path("strings.h5")
        do {
            let file = try HDF5File(path: path, mode: .create)
            try file.writeAttribute("names", strings: ["kernel", "bias", ""], encoding: .ascii, form: .variableLength)
            try file.writeAttribute("config", string: "{\"a\": 1}", encoding: .utf8, form: .variableLength)
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let signature = Array("GCOL".utf8)
        let at = try XCTUnwrap((0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(signature) }, "no GCOL")
        XCTAssertEqual((0...(bytes.count - 4)).filter { bytes[$0..<$0 + 4].elementsEqual(signature) }.count, 1)
        return (bytes, at)
    }

    private func damaged(_ name: String, _ edit: (inout [UInt8], Int) -> Void) throws -> String {
        var (bytes, at) = try written()
        edit(&bytes, at)
        let path = directory.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func put(_ value: UInt64, _ bytes: inout [UInt8], at: Int, size: Int) {
        for i in 0..<size { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func testIntactStringsReadThroughTheCheckedPath() throws {
        let path = try damaged("intact.h5") { _, _ in }
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.attribute("names").readStrings(), ["kernel", "bias", ""])
        XCTAssertEqual(try file.attribute("config").readString(), "{\"a\": 1}")
    }

    func testZeroedObjectHeaderIsAnErrorNotAHang() throws {
        // libhdf5 1.10.8's H5Aread never returns on this file.
        let path = try damaged("zeroed.h5") { bytes, at in
            for i in at + 16 ..< at + 32 { bytes[i] = 0 }
        }
        let file = try HDF5File(path: path)
        assertHDF5Error(.corrupted, file: path, object: "/", containing: "attribute 'names': string 0 refers to object",
                        try file.attribute("names").readStrings())
    }

    func testBadSignatureAndVersion() throws {
        let signature = try damaged("signature.h5") { bytes, at in bytes[at] = UInt8(ascii: "X") }
        assertHDF5Error(.corrupted, file: signature, object: "/", containing: "no GCOL signature",
                        try HDF5File(path: signature).attribute("names").readStrings())
        let version = try damaged("version.h5") { bytes, at in bytes[at + 4] = 2 }
        assertHDF5Error(.corrupted, file: version, object: "/", containing: "unknown version 2",
                        try HDF5File(path: version).attribute("config").readStrings())
    }

    func testCollectionSizePastTheFile() throws {
        let path = try damaged("size.h5") { bytes, at in put(1 << 40, &bytes, at: at + 8, size: 8) }
        assertHDF5Error(.corrupted, file: path, object: "/", containing: "claims 1099511627776 bytes",
                        try HDF5File(path: path).attribute("names").readStrings())
    }

    func testObjectSizePastTheCollection() throws {
        let path = try damaged("object.h5") { bytes, at in put(UInt64.max, &bytes, at: at + 16 + 8, size: 8) }
        assertHDF5Error(.corrupted, file: path, object: "/", containing: "past the collection's end",
                        try HDF5File(path: path).attribute("names").readStrings())
    }

    func testStringLongerThanItsObject() throws {
        // The heap object holding "kernel" shrinks to 2 bytes (its padded size,
        // 8, stays the same, so the walk is intact); the stored element still
        // asks for 6.
        let path = try damaged("length.h5") { bytes, at in
            let text = Array("kernel".utf8)
            guard let data = (at..<(bytes.count - 6)).first(where: { bytes[$0..<$0 + 6].elementsEqual(text) }) else {
                XCTFail("no heap object 'kernel'")
                return
            }
            put(2, &bytes, at: data - 8, size: 8)
        }
        assertHDF5Error(.corrupted, file: path, object: "/", containing: "claims 6 bytes, but its global heap object holds 2",
                        try HDF5File(path: path).attribute("names").readStrings())
    }
}
