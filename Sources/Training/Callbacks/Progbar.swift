import Foundation

/// Keras's progress bar (`keras.utils.Progbar`): on a terminal one line
/// redrawn in place, `3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.5000 - loss: 0.6931`;
/// otherwise (a pipe or file) the same line, uncolored, once per finished bar.
final class Progbar {
    let target: Int
    let verbose: Int
    let width = 20
    let interval: TimeInterval = 0.05
    let unit = "step"
    private let output: (String) -> Void
    private let dynamic: Bool
    private var values: [(String, Double)] = []
    private let start = Date()
    private var lastUpdate: Date = .distantPast
    private var timeAfterFirstStep: Date?
    private var previousWidth = 0

    init(target: Int, verbose: Int, dynamic: Bool, output: @escaping (String) -> Void) {
        self.target = target
        self.verbose = verbose
        self.dynamic = dynamic
        self.output = output
    }

    /// Shows progress `current` of `target` with the latest metric values.
    func update(_ current: Int, values newValues: [(String, Double)], finalize: Bool) {
        for (k, v) in newValues {
            if let i = values.firstIndex(where: { $0.0 == k }) { values[i].1 = v } else { values.append((k, v)) }
        }
        let now = Date()
        let perStep = stepDuration(current, now)
        if verbose == 2 {
            guard finalize, target > 0 else { return }
            output("\(counter(current)) - \(Int((now.timeIntervalSince(start)).rounded()))s -\(Progbar.formatTime(perStep, unit))\(metricsText)\n")
            return
        }
        guard verbose == 1 else { return }
        if !finalize && (now.timeIntervalSince(lastUpdate) < interval || !dynamic) { return }
        lastUpdate = now
        let filled = target > 0 ? Int(Double(width) * Double(current) / Double(target)) : 0
        let bar: String, plainBar: String
        if target > 0 {
            let done = String(repeating: "━", count: filled), rest = String(repeating: "━", count: width - filled)
            plainBar = "\(counter(current)) \(done)\(rest)"
            bar = "\u{1B}[1m\(counter(current))\u{1B}[0m " + (filled > 0 ? "\u{1B}[32m\(done)\u{1B}[0m" : "") + "\u{1B}[37m\(rest)\u{1B}[0m"
        } else {
            plainBar = String(format: "%7d/Unknown", current)
            bar = plainBar
        }
        let time: String
        if target > 0 && !finalize {
            time = Progbar.formatETA(perStep * Double(target - current))
        } else {
            time = "\(Int(now.timeIntervalSince(start).rounded()))s"
        }
        let tail = "\(Progbar.formatTime(perStep, unit))\(metricsText)"
        guard dynamic else {
            output("\(plainBar) \(time)\(tail)\n")
            return
        }
        let visibleWidth = plainBar.count + 1 + time.count + tail.count
        var message = String(repeating: "\u{8}", count: previousWidth) + "\r\(bar) \u{1B}[1m\(time)\u{1B}[0m\(tail)"
        if previousWidth > visibleWidth { message += String(repeating: " ", count: previousWidth - visibleWidth) }
        if finalize { message += "\n" }
        output(message)
        previousWidth = visibleWidth
    }

    private func counter(_ current: Int) -> String {
        let digits = String(target).count
        return String(repeating: " ", count: Swift.max(0, digits - String(current).count)) + "\(current)/\(target)"
    }

    private var metricsText: String {
        values.map { k, v in " - \(k): " + (Swift.abs(v) > 1e-3 ? String(format: "%.4f", v) : String(format: "%.4e", v)) }.joined()
    }

    private func stepDuration(_ current: Int, _ now: Date) -> Double {
        guard current > 0 else { return 0 }
        let perStep: Double
        if let t = timeAfterFirstStep, current > 1 {
            perStep = now.timeIntervalSince(t) / Double(current - 1)
        } else {
            perStep = now.timeIntervalSince(start) / Double(current)
        }
        if current == 1 { timeAfterFirstStep = now }
        return perStep
    }

    static func formatTime(_ seconds: Double, _ unit: String) -> String {
        if seconds >= 1 || seconds == 0 { return " \(Int(seconds.rounded()))s/\(unit)" }
        if seconds >= 1e-3 { return " \(Int((seconds * 1e3).rounded()))ms/\(unit)" }
        return " \(Int((seconds * 1e6).rounded()))us/\(unit)"
    }

    static func formatETA(_ eta: Double) -> String {
        let s = Int(eta)
        if eta > 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60) }
        if eta > 60 { return String(format: "%d:%02d", s / 60, s % 60) }
        return "\(s)s"
    }
}
