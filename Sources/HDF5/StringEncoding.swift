import CHDF5

/// The character set an HDF5 string type declares. HDF5 does not check the
/// bytes: Keras stores UTF-8 JSON under `.ascii`, and reading always decodes
/// UTF-8 (invalid bytes become U+FFFD).
public enum StringEncoding: Equatable, Sendable {
    case ascii, utf8

    var characterSet: H5T_cset_t { self == .ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8 }
}

/// How a fixed-length string fills the bytes after its text.
public enum StringPadding: Equatable, Sendable {
    /// NUL bytes fill the rest; a string may use every byte (numpy `'S'`, h5py's default).
    case nullPadded
    /// A NUL ends the text, so the size is one byte longer than the longest string (C strings).
    case nullTerminated
    /// Spaces fill the rest (Fortran style).
    case spacePadded

    init?(_ strpad: H5T_str_t) {
        switch strpad {
        case H5T_STR_NULLPAD: self = .nullPadded
        case H5T_STR_NULLTERM: self = .nullTerminated
        case H5T_STR_SPACEPAD: self = .spacePadded
        default: return nil
        }
    }

    var strpad: H5T_str_t {
        switch self {
        case .nullPadded: return H5T_STR_NULLPAD
        case .nullTerminated: return H5T_STR_NULLTERM
        case .spacePadded: return H5T_STR_SPACEPAD
        }
    }

    var fillByte: UInt8 { self == .spacePadded ? UInt8(ascii: " ") : 0 }

    /// The text of one fixed-length element: up to the first NUL when
    /// NUL-terminated; otherwise without trailing NULs, and also without
    /// trailing spaces when space-padded (what numpy and h5py return).
    func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        var text = bytes[...]
        switch self {
        case .nullTerminated:
            text = text.prefix { $0 != 0 }
        case .nullPadded:
            while text.last == 0 { text.removeLast() }
        case .spacePadded:
            while let last = text.last, last == 0 || last == UInt8(ascii: " ") { text.removeLast() }
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Which HDF5 string layout to write.
public enum StringForm: Equatable, Sendable {
    /// Each string in the global heap, any length (h5py's form for `str` and
    /// lists of `bytes`).
    case variableLength
    /// Every string in a slot as wide as the longest one (numpy `'S'` arrays).
    case fixedLength(StringPadding)
}
