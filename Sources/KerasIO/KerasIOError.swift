import HDF5
import Layers

/// A failure to read or write a Keras file. The description is one line that
/// names the file and the part of it (layer, attribute, dataset path).
public struct KerasIOError: Error, CustomStringConvertible, Equatable {
    /// The file, when known.
    public var file: String
    /// The part of the file: a layer name, an attribute or a dataset path.
    public var part: String
    public var message: String

    public init(file: String = "", part: String = "", _ message: String) {
        self.file = file
        self.part = part
        self.message = message
    }

    /// One line, whatever the file holds: line breaks become spaces and a part
    /// or message longer than 1,000 characters (a hostile file can put a
    /// megabyte of text in a class name that the message quotes) is elided in the middle.
    public var description: String {
        [file, KerasIOError.oneLine(part), KerasIOError.oneLine(message)].filter { !$0.isEmpty }.joined(separator: ": ")
    }

    static func oneLine(_ text: String) -> String {
        var line = text.contains(where: \.isNewline) ? text.split(whereSeparator: \.isNewline).joined(separator: " ") : text
        if line.count > 1000 {
            line = "\(line.prefix(600))…(\(line.count - 900) characters)…\(line.suffix(300))"
        }
        return line
    }

    /// The same error, attributed to `path` when it names no file yet.
    func inFile(_ path: String) -> KerasIOError {
        var e = self
        if e.file.isEmpty { e.file = path }
        return e
    }

    /// Runs `body`, turning any error into a `KerasIOError` about `file`.
    /// HDF5 errors keep their object path as the part, but name `file`
    /// (a temporary file being written is reported as its destination).
    /// `inner` prefixes the part, e.g. the archive member holding the HDF5 file.
    static func attributing<T>(to file: String, inner: String = "", _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var e as KerasIOError {
            e.part = inner + e.part
            throw e.inFile(file)
        } catch let e as HDF5Error {
            throw KerasIOError(file: file, part: inner + e.objectPath, e.message)
        } catch let e as LayerError {
            throw KerasIOError(file: file, "\(e)")
        } catch let e as JSONError {
            throw KerasIOError(file: file, part: "config", "\(e)")
        } catch {
            throw KerasIOError(file: file, "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
    }
}
