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

    public var description: String {
        [file, part, message].filter { !$0.isEmpty }.joined(separator: ": ")
    }

    /// The same error, attributed to `file` when it names none yet.
    func inFile(_ path: String) -> KerasIOError {
        var e = self
        if e.file.isEmpty { e.file = path }
        return e
    }
}
