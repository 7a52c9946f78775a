import CHDF5
import Foundation

/// Reads variable-length strings from the file's global heap by hand, after
/// checking every reference, instead of through libhdf5's conversion
/// (`H5T__conv_vlen` → `H5HG_read`), which loops forever or reads out of
/// bounds on a damaged heap collection in libhdf5 1.10.
///
/// A stored element is `{uint32 length, address of its collection, uint32
/// object index}` (all little-endian). A collection is `"GCOL"`, version 1,
/// three reserved bytes and its size (a length), then objects of `{uint16
/// index, uint16 reference count, 4 reserved bytes, size (a length), data
/// padded to 8 bytes}`; object 0 is the free space and comes last.
struct GlobalHeapReader {
    /// Sizes of file addresses and lengths in bytes (from the superblock).
    let offsetSize: Int
    let lengthSize: Int
    /// Where address 0 lies in the file (after a user block).
    let base: UInt64
    /// The most bytes all strings of one read may take.
    let byteLimit: Int
    private let descriptor: FileDescriptor
    private var collections: [UInt64: Collection] = [:]
    private var bytesRead = 0

    /// The size of one stored element.
    var elementSize: Int { 4 + offsetSize + 4 }

    struct Failure: Error {
        let message: String
    }

    /// One parsed collection: its bytes and where each object's data lies.
    private struct Collection {
        let bytes: [UInt8]
        let objects: [Int: (start: Int, size: Int)]
    }

    /// A read-only descriptor of the file, closed when the last copy is released.
    private final class FileDescriptor {
        let fd: Int32
        let size: UInt64
        init(path: String) throws {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(message: "cannot open the file to read its global heap: \(String(cString: strerror(errno)))") }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_size >= 0 else {
                close(fd)
                throw Failure(message: "cannot read the file's size")
            }
            size = UInt64(info.st_size)
        }
        deinit { close(fd) }

        /// Exactly `count` bytes at `offset`, or nil when the file is shorter.
        func read(at offset: UInt64, count: Int) -> [UInt8]? {
            guard count >= 0, offset <= size, UInt64(count) <= size - offset else { return nil }
            var out = [UInt8](repeating: 0, count: count)
            var done = 0
            let ok = out.withUnsafeMutableBytes { raw -> Bool in
                while done < count {
                    let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
                    done += n
                }
                return true
            }
            return ok ? out : nil
        }
    }

    init(path: String, offsetSize: Int, lengthSize: Int, base: UInt64, byteLimit: Int) throws {
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
            throw Failure(message: "unsupported address size \(offsetSize) or length size \(lengthSize)")
        }
        self.offsetSize = offsetSize
        self.lengthSize = lengthSize
        self.base = base
        self.byteLimit = byteLimit
        descriptor = try FileDescriptor(path: path)
    }

    /// A little-endian unsigned number of `size` bytes at `at`.
    private static func number(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return value
    }

    /// The string stored element `index` of `elements` refers to; "" for an
    /// empty or null reference.
    mutating func string(_ elements: UnsafeRawBufferPointer, index: Int) throws -> String {
        let at = index * elementSize
        let length = Self.number(elements, at, 4)
        let address = Self.number(elements, at + 4, offsetSize)
        let object = Self.number(elements, at + 4 + offsetSize, 4)
        guard length > 0, address != 0 else { return "" }
        let collection = try self.collection(at: address)
        guard object <= UInt64(UInt16.max), let (start, size) = collection.objects[Int(object)] else {
            throw Failure(message: "string \(index) refers to object \(object), which the global heap collection at \(address) does not hold")
        }
        guard length <= UInt64(size) else {
            throw Failure(message: "string \(index) claims \(length) bytes, but its global heap object holds \(size)")
        }
        bytesRead += Int(length)
        guard bytesRead <= byteLimit else { throw Failure(message: "the strings need more than the read limit of \(byteLimit) bytes") }
        let text = collection.bytes[start ..< start + Int(length)]
        // Up to the first NUL, as libhdf5's C strings end there.
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The checked collection at file address `address`, read once per reader.
    private mutating func collection(at address: UInt64) throws -> Collection {
        if let known = collections[address] { return known }
        let headerSize = 8 + lengthSize
        let (offset, overflow) = base.addingReportingOverflow(address)
        guard !overflow, let header = descriptor.read(at: offset, count: headerSize) else {
            throw Failure(message: "global heap collection at \(address) lies past the end of the \(descriptor.size)-byte file")
        }
        guard header[0..<4].elementsEqual(Array("GCOL".utf8)) else {
            throw Failure(message: "no global heap collection at \(address) (no GCOL signature)")
        }
        guard header[4] == 1 else { throw Failure(message: "global heap collection at \(address) has unknown version \(header[4])") }
        let declared = header.withUnsafeBytes { Self.number($0, 8, lengthSize) }
        guard declared >= UInt64(headerSize), declared <= descriptor.size - offset, declared <= UInt64(byteLimit) else {
            throw Failure(message: "global heap collection at \(address) claims \(declared) bytes; the file has \(descriptor.size - offset) from there")
        }
        guard let bytes = descriptor.read(at: offset, count: Int(declared)) else {
            throw Failure(message: "global heap collection at \(address) cannot be read")
        }
        // Walk the objects: each header and its data must lie inside the collection.
        var objects: [Int: (start: Int, size: Int)] = [:]
        let objectHeader = 8 + lengthSize
        var position = (headerSize + 7) & ~7
        try bytes.withUnsafeBytes { raw in
            while position + objectHeader <= bytes.count {
                let object = Int(Self.number(raw, position, 2))
                if object == 0 { break }  // the free space, always last
                let size = Self.number(raw, position + 8, lengthSize)
                let start = position + objectHeader
                guard size <= UInt64(bytes.count - start) else {
                    throw Failure(message: "global heap collection at \(address): object \(object) claims \(size) bytes past the collection's end")
                }
                if objects[object] == nil { objects[object] = (start, Int(size)) }
                // Data is padded to a multiple of 8; a padded end past the collection ends the walk.
                position = start + ((Int(size) + 7) & ~7)
            }
        }
        let parsed = Collection(bytes: bytes, objects: objects)
        collections[address] = parsed
        return parsed
    }
}
