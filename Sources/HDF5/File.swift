import CHDF5
import Foundation

/// An open HDF5 file; as a `Group` it is the root group `/`.
///
/// The file stays open while this object or any group, dataset or attribute
/// read from it is alive, and closes when the last of them is released.
///
///     let file = try HDF5File(path: "model.h5")
///     let config = try file.attribute("model_config").readString()
///     let layers = try file.group("model_weights").attribute("layer_names").readStrings()
public final class HDF5File: Group {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Open an existing file for reading.
        case read
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create the file, replacing any existing one.
        case create
        /// Create the file; fail if it already exists.
        case createNew
    }

    /// The default limit on the bytes a single read may allocate (8 GiB).
    public static let defaultMaxReadBytes = 8 << 30

    /// The mode the file was opened with.
    public let mode: Mode

    /// Opens or creates the file at `path`.
    ///
    /// HDF5's own error printing to stderr is turned off; failures are thrown.
    /// - Parameters:
    ///   - path: The file path; error messages start with it as given.
    ///   - mode: Whether to read, update or create the file.
    ///   - maxReadBytes: The most memory a single dataset or attribute read
    ///     may allocate, so a corrupted header cannot ask for terabytes. The
    ///     text of variable-length strings is allocated by HDF5 itself and is
    ///     not counted.
    /// - Throws: `HDF5Error` of kind `.fileNotFound`, `.notHDF5`,
    ///   `.alreadyExists` or `.openFailed` (for example a truncated file).
    public init(path: String, mode: Mode = .read, maxReadBytes: Int = HDF5File.defaultMaxReadBytes) throws {
        kd_h5_silence_error_printing()
        let fileHandle: Handle
        switch mode {
        case .read, .readWrite:
            fileHandle = try Self.open(path, writable: mode == .readWrite)
        case .create, .createNew:
            fileHandle = try Self.create(path, exclusive: mode == .createNew)
        }
        let file = OpenFile(handle: fileHandle, path: path, maxReadBytes: maxReadBytes)
        let root = try file.own(H5Gopen2(fileHandle.id, "/", kd_h5p_default()), .group, "/", "opening the root group failed")
        self.mode = mode
        super.init(file: file, handle: root, objectPath: "/")
    }

    /// The file's size in bytes as HDF5 sees it; nil when HDF5 cannot tell.
    public var size: UInt64? { file.fileSize }

    /// Writes buffered changes to disk.
    public func flush() throws {
        try file.check(H5Fflush(file.handle.id, H5F_SCOPE_GLOBAL), objectPath, "flushing the file failed")
    }

    private static func open(_ path: String, writable: Bool) throws -> Handle {
        func failure(_ kind: HDF5Error.Kind, _ message: String) -> HDF5Error {
            HDF5Error(kind: kind, filePath: path, objectPath: "/", message: message)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw failure(.fileNotFound, "no such file")
        }
        guard !isDirectory.boolValue else { throw failure(.notHDF5, "is a directory, not an HDF5 file") }
        let signature = kd_h5f_is_hdf5(path)
        guard signature >= 0 else {
            throw HDF5Error.library(kind: .openFailed, filePath: path, objectPath: "/", action: "cannot read the file")
        }
        guard signature > 0 else { throw failure(.notHDF5, "not an HDF5 file (no HDF5 signature)") }
        let id = CrashGuard.guarded(filePath: path, objectPath: "/", "opening the file") {
            H5Fopen(path, writable ? kd_h5f_acc_rdwr() : kd_h5f_acc_rdonly(), kd_h5p_default())
        }
        guard id >= 0 else {
            throw HDF5Error.library(kind: .openFailed, filePath: path, objectPath: "/", action: "cannot open the file")
        }
        return Handle(id, .file)
    }

    /// Creates the file with a root group configured like every group this
    /// library creates (creation order tracked, no modification time).
    private static func create(_ path: String, exclusive: Bool) throws -> Handle {
        if exclusive && FileManager.default.fileExists(atPath: path) {
            throw HDF5Error(kind: .alreadyExists, filePath: path, objectPath: "/", message: "file already exists")
        }
        func failure(_ action: String) -> HDF5Error {
            HDF5Error.library(kind: .openFailed, filePath: path, objectPath: "/", action: action)
        }
        let propertiesID = H5Pcreate(kd_h5p_file_create())
        guard propertiesID >= 0 else { throw failure("creating file properties failed") }
        let properties = Handle(propertiesID, .propertyList)
        return try withExtendedLifetime(properties) {
            guard configureGroupCreation(properties.id) >= 0 else { throw failure("creating file properties failed") }
            let id = H5Fcreate(path, exclusive ? kd_h5f_acc_excl() : kd_h5f_acc_trunc(), properties.id, kd_h5p_default())
            guard id >= 0 else { throw failure("cannot create the file") }
            return Handle(id, .file)
        }
    }
}
