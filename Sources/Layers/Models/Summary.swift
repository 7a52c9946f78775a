import Foundation
import Tensor

extension Model {
    /// `model.summary()` as Keras 3 prints it (a rich table), for a line length
    /// (default: Keras's, capped by the terminal width as Keras does).
    public func summary(lineLength: Int? = nil) -> String {
        let sequentialLike = isSequentialLike
        let header = sequentialLike ? ["Layer (type)", "Output Shape", "Param #"]
                                    : ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        let positions = sequentialLike ? [0.45, 0.80, 1.0] : [0.3, 0.56, 0.74, 1.0]
        let rightAligned = [false, false, true, false]
        let length = lineLength ?? Swift.min(sequentialLike ? 88 : 108, terminalColumns() - 4)

        var rows: [[String]] = []
        for layer in layers {
            var fields = ["\(layer.name) (\(type(of: layer).className))", outputShapeText(layer),
                          layer.built ? groupedThousands(layer.countParams) : "0 (unbuilt)"]
            if !sequentialLike { fields.append(connections(of: layer)) }
            rows.append(fields)
        }
        var out = "Model: \"\(name)\"\n"
        out += RichTable(header: header, widths: RichTable.columnWidths(positions, lineLength: length),
                         rightAligned: Array(rightAligned.prefix(header.count))).render(rows)
        let trainable = trainableWeights, nonTrainable = nonTrainableWeights
        let t = trainable.reduce(0) { $0 + $1.value.count }, n = nonTrainable.reduce(0) { $0 + $1.value.count }
        out += " Total params: \(groupedThousands(t + n)) (\(readableMemorySize((t + n) * 4)))\n"
        out += " Trainable params: \(groupedThousands(t)) (\(readableMemorySize(t * 4)))\n"
        out += " Non-trainable params: \(groupedThousands(n)) (\(readableMemorySize(n * 4)))\n"
        return out
    }

    /// Keras prints the short table when every depth holds one node with one input
    /// and no layer is called twice.
    var isSequentialLike: Bool {
        if self is Sequential { return true }
        var calls: [ObjectIdentifier: Int] = [:]
        for nodes in nodesByDepth {
            if nodes.count > 1 || (nodes.count == 1 && nodes[0].inputs.count > 1) { return false }
            for n in nodes { calls[ObjectIdentifier(n.layer), default: 0] += 1 }
        }
        return calls.values.allSatisfy { $0 <= 1 }
    }

    private func outputShapeText(_ layer: Layer) -> String {
        guard let shapes = layer.lastOutputShapes else { return "?" }
        let texts = shapes.map(formatShape)
        return texts.count == 1 ? texts[0] : "[" + texts.joined(separator: ", ") + "]"
    }

    private func connections(of layer: Layer) -> String {
        let nodes = nodesByDepth.joined().filter { $0.layer === layer }.sorted { $0.index < $1.index }
        let parts = nodes.flatMap { node in node.inputs.map { "\($0.layer.name)[\($0.node.index)][\($0.index)]" } }
        return parts.isEmpty ? "-" : parts.joined(separator: ", ")
    }
}

/// `1,234,567`.
func groupedThousands(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(c)
    }
    return out
}

/// Keras's `readable_memory_size`: `936.00 B`, `1.25 KB`, …
func readableMemorySize(_ bytes: Int) -> String {
    var size = Double(bytes)
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024 < 1 { return String(format: "%.2f %@", size, unit) }
        size /= 1024
    }
    return String(format: "%.2f PB", size)
}

/// The terminal width, or 80 when stdout is not a terminal (Python's fallback).
func terminalColumns() -> Int {
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
}

/// The table `rich` draws for Keras's summary: fixed-width columns, heavy
/// header box, a rule between rows, words wrapped and cropped with "…".
struct RichTable {
    let header: [String]
    /// Content widths (padding excluded).
    let widths: [Int]
    let rightAligned: [Bool]

    /// Column content widths as rich computes them for `Table(width: lineLength)`
    /// with columns of fixed widths from Keras's relative positions.
    static func columnWidths(_ positions: [Double], lineLength: Int) -> [Int] {
        var requested: [Int] = [], current = 0
        for p in positions {
            let w = Int(p * Double(lineLength)) - current
            requested.append(w)
            current += w
        }
        // rich: each column is width + 2 padding; borders take n + 1; reduce the
        // excess evenly, rounding half to even as Python's round().
        var widths = requested.map { $0 + 2 }
        let maxWidth = lineLength - (positions.count + 1)
        var remaining = widths.reduce(0, +) - maxWidth
        if remaining > 0 {
            var totalRatio = widths.count
            for i in widths.indices {
                let share = (Double(remaining) / Double(totalRatio)).rounded(.toNearestOrEven)
                let distributed = Swift.min(widths[i], Int(share))
                widths[i] -= distributed
                remaining -= distributed
                totalRatio -= 1
            }
        }
        return widths.map { $0 - 2 }
    }

    func render(_ rows: [[String]]) -> String {
        func rule(_ left: String, _ fill: String, _ mid: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0 + 2) }.joined(separator: mid) + right + "\n"
        }
        func lines(_ cells: [String], _ bar: String) -> String {
            let wrapped = cells.enumerated().map { RichTable.wrap($0.element, width: widths[$0.offset]) }
            let height = wrapped.map { $0.count }.max() ?? 1
            var out = ""
            for r in 0..<height {
                out += bar
                for (i, col) in wrapped.enumerated() {
                    let text = r < col.count ? col[r] : ""
                    let pad = String(repeating: " ", count: Swift.max(0, widths[i] - text.count))
                    out += " " + (rightAligned[i] ? pad + text : text + pad) + " " + bar
                }
                out += "\n"
            }
            return out
        }
        var out = rule("┏", "━", "┳", "┓")
        out += lines(header, "┃")
        out += rule("┡", "━", "╇", "┩")
        for (i, row) in rows.enumerated() {
            if i > 0 { out += rule("├", "─", "┼", "┤") }
            out += lines(row, "│")
        }
        out += rule("└", "─", "┴", "┘")
        return out
    }

    /// rich's `divide_line` without folding, then each line cropped with "…".
    static func wrap(_ text: String, width: Int) -> [String] {
        var words: [String] = []
        var current = ""
        var inSpace = false
        for ch in text {
            if ch == " " { inSpace = true; current.append(ch); continue }
            if inSpace { words.append(current); current = ""; inSpace = false }
            current.append(ch)
        }
        if !current.isEmpty { words.append(current) }
        var lines: [String] = []
        var line = ""
        for word in words {
            let bare = word.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || width - line.count >= bare.count {
                line += word
            } else {
                lines.append(line)
                line = word
            }
        }
        lines.append(line)
        return lines.map { l in
            let t = String(l.reversed().drop { $0 == " " }.reversed())
            return t.count > width ? String(t.prefix(width - 1)) + "…" : t
        }
    }
}
