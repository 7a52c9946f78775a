import Foundation

extension SyntheticActionSet {
    /// The files ``writeNPY(to:scaling:)`` writes.
    public struct ExportedFiles: Equatable {
        /// float32 `[N, T, H, W, 3]`.
        public let clips: URL
        /// int32 `[N]`, 0-based class indices.
        public let labels: URL
        /// One class name per line, in label order.
        public let classNames: URL
    }

    /// Clips generated per step of the export (bounds memory; generated in parallel).
    private static let exportChunk = 32

    /// Writes the whole set into `folder` (created when missing) as
    /// `clips.npy`, `labels.npy` and `classes.txt`, for use outside Swift
    /// (`keras-delta data synth`). Each file is written to a temporary file
    /// and renamed, so none is ever left half-written; memory stays bounded
    /// whatever the clip count.
    /// - Parameter scaling: how sample values are stored (0–255 by default).
    public func writeNPY(to folder: URL, scaling: PixelScaling = .raw) throws -> ExportedFiles {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw VideoError.writeFailed(folder.path, detail: "cannot create the folder")
        }
        let c = configuration
        let files = ExportedFiles(clips: folder.appendingPathComponent("clips.npy"),
                                  labels: folder.appendingPathComponent("labels.npy"),
                                  classNames: folder.appendingPathComponent("classes.txt"))

        let clipWriter = try NPYWriter(url: files.clips, type: .float32,
                                       shape: [count, c.frameCount, c.height, c.width, VideoClip.channels])
        for start in stride(from: 0, to: count, by: Self.exportChunk) {
            let chunk = Array(start..<min(start + Self.exportChunk, count))
            let batch = try ClipBatch(makeClips(chunk), layout: .timeAxis, scaling: scaling)
            try clipWriter.write(batch.clips.scalars)
        }
        let labelWriter = try NPYWriter(url: files.labels, type: .int32, shape: [count])
        try labelWriter.write((0..<count).map { Int32(label(at: $0)) })

        let names = Data((classNames.joined(separator: "\n") + "\n").utf8)
        let namesTemporary = folder.appendingPathComponent(".classes.txt.\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try names.write(to: namesTemporary)
        } catch {
            throw VideoError.writeFailed(files.classNames.path, detail: error.localizedDescription)
        }
        try clipWriter.commit()
        try labelWriter.commit()
        guard rename(namesTemporary.path, files.classNames.path) == 0 else {
            try? FileManager.default.removeItem(at: namesTemporary)
            throw VideoError.writeFailed(files.classNames.path, detail: String(cString: strerror(errno)))
        }
        return files
    }

    /// The clips at `indices`, generated concurrently on all cores.
    public func makeClips(_ indices: [Int]) -> [LabeledClip] {
        var clips = [LabeledClip?](repeating: nil, count: indices.count)
        clips.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            DispatchQueue.concurrentPerform(iterations: indices.count) { slots[$0] = clip(at: indices[$0]) }
        }
        return clips.map { $0! }
    }
}
