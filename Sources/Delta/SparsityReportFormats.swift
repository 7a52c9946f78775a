import Foundation
import Layers

/// A sparsity report with the optional comparison against a baseline, in the
/// three forms `keras-delta sparsity` writes: a terminal table, JSON
/// (CLI.md § JSON outputs) and a self-contained HTML page.
public struct SparsityComparison {
    public var model: SparsityReport
    /// The baseline measured at the same points, if any.
    public var baseline: SparsityReport?
    /// Top-1 agreement with a teacher, when one was given instead of labels.
    public var agreement: Double?

    public init(model: SparsityReport, baseline: SparsityReport? = nil, agreement: Double? = nil) {
        (self.model, self.baseline, self.agreement) = (model, baseline, agreement)
    }

    /// The baseline's spatial MACs ÷ this model's delta MACs: the paper's headline figure.
    public var densityReduction: Double? {
        guard let baseline else { return nil }
        let deltaMACs = model.total.deltaMACs
        return deltaMACs > 0 ? baseline.total.spatialMACs / deltaMACs : .infinity
    }

    // MARK: Table

    public var table: String {
        var rows = [["layer", "act. density", "Δ density", "fan-out", "dense MACs", "spatial MACs", "Δ MACs"]
                    + (baseline != nil ? ["baseline act."] : [])]
        let base = Dictionary((baseline?.layers ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for l in model.layers {
            rows.append([l.name, percent(l.activationDensity), percent(l.deltaDensity), formatNumber(l.fanOut),
                         formatMACs(l.denseMACs), formatMACs(l.spatialMACs), formatMACs(l.deltaMACs)]
                        + (baseline != nil ? [base[l.name].map { percent($0.activationDensity) } ?? "-"] : []))
        }
        let t = model.total
        rows.append(["total", percent(t.activationDensity), percent(t.deltaDensity), "", formatMACs(t.denseMACs),
                     formatMACs(t.spatialMACs), formatMACs(t.deltaMACs)] + (baseline != nil ? [percent(baseline!.total.activationDensity)] : []))
        var out = renderTable(rows, rightAligned: Set(1..<rows[0].count))
        if let r = densityReduction { out += "density reduction (baseline spatial MACs ÷ delta MACs): \(String(format: "%.2f", r))x\n" }
        if let a = model.accuracy {
            out += "accuracy: " + (baseline?.accuracy.map { "baseline \(percent($0)), " } ?? "") + "model \(percent(a))\n"
        }
        if let agreement { out += "top-1 agreement with the teacher: \(percent(agreement))\n" }
        return out
    }

    // MARK: JSON

    public var json: JSONValue {
        var object: JSONObject = ["layers": .array(model.layers.map { .object(Self.figures($0)) }),
                                  "total": .object(Self.totalFigures(model)),
                                  "clips": .int(model.predictions.count)]
        if let baseline {
            object["baseline"] = .object(["layers": .array(baseline.layers.map { .object(Self.figures($0)) }),
                                          "total": .object(Self.totalFigures(baseline))])
            object["density_reduction"] = densityReduction.map { .double($0) } ?? .null
        }
        if let a = model.accuracy {
            object["accuracy"] = .object(["baseline": baseline?.accuracy.map { .double($0) } ?? .null, "model": .double(a)])
        }
        if let agreement { object["agreement"] = .double(agreement) }
        return .object(object)
    }

    static func figures(_ l: LayerSparsity) -> JSONObject {
        ["name": .string(l.name), "activation_density": .double(l.activationDensity), "delta_density": .double(l.deltaDensity),
         "fan_out": .double(l.fanOut), "dense_macs": .double(l.denseMACs), "spatial_macs": .double(l.spatialMACs),
         "delta_macs": .double(l.deltaMACs)]
    }

    static func totalFigures(_ r: SparsityReport) -> JSONObject {
        let t = r.total
        return ["activation_density": .double(t.activationDensity), "delta_density": .double(t.deltaDensity),
                "dense_macs": .double(t.denseMACs), "spatial_macs": .double(t.spatialMACs), "delta_macs": .double(t.deltaMACs)]
    }

    // MARK: HTML

    /// One page, no external resources: an SVG bar chart of densities per
    /// layer (baseline activation density against delta density), one of MACs
    /// per layer, and the totals. Each bar carries `data-layer`, `data-series`
    /// and `data-value` (the plotted figure), so tests can read the chart.
    public func html(title: String) -> String {
        let base = Dictionary((baseline?.layers ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let densities: [(String, [(String, Double)])] = model.layers.map { l in
            (l.name, (base[l.name].map { [("baseline activation density", $0.activationDensity)] } ?? [])
                + [("activation density", l.activationDensity), ("delta density", l.deltaDensity)])
        }
        let macRows: [(String, [(String, Double)])] = model.layers.map { l in
            (l.name, (base[l.name].map { [("baseline spatial MACs", $0.spatialMACs)] } ?? [])
                + [("dense MACs", l.denseMACs), ("delta MACs", l.deltaMACs)])
        }
        let t = model.total
        var totals = [("dense MACs per frame", formatMACs(t.denseMACs)), ("spatial MACs per frame", formatMACs(t.spatialMACs)),
                      ("delta MACs per frame", formatMACs(t.deltaMACs)), ("activation density", percent(t.activationDensity)),
                      ("delta density", percent(t.deltaDensity))]
        if let r = densityReduction { totals.append(("density reduction", String(format: "%.2fx", r))) }
        if let a = model.accuracy { totals.append(("accuracy", percent(a))) }
        if let a = baseline?.accuracy { totals.append(("baseline accuracy", percent(a))) }
        if let agreement { totals.append(("agreement with teacher", percent(agreement))) }
        let totalRows = totals.map { "<tr><th>\(escape($0.0))</th><td id=\"total-\(slug($0.0))\">\(escape($0.1))</td></tr>" }.joined()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font:14px sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse}
        th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}.legend span{margin-right:16px}
        .sw{display:inline-block;width:10px;height:10px;margin-right:4px}</style></head><body>
        <h1>\(escape(title))</h1>
        <h2>Totals</h2><table id="totals">\(totalRows)</table>
        <h2>Density per layer</h2>
        \(barChart(id: "density-chart", rows: densities, maximum: 1, format: percent))
        <h2>MACs per frame per layer</h2>
        \(barChart(id: "macs-chart", rows: macRows, maximum: nil, format: formatMACs))
        </body></html>

        """
    }

    private func barChart(id: String, rows: [(String, [(String, Double)])], maximum: Double?,
                          format: (Double) -> String) -> String {
        let colors = ["#9aa5b1", "#3d7ebf", "#e07b39"]
        let series = rows.first?.1.map { $0.0 } ?? []
        let top = maximum ?? Swift.max(rows.flatMap { $0.1.map { $0.1 } }.max() ?? 1, 1e-12)
        let (labelWidth, barWidth, barHeight, gap) = (220.0, 420.0, 10.0, 8.0)
        let groupHeight = Double(series.count) * barHeight + gap
        let height = Double(rows.count) * groupHeight + 10
        var svg = "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + barWidth + 120))\" height=\"\(Int(height))\">"
        for (r, (layer, values)) in rows.enumerated() {
            let y0 = Double(r) * groupHeight + 5
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y0 + Double(values.count) * barHeight / 2 + 4)\" text-anchor=\"end\" font-size=\"11\">\(escape(layer))</text>"
            for (s, (name, value)) in values.enumerated() {
                let w = Swift.max(0, Swift.min(1, value / top)) * barWidth
                let y = y0 + Double(s) * barHeight
                svg += "<rect class=\"bar\" data-layer=\"\(escape(layer))\" data-series=\"\(escape(name))\" data-value=\"\(value)\" "
                    + "x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(String(format: "%.2f", w))\" height=\"\(barHeight - 1)\" fill=\"\(colors[s % colors.count])\">"
                    + "<title>\(escape(layer)) — \(escape(name)): \(escape(format(value)))</title></rect>"
                svg += "<text x=\"\(labelWidth + w + 4)\" y=\"\(y + barHeight - 2)\" font-size=\"9\">\(escape(format(value)))</text>"
            }
        }
        svg += "</svg>"
        let legend = series.enumerated().map { "<span><i class=\"sw\" style=\"background:\(colors[$0 % colors.count])\"></i>\(escape($1))</span>" }.joined()
        return "<div class=\"legend\">\(legend)</div>\(svg)"
    }
}

func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

/// MACs as a table shows them: `442.4k`, `1.18M`, `2.05G`.
public func formatMACs(_ x: Double) -> String {
    switch x {
    case 1e9...: return String(format: "%.2fG", x / 1e9)
    case 1e6...: return String(format: "%.2fM", x / 1e6)
    case 1e3...: return String(format: "%.1fk", x / 1e3)
    default: return String(format: "%.0f", x)
    }
}

private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

private func slug(_ s: String) -> String { s.lowercased().replacingOccurrences(of: " ", with: "-") }
