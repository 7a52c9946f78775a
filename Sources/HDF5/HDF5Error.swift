import CHDF5
import Foundation

/// An error from the HDF5 layer. Its description is one line naming the file,
/// the object inside it and what went wrong, e.g.
/// `model.h5: /model_weights/dense: attribute 'weight_names' not found`.
public struct HDF5Error: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The category of failure, for callers that react differently to each.
    public enum Kind: Equatable, Sendable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but is not an HDF5 file.
        case notHDF5
        /// The file could not be opened or created (truncated, locked, no permission, ...).
        case openFailed
        /// No object or attribute with that name.
        case notFound
        /// The object or attribute to create already exists.
        case alreadyExists
        /// The object or its values are of another kind than requested
        /// (a group where a dataset was asked for, strings read as numbers, ...).
        case typeMismatch
        /// The file's metadata contradicts itself or the file size.
        case corrupted
        /// A read would need more memory than the file's read limit allows.
        case tooLarge
        /// An argument passed by the caller is invalid.
        case invalidArgument
        /// An HDF5 call failed; the message carries HDF5's reason.
        case operationFailed
    }

    public let kind: Kind
    /// The file path as given when the file was opened.
    public let filePath: String
    /// The absolute path of the object inside the file, e.g. `/model_weights/dense`.
    public let objectPath: String
    /// What went wrong, without the file and object prefix.
    public let message: String

    public init(kind: Kind, filePath: String, objectPath: String, message: String) {
        self.kind = kind
        self.filePath = filePath
        self.objectPath = objectPath
        self.message = message
    }

    public var description: String { "\(filePath): \(objectPath): \(message)" }
    public var errorDescription: String? { description }

    /// An error for a failed HDF5 call: `action` plus the innermost reason on
    /// the calling thread's HDF5 error stack, kept to one line.
    static func library(kind: Kind, filePath: String, objectPath: String, action: String) -> HDF5Error {
        var buffer = [CChar](repeating: 0, count: 512)
        kd_h5_innermost_error(&buffer, buffer.count)
        let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        let message = reason.isEmpty ? action : "\(action) (HDF5: \(reason))"
        return HDF5Error(kind: kind, filePath: filePath, objectPath: objectPath, message: message)
    }
}
