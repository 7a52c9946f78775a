import Foundation

/// Streams each epoch's logs to a CSV file (`keras.callbacks.CSVLogger`):
/// an `epoch` column and the log keys in sorted order (with `val_` columns
/// reserved when validation has not produced any yet), `\r\n` line ends.
public final class CSVLogger: Callback {
    public let url: URL
    public let separator: String
    public let append: Bool
    private var handle: FileHandle?
    private var keys: [String]?
    private var writeHeader = true

    public init(filename: String, separator: String = ",", append: Bool = false) {
        self.url = URL(fileURLWithPath: filename)
        self.separator = separator
        self.append = append
    }

    public override func onTrainBegin(logs: Logs) throws {
        try handle?.close()
        let fm = FileManager.default
        let existing = append ? (try? Data(contentsOf: url)) : nil
        // Appending to a file that already has lines adds no second header.
        writeHeader = existing?.isEmpty ?? true
        if existing == nil && !fm.createFile(atPath: url.path, contents: nil) {
            throw TrainingError.invalidData("CSVLogger: cannot create \(url.path)")
        }
        guard let h = try? FileHandle(forWritingTo: url) else {
            throw TrainingError.invalidData("CSVLogger: cannot open \(url.path) for writing")
        }
        try h.seekToEnd()
        handle = h
        keys = nil
    }

    public override func onEpochEnd(_ epoch: Int, logs: inout Logs) throws {
        if keys == nil {
            var k = logs.keys.sorted()
            if !k.contains(where: { $0.hasPrefix("val_") }) && !k.isEmpty { k += k.map { "val_\($0)" } }
            keys = k
            if writeHeader { try write((["epoch"] + k).map(quote)) }
        }
        try write([String(epoch)] + keys!.map { key in logs[key].map { $0.description } ?? "NA" }.map(quote))
    }

    public override func onTrainEnd(logs: Logs) throws {
        try handle?.close()
        handle = nil
    }

    /// Quotes a field as Python's csv module (excel dialect) does.
    private func quote(_ field: String) -> String {
        guard field.contains(separator) || field.contains("\"") || field.contains("\n") || field.contains("\r") else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func write(_ fields: [String]) throws {
        try handle?.write(contentsOf: Data((fields.joined(separator: separator) + "\r\n").utf8))
    }
}
