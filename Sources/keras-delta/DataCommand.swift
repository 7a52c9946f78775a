import ArgumentParser
import Foundation
import KerasDelta

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Datasets.", subcommands: [SynthCommand.self])
}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Write the synthetic action set as clips.npy [N,T,H,W,3], labels.npy [N] and classes.txt.")

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String
    @Option(help: "Number of classes.") var classes: Int = 10
    @Option(help: "Number of clips.") var clips: Int = 200
    @Option(help: "Frames per clip.") var frames: Int = 8
    @Option(help: "Frame height and width in pixels.") var size: Int = 64
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "motion (the class is the motion) or appearance (the class is the object).") var mode: String = "motion"

    func run() throws {
        guard let m = SyntheticActionSet.Mode(rawValue: mode) else {
            throw CommandFailure(message: "--mode must be motion or appearance, got '\(mode)'", code: 2)
        }
        let set = try SyntheticActionSet(.init(mode: m, classCount: classes, clipCount: clips, frameCount: frames,
                                               height: size, width: size, seed: seed))
        let files = try set.writeNPY(to: URL(fileURLWithPath: output))
        print("wrote \(files.clips.path), \(files.labels.path), \(files.classNames.path)")
    }
}
