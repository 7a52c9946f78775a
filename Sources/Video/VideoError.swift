import Foundation

/// Errors raised by the Video target. Each renders as one line that names the
/// file (video, folder or list) it is about.
public enum VideoError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The `ffmpeg` or `ffprobe` executable could not be found or run.
    case toolNotFound(tool: String, file: String, detail: String)
    /// The file or folder does not exist.
    case fileNotFound(String)
    /// The file exists but cannot be read.
    case unreadable(String, detail: String)
    /// FFmpeg cannot open the file as media (a text file, say).
    case notMedia(String, detail: String)
    /// The file is media but has no video stream (audio only, say).
    case noVideoStream(String)
    /// FFmpeg failed while decoding; `detail` is the end of its error output.
    case decodingFailed(String, detail: String)
    /// A line of a UCF101 list file is malformed.
    case badListLine(file: String, line: Int, text: String, reason: String)
    /// A dataset folder does not have the expected layout.
    case badLayout(String, detail: String)
    /// An argument is out of range; the message names it.
    case invalidArgument(String)
    /// Writing an output file failed.
    case writeFailed(String, detail: String)

    public var description: String {
        switch self {
        case let .toolNotFound(tool, file, detail):
            return "cannot decode \(file): \(tool) not found (\(detail))"
        case let .fileNotFound(path):
            return "\(path): no such file or folder"
        case let .unreadable(path, detail):
            return "\(path): cannot be read (\(detail))"
        case let .notMedia(path, detail):
            return "\(path): not a video file FFmpeg can open (\(detail))"
        case let .noVideoStream(path):
            return "\(path): has no video stream"
        case let .decodingFailed(path, detail):
            return "\(path): FFmpeg failed while decoding (\(detail))"
        case let .badListLine(file, line, text, reason):
            return "\(file):\(line): \(reason): \"\(text)\""
        case let .badLayout(path, detail):
            return "\(path): \(detail)"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case let .writeFailed(path, detail):
            return "cannot write \(path): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
