import Foundation

/// A plain-text table with a rule under the header; `rightAligned` columns line up numbers.
public func renderTable(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    guard let header = rows.first else { return "" }
    let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    func line(_ row: [String]) -> String {
        row.enumerated().map { c, cell in
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            return rightAligned.contains(c) ? pad + cell : cell + pad
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
    }
    let rule = String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
    return line(header) + rule + rows.dropFirst().map(line).joined()
}

/// A number as a table shows it: integers plainly, others with 4 significant digits.
func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int(x)) }
    return String(format: "%.4g", x)
}
