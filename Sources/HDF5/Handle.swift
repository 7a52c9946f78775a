import CHDF5

/// Owns one HDF5 identifier and closes it with the matching `H5?close` when
/// released.
///
/// Swift may release an object right after its last use, so pass `id` to C
/// only while the handle is kept alive: stored in a live object, passed in as
/// a parameter, or inside `withExtendedLifetime`.
final class Handle {
    /// Which HDF5 interface the identifier belongs to; picks the close call.
    enum Kind {
        case file, group, dataset, attribute, datatype, dataspace, propertyList
    }

    let id: hid_t
    let kind: Kind

    /// Takes ownership of `id`, which must be a valid (non-negative) identifier.
    init(_ id: hid_t, _ kind: Kind) {
        self.id = id
        self.kind = kind
    }

    deinit {
        switch kind {
        case .file: H5Fclose(id)
        case .group: H5Gclose(id)
        case .dataset: H5Dclose(id)
        case .attribute: H5Aclose(id)
        case .datatype: H5Tclose(id)
        case .dataspace: H5Sclose(id)
        case .propertyList: H5Pclose(id)
        }
    }
}

/// The open file shared by every object read from it. Objects hold it
/// strongly, so the file stays open while any of them is alive.
final class OpenFile {
    let handle: Handle
    /// The file path as the caller gave it; every error message starts with it.
    let path: String
    /// The largest buffer, in bytes, a single read may allocate.
    let maxReadBytes: Int

    init(handle: Handle, path: String, maxReadBytes: Int) {
        self.handle = handle
        self.path = path
        self.maxReadBytes = maxReadBytes
    }

    /// The file's size in bytes as HDF5 sees it (nil when unknown). No value
    /// stored without compression can be larger, whatever a corrupted header says.
    var fileSize: UInt64? {
        var size: hsize_t = 0
        return H5Fget_filesize(handle.id, &size) >= 0 ? UInt64(size) : nil
    }

    /// An error about the object at `objectPath` in this file.
    func error(_ kind: HDF5Error.Kind, _ objectPath: String, _ message: String) -> HDF5Error {
        HDF5Error(kind: kind, filePath: path, objectPath: objectPath, message: message)
    }

    /// An error for a failed HDF5 call, with HDF5's own innermost reason.
    func libraryError(_ objectPath: String, _ action: String, kind: HDF5Error.Kind = .operationFailed) -> HDF5Error {
        HDF5Error.library(kind: kind, filePath: path, objectPath: objectPath, action: action)
    }

    /// Wraps a new identifier in a `Handle`, or throws the library's error
    /// when `id` is negative.
    func own(_ id: hid_t, _ kind: Handle.Kind, _ objectPath: String, _ action: @autoclosure () -> String) throws -> Handle {
        guard id >= 0 else { throw libraryError(objectPath, action()) }
        return Handle(id, kind)
    }

    /// Throws the library's error when an `herr_t`-style status is negative.
    func check<T: BinaryInteger>(_ status: T, _ objectPath: String, _ action: @autoclosure () -> String) throws {
        guard status >= 0 else { throw libraryError(objectPath, action()) }
    }

    /// Reads a name through HDF5's two-call protocol: the first call returns
    /// its length, the second fills a buffer one byte longer.
    func readName(_ objectPath: String, _ action: @autoclosure () -> String,
                  _ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws -> String {
        let length = call(nil, 0)
        guard length >= 0 else { throw libraryError(objectPath, action()) }
        var buffer = [CChar](repeating: 0, count: length + 1)
        guard call(&buffer, buffer.count) == length else { throw libraryError(objectPath, action()) }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
