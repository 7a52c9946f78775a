import Foundation
import KerasDelta

/// Clips from a DATA argument (CLI.md § Data sources), sized for `model`.
func loadClips(_ spec: String, for model: Model, limit: Int) throws -> ClipSet {
    let shape = model.inputs[0].shape
    let explicitTime = hasExplicitTimeAxis(model)
    let frame = Array(shape.dropFirst(explicitTime ? 2 : 1))
    guard frame.count == 3, let height = frame[0], let width = frame[1], frame[2] == 3 else {
        throw CommandFailure(message: "\(model.name): the model input \(formatShape(shape)) is not RGB frames", code: 2)
    }
    let deltaClip = model.executionOrder.compactMap { ($0.layer as? DeltaActivation)?.clipLength }.first
    let frames = explicitTime ? (shape[1] ?? 8) : (deltaClip ?? 8)
    if spec == "synthetic" || spec.hasPrefix("synthetic:") {
        var c = SyntheticActionSet.Configuration(mode: .appearance, classCount: 6, clipCount: limit, frameCount: frames,
                                                 height: height, width: width, seed: 1)
        for pair in spec.dropFirst("synthetic".count).split(separator: ":").joined().split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw CommandFailure(message: "\(spec): expected key=value, got '\(pair)'", code: 2) }
            switch kv[0] {
            case "mode":
                guard let m = SyntheticActionSet.Mode(rawValue: kv[1]) else { throw CommandFailure(message: "\(spec): mode must be motion or appearance", code: 2) }
                c.mode = m
            case "classes": c.classCount = try int(kv[1], spec)
            case "clips": c.clipCount = try int(kv[1], spec)
            case "frames": c.frameCount = try int(kv[1], spec)
            case "seed": c.seed = UInt64(try int(kv[1], spec))
            case "size": (c.height, c.width) = (try int(kv[1], spec), try int(kv[1], spec))
            default: throw CommandFailure(message: "\(spec): unknown key '\(kv[0])'", code: 2)
            }
        }
        let set = try SyntheticActionSet(c)
        let n = min(limit, set.count)
        let clips = (0..<n).map { set.clip(at: $0) }
        return try ClipSet(clips: clips.map { $0.clip.tensor() }, labels: clips.map { $0.label })
    }
    let folder = URL(fileURLWithPath: spec)
    let clipsURL = folder.appendingPathComponent("clips.npy")
    guard FileManager.default.fileExists(atPath: clipsURL.path) else {
        throw CommandFailure(message: "\(spec): not a data-synth folder (no clips.npy) and not synthetic[:…]", code: 2)
    }
    let all = try Tensor(npyFile: clipsURL)
    guard all.rank == 5 else { throw CommandFailure(message: "\(clipsURL.path): clips must be [N,T,H,W,3], got \(all.shape)", code: 2) }
    let n = min(limit, all.shape[0]), per = all.count / all.shape[0]
    let clips = (0..<n).map { i in Tensor(shape: Array(all.shape.dropFirst()), scalars: Array(all.scalars[(i * per)..<((i + 1) * per)])) }
    let labelsURL = folder.appendingPathComponent("labels.npy")
    let labels = FileManager.default.fileExists(atPath: labelsURL.path)
        ? Array(try Tensor(npyFile: labelsURL).scalars.prefix(n).map { Int($0) }) : nil
    return try ClipSet(clips: clips, labels: labels)
}

private func int(_ s: String, _ spec: String) throws -> Int {
    guard let v = Int(s), v > 0 else { throw CommandFailure(message: "\(spec): '\(s)' is not a positive integer", code: 2) }
    return v
}
