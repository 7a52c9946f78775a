import CHDF5

/// The datatype and extent of a dataset's or attribute's values, checked when
/// the object is opened.
struct ValueLayout {
    let type: Handle
    let space: Handle
    let shape: [Int]
    let count: Int
    let elementType: ElementType

    /// Reads the extent of `space`; `fail` builds the error for a corrupted extent.
    init(type: Handle, space: Handle, fail: (HDF5Error.Kind, String) -> HDF5Error) throws {
        self.type = type
        self.space = space
        elementType = ElementType(datatype: type.id)
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_SCALAR:
            (shape, count) = ([], 1)
        case H5S_NULL:
            (shape, count) = ([], 0)
        case H5S_SIMPLE:
            let rank = H5Sget_simple_extent_ndims(space.id)
            guard rank >= 0, rank <= 32 else { throw fail(.corrupted, "invalid rank \(rank)") }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            guard H5Sget_simple_extent_dims(space.id, &dims, nil) == rank else {
                throw fail(.corrupted, "unreadable dimensions")
            }
            var shape: [Int] = []
            var count = 1
            for dim in dims {
                guard let size = Int(exactly: dim) else { throw fail(.corrupted, "dimension \(dim) is out of range") }
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow else { throw fail(.corrupted, "dimensions \(dims) overflow the element count") }
                shape.append(size)
                count = product
            }
            (self.shape, self.count) = (shape, count)
        default:
            throw fail(.corrupted, "unreadable dataspace")
        }
    }
}

/// A dataset or attribute whose values can be read. Both share the checked
/// read paths below and differ only in the raw read call and in how their
/// stored size is verified.
protocol StoredValues: AnyObject {
    var file: OpenFile { get }
    var layout: ValueLayout { get }
    /// The object path errors name (for an attribute, its owner's path).
    var errorPath: String { get }
    /// How messages refer to the values, e.g. `dataset` or `attribute 'name'`.
    var subject: String { get }
    /// Reads every value, converted to `memoryType`, into `buffer`.
    func readRaw(memoryType: hid_t, into buffer: UnsafeMutableRawPointer) -> herr_t
    /// Throws unless the file really stores `bytes` bytes of fixed-size data,
    /// so a corrupted header cannot make a read trust absurd dimensions.
    func verifyStoredSize(_ bytes: Int) throws
}

extension StoredValues {
    func error(_ kind: HDF5Error.Kind, _ message: String) -> HDF5Error {
        file.error(kind, errorPath, message)
    }

    /// `count × elementSize`, throwing when it overflows or exceeds the file's read limit.
    func checkedByteCount(_ elementSize: Int) throws -> Int {
        let (bytes, overflow) = layout.count.multipliedReportingOverflow(by: elementSize)
        guard !overflow, bytes <= file.maxReadBytes else {
            let size = overflow ? "more than \(Int.max)" : "\(bytes)"
            throw error(.tooLarge, "\(subject) needs \(size) bytes for \(layout.count) elements; the read limit is \(file.maxReadBytes) bytes")
        }
        return bytes
    }

    /// Checks that the values can be read as `T` and that the stored data is
    /// complete; returns the memory datatype to read with.
    private func prepareNumericRead<T: HDF5Numeric>(_ type: T.Type, limitMemory: Bool) throws -> hid_t {
        guard let types = NumericTypes(T.self) else {
            throw error(.invalidArgument, "\(T.self) is not a supported HDF5 number type")
        }
        guard layout.elementType.isNumeric else {
            throw error(.typeMismatch, "\(subject) holds \(layout.elementType) values, which cannot be read as \(T.self)")
        }
        if limitMemory { _ = try checkedByteCount(MemoryLayout<T>.stride) }
        try verifyStoredSize(try checkedByteCount(H5Tget_size(layout.type.id)))
        return types.memory
    }

    /// All values converted to `T` by HDF5, in row-major order, with one read.
    func readNumbers<T: HDF5Numeric>(_ type: T.Type) throws -> [T] {
        try file.guarded(errorPath, "reading \(subject)") { try readNumbersUnguarded(T.self) }
    }

    private func readNumbersUnguarded<T: HDF5Numeric>(_ type: T.Type) throws -> [T] {
        kd_h5_silence_error_printing()
        guard layout.count > 0 else { return [] }
        let memoryType = try prepareNumericRead(T.self, limitMemory: true)
        return try [T](unsafeUninitializedCapacity: layout.count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            try file.check(readRaw(memoryType: memoryType, into: base), errorPath, "reading \(subject) failed")
            initialized = layout.count
        }
    }

    /// Reads all values converted to `T` into `buffer`, which must hold exactly `count` elements.
    func readNumbers<T: HDF5Numeric>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        try file.guarded(errorPath, "reading \(subject)") { try readNumbersUnguarded(into: buffer) }
    }

    private func readNumbersUnguarded<T: HDF5Numeric>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        kd_h5_silence_error_printing()
        guard buffer.count == layout.count else {
            throw error(.invalidArgument, "buffer holds \(buffer.count) elements but \(subject) has \(layout.count)")
        }
        guard let base = buffer.baseAddress, layout.count > 0 else { return }
        let memoryType = try prepareNumericRead(T.self, limitMemory: false)
        try file.check(readRaw(memoryType: memoryType, into: base), errorPath, "reading \(subject) failed")
    }

    /// Every string, fixed- or variable-length; an empty list for zero-length
    /// values of any type (Keras writes empty name lists as float64 `(0,)`).
    func readStringValues() throws -> [String] {
        try file.guarded(errorPath, "reading \(subject)") { try readStringValuesUnguarded() }
    }

    private func readStringValuesUnguarded() throws -> [String] {
        kd_h5_silence_error_printing()
        guard layout.count > 0 else { return [] }
        guard layout.elementType == .string else {
            throw error(.typeMismatch, "\(subject) holds \(layout.elementType) values, not strings")
        }
        let variable = H5Tis_variable_str(layout.type.id)
        try file.check(variable, errorPath, "reading the string type of \(subject) failed")
        return variable > 0 ? try readVariableLengthStrings() : try readFixedLengthStrings()
    }

    /// Reads the stored elements as they are in the file (no libhdf5 VLEN
    /// conversion, which loops or faults on a damaged global heap), then
    /// copies each string from its heap collection after checking it.
    private func readVariableLengthStrings() throws -> [String] {
        // Each stored string takes at least 4 bytes of the file (its length),
        // so a corrupted dataspace cannot make us allocate millions of pointers.
        if let fileSize = file.fileSize, UInt64(layout.count) > fileSize / 4 {
            throw error(.corrupted, "\(subject) claims \(layout.count) strings, more than the \(fileSize)-byte file can hold")
        }
        guard vlenDescriptorConversionRegistered else {
            throw file.libraryError(errorPath, "registering the variable-length string reader failed")
        }
        // Strings written through this handle may still sit in libhdf5's cache.
        if kd_h5_file_is_writable(file.handle.id) == 1 {
            try file.check(H5Fflush(file.handle.id, H5F_SCOPE_LOCAL), errorPath, "flushing the file failed")
        }
        var heap = try file.globalHeapReader(errorPath)
        let total = try checkedByteCount(heap.elementSize)
        try verifyStoredSize(total)
        let memoryType = try file.own(kd_h5_vlen_descriptor_type(heap.elementSize), .datatype, errorPath,
                                      "creating a string type failed")
        var elements = [UInt8](repeating: 0, count: total)
        let status = withExtendedLifetime(memoryType) {
            elements.withUnsafeMutableBytes { raw in raw.baseAddress.map { readRaw(memoryType: memoryType.id, into: $0) } ?? -1 }
        }
        try file.check(status, errorPath, "reading \(subject) failed")
        return try elements.withUnsafeBytes { raw in
            try (0..<layout.count).map { index in
                do { return try heap.string(raw, index: index) } catch let failure as GlobalHeapReader.Failure {
                    throw error(.corrupted, "\(subject): \(failure.message)")
                }
            }
        }
    }

    private func readFixedLengthStrings() throws -> [String] {
        let size = H5Tget_size(layout.type.id)
        guard size > 0 else { throw error(.corrupted, "\(subject) has a zero-size string type") }
        guard let padding = StringPadding(H5Tget_strpad(layout.type.id)) else {
            throw error(.corrupted, "\(subject) has an unknown string padding")
        }
        let total = try checkedByteCount(size)
        try verifyStoredSize(total)
        var bytes = [UInt8](repeating: 0, count: total)
        let status = bytes.withUnsafeMutableBytes { raw in
            raw.baseAddress.map { readRaw(memoryType: layout.type.id, into: $0) } ?? -1
        }
        try file.check(status, errorPath, "reading \(subject) failed")
        return bytes.withUnsafeBytes { raw in
            (0..<layout.count).map { index in
                padding.decode(UnsafeRawBufferPointer(rebasing: raw[index * size ..< (index + 1) * size]))
            }
        }
    }
}

/// Registers, once per process, the conversion that reads variable-length
/// strings as stored descriptors (see `GlobalHeapReader`).
let vlenDescriptorConversionRegistered: Bool = kd_h5_register_vlen_descriptor_conversion() >= 0

extension OpenFile {
    /// A reader of this file's global heap, with its address and length sizes.
    func globalHeapReader(_ objectPath: String) throws -> GlobalHeapReader {
        var offsetSize = 0, lengthSize = 0
        var base: hsize_t = 0
        try check(kd_h5_file_geometry(handle.id, &offsetSize, &lengthSize, &base), objectPath, "reading the file's address sizes failed")
        do {
            return try GlobalHeapReader(path: path, offsetSize: offsetSize, lengthSize: lengthSize, base: UInt64(base),
                                        byteLimit: maxReadBytes)
        } catch let failure as GlobalHeapReader.Failure {
            throw error(.corrupted, objectPath, failure.message)
        }
    }
}
