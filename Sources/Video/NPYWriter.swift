import Foundation

/// Writes a NumPy `.npy` file (version 1.0, C order, little-endian float32 or
/// int32) piece by piece, so arrays larger than memory can be written.
///
/// Data goes to a temporary file in the destination folder, renamed into
/// place by ``commit()``; a writer dropped without committing removes it.
/// (The Tensor target's writer holds the whole array in memory and writes
/// float32 only; datasets need streaming and int32 labels.)
final class NPYWriter {
    /// The element types this writer supports.
    enum ElementType: String {
        case float32 = "<f4"
        case int32 = "<i4"
    }

    let url: URL
    private let temporary: URL
    private let handle: FileHandle
    private let expectedElements: Int
    private var writtenElements = 0
    private var done = false

    /// Creates the temporary file and writes the header for an array of `shape`.
    init(url: URL, type: ElementType, shape: [Int]) throws {
        self.url = url
        temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        expectedElements = shape.reduce(1, *)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw VideoError.writeFailed(url.path, detail: "cannot create \(temporary.lastPathComponent) in its folder")
        }
        self.handle = handle
        try append(Self.header(type: type, shape: shape))
    }

    deinit {
        if !done {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    /// Appends float32 elements.
    func write(_ values: [Float]) throws {
        try write(values.map { $0.bitPattern.littleEndian })
    }

    /// Appends int32 elements.
    func write(_ values: [Int32]) throws {
        try write(values.map { UInt32(bitPattern: $0).littleEndian })
    }

    /// Closes the file and moves it into place.
    /// - Throws: `writeFailed` when fewer or more elements were written than the shape holds.
    func commit() throws {
        guard writtenElements == expectedElements else {
            throw VideoError.writeFailed(url.path, detail: "wrote \(writtenElements) of \(expectedElements) elements")
        }
        do {
            try handle.close()
        } catch {
            throw VideoError.writeFailed(url.path, detail: error.localizedDescription)
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw VideoError.writeFailed(url.path, detail: String(cString: strerror(errno)))
        }
        done = true
    }

    private func write(_ words: [UInt32]) throws {
        writtenElements += words.count
        try append(words.withUnsafeBytes { Data($0) })
    }

    private func append(_ data: Data) throws {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw VideoError.writeFailed(url.path, detail: error.localizedDescription)
        }
    }

    /// The magic, version, header length and header dictionary, padded with
    /// spaces and a newline to a multiple of 64 bytes.
    static func header(type: ElementType, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dictionary = "{'descr': '\(type.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = dictionary.utf8.count
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dictionary.utf8))
        return data
    }
}
