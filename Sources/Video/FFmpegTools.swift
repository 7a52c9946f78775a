import Foundation

/// Finds the `ffmpeg` and `ffprobe` executables.
///
/// `ffmpeg` comes from the environment variable `KERAS_DELTA_FFMPEG` when it
/// is set, otherwise from `PATH`. `ffprobe` comes from `KERAS_DELTA_FFPROBE`,
/// otherwise from beside the chosen `ffmpeg`, otherwise from `PATH`.
enum FFmpegTools {
    /// The environment variable that overrides the `ffmpeg` path.
    static let ffmpegVariable = "KERAS_DELTA_FFMPEG"
    /// The environment variable that overrides the `ffprobe` path.
    static let ffprobeVariable = "KERAS_DELTA_FFPROBE"

    /// The `ffmpeg` executable, or `toolNotFound` naming `file`, the input it was wanted for.
    static func ffmpeg(for file: String) throws -> URL {
        try locate("ffmpeg", variable: ffmpegVariable, besides: nil, for: file)
    }

    /// The `ffprobe` executable, or `toolNotFound` naming `file`.
    static func ffprobe(for file: String) throws -> URL {
        let ffmpegURL = try ffmpeg(for: file)
        return try locate("ffprobe", variable: ffprobeVariable,
                          besides: ffmpegURL.deletingLastPathComponent(), for: file)
    }

    private static func locate(_ tool: String, variable: String, besides directory: URL?,
                               for file: String) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment[variable], !override.isEmpty {
            guard isExecutable(override) else {
                throw VideoError.toolNotFound(tool: tool, file: file,
                                              detail: "\(variable)=\(override) is not an executable file")
            }
            return URL(fileURLWithPath: override)
        }
        if let directory, isExecutable(directory.appendingPathComponent(tool).path) {
            return directory.appendingPathComponent(tool)
        }
        let searchPath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for entry in searchPath.split(separator: ":") where !entry.isEmpty {
            let candidate = URL(fileURLWithPath: String(entry)).appendingPathComponent(tool)
            if isExecutable(candidate.path) { return candidate }
        }
        throw VideoError.toolNotFound(tool: tool, file: file,
                                      detail: "not on PATH; install FFmpeg or set \(variable)")
    }

    private static func isExecutable(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            && !isDirectory.boolValue && FileManager.default.isExecutableFile(atPath: path)
    }

    /// Runs a tool to completion and returns its exit status, standard output and
    /// the end of its standard error. For short-lived commands with small output.
    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let child = try ChildProcess(executable: executable, arguments: arguments)
        let data = child.output.fileHandleForReading.readDataToEndOfFile()
        let (status, errors) = child.waitForExit()
        return (status, data, errors)
    }
}

/// A launched subprocess with standard output on a pipe, standard error drained
/// into a bounded buffer, and standard input from /dev/null.
///
/// Waiting uses the termination handler rather than `Process.waitUntilExit()`,
/// which polls every 50 ms on Linux.
final class ChildProcess {
    /// The pipe the child writes its standard output to.
    let output = Pipe()
    /// The child's process id.
    let processIdentifier: Int32

    private let process = Process()
    private let errors = BoundedPipeReader(limit: 16 * 1024)
    private let exited = DispatchSemaphore(value: 0)
    private var result: (status: Int32, errors: String)?

    /// Seconds to wait for the child to exit after SIGTERM before SIGKILL.
    private static let terminationGrace = 2.0

    /// Launches `executable` with `arguments`.
    init(executable: URL, arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors.pipe
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        processIdentifier = process.processIdentifier
        errors.start()
    }

    deinit {
        stop()
    }

    /// Whether the child has not yet exited.
    var isRunning: Bool { result == nil && process.isRunning }

    /// Waits until the child exits and is reaped; returns its status and the
    /// end of its standard error. Later calls return the same values.
    @discardableResult
    func waitForExit() -> (status: Int32, errors: String) {
        if let result { return result }
        exited.wait()
        let finished = (process.terminationStatus, errors.finish())
        result = finished
        return finished
    }

    /// Stops the child if it still runs (closing its output, then SIGTERM, then
    /// SIGKILL after a grace period) and reaps it. Safe to call more than once.
    func stop() {
        guard result == nil else { return }
        // Closing our end first makes a blocked write in the child fail at once.
        try? output.fileHandleForReading.close()
        if process.isRunning { process.terminate() }
        if exited.wait(timeout: .now() + Self.terminationGrace) == .timedOut {
            kill(processIdentifier, SIGKILL)
            exited.wait()
        }
        result = (process.terminationStatus, errors.finish())
    }
}

/// Drains a pipe on a background thread, keeping only the last `limit` bytes,
/// so a chatty child process can never block on a full pipe.
final class BoundedPipeReader {
    let pipe = Pipe()
    private let limit: Int
    private var buffer = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Starts draining; call after the child process is launched.
    func start() {
        let handle = pipe.fileHandleForReading
        let thread = Thread { [self] in
            let fd = handle.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                buffer.append(contentsOf: chunk[0..<n])
                if buffer.count > limit { buffer.removeFirst(buffer.count - limit) }
                lock.unlock()
            }
            done.signal()
        }
        thread.name = "ffmpeg-stderr"
        thread.start()
    }

    /// Waits for end of file and returns what was kept, as text.
    func finish() -> String {
        done.wait()
        try? pipe.fileHandleForReading.close()
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }
}
