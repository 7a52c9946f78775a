import CHDF5

/// An attribute attached to a group or dataset, opened for reading.
///
/// Reads accept every form Keras and h5py write: scalar or 1-D, fixed- or
/// variable-length, ASCII or UTF-8 strings, and numbers of any width.
///
///     let names = try group.attribute("weight_names").readStrings()
public final class Attribute: StoredValues {
    let file: OpenFile
    let handle: Handle
    let layout: ValueLayout
    /// The attribute's name.
    public let name: String
    /// The absolute path of the group or dataset the attribute is attached to.
    public let objectPath: String

    init(file: OpenFile, handle: Handle, name: String, objectPath: String) throws {
        self.file = file
        self.handle = handle
        self.name = name
        self.objectPath = objectPath
        let subject = "attribute '\(name)'"
        let type = try file.own(H5Aget_type(handle.id), .datatype, objectPath, "reading the type of \(subject) failed")
        let space = try file.own(H5Aget_space(handle.id), .dataspace, objectPath, "reading the shape of \(subject) failed")
        layout = try ValueLayout(type: type, space: space) { kind, message in
            file.error(kind, objectPath, "\(subject): \(message)")
        }
    }

    /// The path of the file, as given when it was opened.
    public var filePath: String { file.path }
    /// The dimensions; `[]` for a scalar.
    public var shape: [Int] { layout.shape }
    /// The number of values: 1 for a scalar, 0 for an empty array.
    public var count: Int { layout.count }
    /// The stored element type.
    public var elementType: ElementType { layout.elementType }

    /// For a string attribute, the character set its type declares; nil otherwise.
    public var stringEncoding: StringEncoding? {
        guard elementType == .string else { return nil }
        switch H5Tget_cset(layout.type.id) {
        case H5T_CSET_ASCII: return .ascii
        case H5T_CSET_UTF8: return .utf8
        default: return nil
        }
    }

    /// For a string attribute, whether it is variable- or fixed-length (and
    /// how fixed-length strings are padded); nil otherwise.
    public var stringForm: StringForm? {
        guard elementType == .string else { return nil }
        let variable = H5Tis_variable_str(layout.type.id)
        if variable > 0 { return .variableLength }
        guard variable == 0, let padding = StringPadding(H5Tget_strpad(layout.type.id)) else { return nil }
        return .fixedLength(padding)
    }

    var errorPath: String { objectPath }
    var subject: String { "attribute '\(name)'" }

    func readRaw(memoryType: hid_t, into buffer: UnsafeMutableRawPointer) -> herr_t {
        H5Aread(handle.id, memoryType, buffer)
    }

    func verifyStoredSize(_ bytes: Int) throws {
        // Attribute data is never compressed: it cannot be larger than the file.
        if let fileSize = file.fileSize, UInt64(bytes) > fileSize {
            throw error(.corrupted, "\(subject) needs \(bytes) bytes but the whole file has \(fileSize)")
        }
        let stored = H5Aget_storage_size(handle.id)
        guard stored >= UInt64(bytes) else {
            throw error(.corrupted, "\(subject) needs \(bytes) bytes but the file stores \(stored)")
        }
    }

    /// Every string value, in order. A scalar gives one string; a zero-length
    /// attribute of any type (Keras writes empty name lists as float64 `(0,)`)
    /// gives `[]`. Trailing NUL padding is removed.
    /// - Throws: `.typeMismatch` for non-empty numeric attributes.
    public func readStrings() throws -> [String] {
        try readStringValues()
    }

    /// The single string value of a scalar or one-element attribute.
    /// - Throws: `.typeMismatch` when the attribute is not exactly one string.
    public func readString() throws -> String {
        let strings = try readStringValues()
        guard strings.count == 1, let string = strings.first else {
            throw error(.typeMismatch, "\(subject) holds \(strings.count) strings, not one")
        }
        return string
    }

    /// All values converted to `T` by HDF5, in row-major order.
    /// - Throws: `.typeMismatch` for string attributes.
    public func read<T: HDF5Numeric>(as type: T.Type = T.self) throws -> [T] {
        try readNumbers(T.self)
    }

    /// All values as `Float`.
    public func readFloats() throws -> [Float] { try readNumbers(Float.self) }
    /// All values as `Double`.
    public func readDoubles() throws -> [Double] { try readNumbers(Double.self) }
    /// All values as `Int32`.
    public func readInt32s() throws -> [Int32] { try readNumbers(Int32.self) }
    /// All values as `Int64`.
    public func readInt64s() throws -> [Int64] { try readNumbers(Int64.self) }
}
