import Foundation

/// Writes a file through a temporary file in the destination folder, renamed
/// over the destination only once complete: a failure leaves no partial file
/// and does not touch an existing one.
public enum AtomicWrite {
    /// Calls `write` with a fresh temporary path next to `path`, then renames
    /// it to `path`. The temporary file is removed if anything fails.
    public static func write(to path: String, _ write: (String) throws -> Void) throws {
        let destination = URL(fileURLWithPath: path)
        let folder = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw KerasIOError(file: path, "the folder \(folder.path) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw KerasIOError(file: path, "is a directory")
        }
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp").path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try write(temporary)
        guard rename(temporary, path) == 0 else {
            throw KerasIOError(file: path, "cannot replace the file: \(String(cString: strerror(errno)))")
        }
    }
}
