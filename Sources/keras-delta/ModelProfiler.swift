import Delta
import Dispatch
import Foundation
import Layers
import Tensor

/// Time per layer and per layer class while it is installed, for
/// `keras-delta bench predict|train --profile`.
///
/// Forward time is each node's own time (a nested model's node counts only
/// what its own layers do not); backward time is that of the gradient
/// closures the layer's operations recorded. At inference, a convolution's
/// time includes the BatchNormalization, activation and Add fused into it.
public final class ModelProfiler: NodeObserving {
    public struct Entry: Codable, Sendable {
        public var layer: String
        public var className: String
        public var calls = 0
        /// Seconds over all profiled steps.
        public var forward = 0.0
        public var backward = 0.0
        public var total: Double { forward + backward }

        enum CodingKeys: String, CodingKey {
            case layer, calls, forward, backward
            case className = "class_name"
        }
    }

    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var stack: [(name: String, start: UInt64, children: UInt64)] = []

    public init() {}

    /// Runs `body` with this profiler installed.
    public func profiling<R>(_ body: () throws -> R) rethrows -> R {
        NodeObserver.current = self
        BackwardProfiler.observer = { [unowned self] scope, seconds in entries[scope]?.backward += seconds }
        defer {
            NodeObserver.current = nil
            BackwardProfiler.observer = nil
            BackwardProfiler.scope = nil
        }
        return try body()
    }

    public func willRun(_ layer: Layer) {
        if entries[layer.name] == nil {
            entries[layer.name] = Entry(layer: layer.name, className: type(of: layer).className)
            order.append(layer.name)
        }
        stack.append((layer.name, DispatchTime.now().uptimeNanoseconds, 0))
        BackwardProfiler.scope = layer.name
    }

    public func didRun(_ layer: Layer) {
        guard let top = stack.popLast() else { return }
        let elapsed = DispatchTime.now().uptimeNanoseconds - top.start
        entries[top.name]!.forward += Double(elapsed - min(elapsed, top.children)) * 1e-9
        entries[top.name]!.calls += 1
        if !stack.isEmpty { stack[stack.count - 1].children += elapsed }
        BackwardProfiler.scope = stack.last?.name
    }

    /// The layers in the order they first ran.
    public var layers: [Entry] { order.map { entries[$0]! } }

    /// Tables of time per layer class and the `top` slowest layers, per step,
    /// next to the measured step time (the rest is loss, optimizer and gradient sums).
    public func table(steps: Int, secondsPerStep: Double, top: Int) -> String {
        let perStep = 1000 / Double(max(steps, 1))
        let all = layers
        let training = all.contains { $0.backward > 0 }
        let ms = { (s: Double) in String(format: "%.2f", s * perStep) }
        let share = { (s: Double) in String(format: "%.1f %%", 100 * s * perStep / (1000 * secondsPerStep)) }
        func render(_ header: [String], _ rows: [[String]]) -> String {
            String(renderTable([header] + rows, rightAligned: Set(2..<header.count)).dropLast())
        }
        var byClass: [String: Entry] = [:]
        for e in all {
            byClass[e.className, default: Entry(layer: "", className: e.className)].calls += 1
            byClass[e.className]!.forward += e.forward
            byClass[e.className]!.backward += e.backward
        }
        let timeColumns = training ? ["forward ms", "backward ms", "total ms", "share"] : ["ms", "share"]
        let cells = { (e: Entry) in training ? [ms(e.forward), ms(e.backward), ms(e.total), share(e.total)] : [ms(e.forward), share(e.forward)] }
        let classRows = byClass.values.sorted { $0.total > $1.total }.map { [$0.className, "\($0.calls)"] + cells($0) }
        let layerRows = all.sorted { $0.total > $1.total }.prefix(top).map { [$0.layer, $0.className] + cells($0) }
        let inLayers = all.reduce(0) { $0 + $1.total } * perStep
        var out = String(format: "profile over %d steps: %.2f ms/step, %.2f ms in layers, %.2f ms elsewhere (loss, optimizer, gradient sums, dispatch)\n\n",
                         steps, 1000 * secondsPerStep, inLayers, 1000 * secondsPerStep - inLayers)
        out += "time per step by layer class\n" + render(["class", "layers"] + timeColumns, classRows)
        out += "\n\nslowest \(min(top, all.count)) layers, per step\n" + render(["layer", "class"] + timeColumns, Array(layerRows))
        return out
    }
}
