import ArgumentParser
import Foundation
import KerasDelta

/// `keras-delta`: the command-line contract of ../shared/docs/CLI.md.
@main
struct KerasDeltaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keras-delta",
        abstract: "Load Keras models in Swift, train them for temporal sparsity, and hand them back to Keras.",
        subcommands: [SummaryCommand.self, PredictCommand.self, ConvertCommand.self, FitCommand.self, EvaluateCommand.self,
                      DataCommand.self, DeltaizeCommand.self, RefineCommand.self, SparsityCommand.self, StreamCommand.self,
                      DemoCommand.self, BenchCommand.self])

    /// Runs the command and turns any error into one line on stderr and the
    /// contract's exit status: 2 for bad input, 1 for a failure of the work.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        // A fault inside libhdf5 on a corrupted file ends like any bad input
        // (KERAS_DELTA_CRASH_GUARD=off leaves the crash to the debugger).
        if ProcessInfo.processInfo.environment["KERAS_DELTA_CRASH_GUARD"] != "off" {
            CrashGuard.install(prefix: "keras-delta: ")
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as KerasIOError {
            fail(error.description, code: 2)
        } catch let error as LayerError {
            fail(error.description, code: 2)
        } catch let error as TensorError {
            fail(error.description, code: 2)
        } catch let error as HDF5Error {
            fail(error.description, code: 2)
        } catch let error as VideoError {
            fail(error.description, code: 2)
        } catch let error as TrainingError {
            if case .nonFinite = error { fail(error.description, code: 1) }
            fail(error.description, code: 2)
        } catch let error as DeltaError {
            fail(error.description, code: 2)
        } catch let error as DataSourceError {
            fail(error.description, code: 2)
        } catch let error as CommandFailure {
            fail(error.message, code: error.code)
        } catch {
            exit(withError: error)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("keras-delta: \(message.split(whereSeparator: \.isNewline).joined(separator: " "))\n".utf8))
        Foundation.exit(code)
    }
}

/// An error a command raises itself, with its exit status.
struct CommandFailure: Error {
    var message: String
    var code: Int32 = 1
}
