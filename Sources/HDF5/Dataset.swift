import CHDF5

/// A dataset: an n-dimensional array of numbers (Keras weights are
/// contiguous float32 datasets).
///
///     let kernel: [Float] = try file.dataset("model_weights/dense/dense/kernel:0").read()
public final class Dataset: HDF5Object, StoredValues {
    let layout: ValueLayout

    init(_ file: OpenFile, _ handle: Handle, at objectPath: String) throws {
        let type = try file.own(H5Dget_type(handle.id), .datatype, objectPath, "reading the dataset type failed")
        let space = try file.own(H5Dget_space(handle.id), .dataspace, objectPath, "reading the dataset shape failed")
        layout = try ValueLayout(type: type, space: space) { kind, message in
            file.error(kind, objectPath, "dataset: \(message)")
        }
        super.init(file: file, handle: handle, objectPath: objectPath)
    }

    /// The dimensions, in row-major (C) order; `[]` for a scalar.
    public var shape: [Int] { layout.shape }
    /// The number of values: 1 for a scalar, 0 when a dimension is 0.
    public var count: Int { layout.count }
    /// The stored element type.
    public var elementType: ElementType { layout.elementType }

    var errorPath: String { objectPath }
    var subject: String { "dataset" }

    /// All values converted to `T` by HDF5, in row-major order, with a single
    /// read into a new array.
    /// - Throws: `.typeMismatch` for non-numeric datasets, `.tooLarge` past the
    ///   file's read limit, `.corrupted` when the file does not hold the data.
    public func read<T: HDF5Numeric>(as type: T.Type = T.self) throws -> [T] {
        try readNumbers(T.self)
    }

    /// Reads all values converted to `T` into `buffer` (for example a tensor's
    /// storage), which must hold exactly `count` elements.
    public func read<T: HDF5Numeric>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        try readNumbers(into: buffer)
    }

    func readRaw(memoryType: hid_t, into buffer: UnsafeMutableRawPointer) -> herr_t {
        H5Dread(handle.id, memoryType, kd_h5s_all(), kd_h5s_all(), kd_h5p_default(), buffer)
    }

    func verifyStoredSize(_ bytes: Int) throws {
        let storageLayout = try withCreationProperties { H5Pget_layout($0) }
        guard storageLayout == H5D_CONTIGUOUS || storageLayout == H5D_COMPACT else { return }
        let stored = H5Dget_storage_size(handle.id)
        if storageLayout == H5D_CONTIGUOUS {
            let offset = H5Dget_offset(handle.id)
            // Unallocated contiguous data reads as the fill value.
            if offset == kd_haddr_undef() { return }
            var fileSize: hsize_t = 0
            try file.check(H5Fget_filesize(file.handle.id, &fileSize), objectPath, "reading the file size failed")
            let (end, overflow) = UInt64(offset).addingReportingOverflow(stored)
            guard !overflow, end <= fileSize else {
                throw error(.corrupted, "dataset data ends at byte \(overflow ? "past \(UInt64.max)" : "\(end)") but the file has \(fileSize) bytes")
            }
        }
        guard stored == UInt64(bytes) else {
            throw error(.corrupted, "dataset needs \(bytes) bytes but the file stores \(stored)")
        }
    }
}
