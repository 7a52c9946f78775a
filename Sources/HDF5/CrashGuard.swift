import CCrashGuard
import Foundation

/// Turns a fault inside libhdf5 into one error line and exit status 2.
///
/// libhdf5 1.10 itself can fault on some corrupted files (a damaged global
/// heap behind a variable-length string). No library can recover from that,
/// but a command-line tool can still end the way it ends for any other bad
/// file: once installed, a SIGSEGV or SIGBUS while this target reads from a
/// file prints `prefix` and the usual `file: object: message` line for that
/// read, and exits with status 2. Faults anywhere else reach the handler that
/// was installed before (Swift's backtracer, say). Process-wide; install once,
/// early, from an executable — never from a library.
public enum CrashGuard {
    nonisolated(unsafe) private(set) static var prefix: String?

    /// Installs the guard; lines it prints start with `prefix`.
    public static func install(prefix: String) {
        guard self.prefix == nil else { return }
        self.prefix = prefix
        _ = kd_crash_guard_install()
    }
}

extension OpenFile {
    /// Runs `body`, a read of the object at `objectPath`, under the crash guard
    /// when one is installed.
    func guarded<R>(_ objectPath: String, _ action: @autoclosure () -> String, _ body: () throws -> R) rethrows -> R {
        try CrashGuard.guarded(filePath: path, objectPath: objectPath, action(), body)
    }
}

extension CrashGuard {
    static func guarded<R>(filePath: String, objectPath: String, _ action: @autoclosure () -> String,
                           _ body: () throws -> R) rethrows -> R {
        guard let prefix else { return try body() }
        let error = HDF5Error(kind: .corrupted, filePath: filePath, objectPath: objectPath,
                              message: "libhdf5 crashed \(action()); the file is corrupted")
        let line = prefix + error.description.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n"
        return try line.withCString { text in
            var note = kd_crash_note(line: text, length: strlen(text))
            return try withUnsafePointer(to: &note) { pointer in
                let previous = kd_crash_guard_enter(pointer)
                defer { kd_crash_guard_leave(previous) }
                return try body()
            }
        }
    }
}
