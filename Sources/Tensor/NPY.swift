import Foundation

// NumPy `.npy` files: versions 1.0, 2.0 and 3.0; float32/float64/int32/int64/bool
// (read) in C order and either byte order; float32 (write, version 1.0).

extension Tensor {
    /// Reads a `.npy` file. Integers and booleans become `Float`.
    public init(npyFile url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TensorError.io("\(url.path): cannot read: \(error.localizedDescription)")
        }
        self = try Tensor(npyData: data, name: url.path)
    }

    /// Parses the bytes of a `.npy` file; `name` labels errors.
    public init(npyData data: Data, name: String = "<npy>") throws {
        func fail(_ part: String) -> TensorError { .format("\(name): \(part)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("unsupported .npy version \(major)")
        }
        guard bytes.count >= headerStart + headerLength else { throw fail("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("header is not text")
        }
        let dict = try NPYHeader(parsing: header, name: name)
        guard !dict.fortranOrder else { throw fail("Fortran-ordered arrays are not supported; save with C order") }
        let count = try dict.shape.reduce(1) { acc, d in
            let (p, overflow) = acc.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(dict.shape) is too large") }
            return p
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dict.itemSize)
        let payload = headerStart + headerLength
        guard !overflow, bytes.count - payload >= byteCount else {
            throw fail("truncated data: shape \(dict.shape) of \(dict.descr) needs \(count * dict.itemSize) bytes, file has \(bytes.count - payload)")
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBufferPointer { raw in
            let base = UnsafeRawPointer(raw.baseAddress! + payload)
            for i in 0..<count {
                let p = base + i * dict.itemSize
                switch dict.kind {
                case .float32:
                    var bits = p.loadUnaligned(as: UInt32.self)
                    if dict.bigEndian { bits = bits.byteSwapped }
                    values[i] = Float(bitPattern: bits)
                case .float64:
                    var bits = p.loadUnaligned(as: UInt64.self)
                    if dict.bigEndian { bits = bits.byteSwapped }
                    values[i] = Float(Double(bitPattern: bits))
                case .int32:
                    var v = p.loadUnaligned(as: Int32.self)
                    if dict.bigEndian { v = v.byteSwapped }
                    values[i] = Float(v)
                case .int64:
                    var v = p.loadUnaligned(as: Int64.self)
                    if dict.bigEndian { v = v.byteSwapped }
                    values[i] = Float(v)
                case .bool, .uint8:
                    values[i] = Float(p.load(as: UInt8.self))
                }
            }
        }
        self.init(shape: dict.shape, scalars: values)
    }

    /// The bytes of a version 1.0 little-endian float32 `.npy` file.
    public func npyData() -> Data {
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        scalars.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return data
    }

    /// Writes a float32 `.npy` file through a temporary file and a rename, so a
    /// failure never leaves a partial file.
    public func writeNPY(to url: URL) throws {
        try npyData().writeAtomically(to: url)
    }
}

extension Data {
    /// Writes to a temporary file in the destination folder, then renames it.
    public func writeAtomically(to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw TensorError.io("\(url.path): cannot write: \(String(cString: strerror(errno)))")
            }
        } catch let error as TensorError {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw TensorError.io("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}

/// The parsed header dictionary of a `.npy` file.
struct NPYHeader {
    enum Kind { case float32, float64, int32, int64, bool, uint8 }
    var descr: String
    var kind: Kind
    var itemSize: Int
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String, name: String) throws {
        func fail(_ part: String) -> TensorError { .format("\(name): bad .npy header: \(part)") }
        func value(of key: String) throws -> Substring {
            guard let k = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\""),
                  let colon = text[k.upperBound...].firstIndex(of: ":") else { throw fail("no '\(key)'") }
            return text[text.index(after: colon)...].drop { $0 == " " }
        }
        let d = try value(of: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else { throw fail("descr") }
        descr = String(d[d.index(after: d.startIndex)..<end])
        bigEndian = descr.hasPrefix(">")
        let code = descr.hasPrefix("<") || descr.hasPrefix(">") || descr.hasPrefix("|") || descr.hasPrefix("=") ? String(descr.dropFirst()) : descr
        switch code {
        case "f4": kind = .float32; itemSize = 4
        case "f8": kind = .float64; itemSize = 8
        case "i4": kind = .int32; itemSize = 4
        case "i8": kind = .int64; itemSize = 8
        case "b1": kind = .bool; itemSize = 1
        case "u1": kind = .uint8; itemSize = 1
        default: throw fail("unsupported dtype '\(descr)' (float32, float64, int32, int64, uint8 and bool are supported)")
        }
        let f = try value(of: "fortran_order")
        if f.hasPrefix("True") { fortranOrder = true } else if f.hasPrefix("False") { fortranOrder = false } else { throw fail("fortran_order") }
        let s = try value(of: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw fail("shape") }
        let inner = s[s.index(after: s.startIndex)..<close]
        shape = try inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            guard let v = Int($0), v >= 0 else { throw fail("shape entry '\($0)'") }
            return v
        }
    }
}
