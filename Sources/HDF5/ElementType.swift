import CHDF5

/// The type of the values stored in a dataset or attribute.
public enum ElementType: Equatable, Hashable, Sendable, CustomStringConvertible {
    case float16, float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    /// A fixed- or variable-length string of any encoding.
    case string
    /// Anything else (compound, enum, opaque, array, reference, odd-sized
    /// numbers); the payload names the HDF5 class and size.
    case other(String)

    public var description: String {
        switch self {
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .uint16: return "uint16"
        case .uint32: return "uint32"
        case .uint64: return "uint64"
        case .string: return "string"
        case .other(let name): return name
        }
    }

    /// Whether HDF5 can convert these values to any of the numeric Swift types.
    public var isNumeric: Bool {
        switch self {
        case .string, .other: return false
        default: return true
        }
    }

    /// Classifies an HDF5 datatype.
    init(datatype: hid_t) {
        let size = H5Tget_size(datatype)
        switch H5Tget_class(datatype) {
        case H5T_FLOAT:
            switch size {
            case 2: self = .float16
            case 4: self = .float32
            case 8: self = .float64
            default: self = .other("float\(size * 8)")
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(datatype) != H5T_SGN_NONE
            switch (size, signed) {
            case (1, true): self = .int8
            case (2, true): self = .int16
            case (4, true): self = .int32
            case (8, true): self = .int64
            case (1, false): self = .uint8
            case (2, false): self = .uint16
            case (4, false): self = .uint32
            case (8, false): self = .uint64
            default: self = .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: self = .string
        case H5T_COMPOUND: self = .other("compound")
        case H5T_ENUM: self = .other("enum")
        case H5T_OPAQUE: self = .other("opaque")
        case H5T_ARRAY: self = .other("array")
        case H5T_VLEN: self = .other("variable-length sequence")
        case H5T_REFERENCE: self = .other("reference")
        case H5T_BITFIELD: self = .other("bitfield")
        case H5T_TIME: self = .other("time")
        default: self = .other("unknown type")
        }
    }
}

/// A Swift number type that datasets and attributes can be read into and
/// written from: `Float`, `Double`, `Int32`, `Int64` and `UInt8`.
/// Other types must not conform.
public protocol HDF5Numeric {
    /// The element type this Swift type maps to.
    static var hdf5ElementType: ElementType { get }
}

extension Float: HDF5Numeric { public static var hdf5ElementType: ElementType { .float32 } }
extension Double: HDF5Numeric { public static var hdf5ElementType: ElementType { .float64 } }
extension Int32: HDF5Numeric { public static var hdf5ElementType: ElementType { .int32 } }
extension Int64: HDF5Numeric { public static var hdf5ElementType: ElementType { .int64 } }
extension UInt8: HDF5Numeric { public static var hdf5ElementType: ElementType { .uint8 } }

/// The predefined HDF5 datatypes for one Swift number type.
struct NumericTypes {
    /// The in-memory layout HDF5 converts to and from.
    let memory: hid_t
    /// The little-endian layout written to files (Keras writes `H5T_IEEE_F32LE`).
    let file: hid_t

    /// The datatypes for `T`, or nil when `T` is not one of the supported types.
    init?<T: HDF5Numeric>(_ type: T.Type) {
        switch T.hdf5ElementType {
        case .float32: (memory, file) = (kd_h5t_native_float(), kd_h5t_ieee_f32le())
        case .float64: (memory, file) = (kd_h5t_native_double(), kd_h5t_ieee_f64le())
        case .int32: (memory, file) = (kd_h5t_native_int32(), kd_h5t_std_i32le())
        case .int64: (memory, file) = (kd_h5t_native_int64(), kd_h5t_std_i64le())
        case .uint8: (memory, file) = (kd_h5t_native_uint8(), kd_h5t_std_u8le())
        default: return nil
        }
        guard H5Tget_size(memory) == MemoryLayout<T>.stride else { return nil }
    }
}
