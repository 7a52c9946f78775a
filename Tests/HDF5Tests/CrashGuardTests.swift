import CHDF5
import Foundation
@testable import HDF5
import XCTest

/// The crash guard proven on a real fault: libhdf5's own VLEN conversion
/// (which the package no longer uses) copies 256 MiB out of a 4 KiB heap
/// collection whose object size was raised, and faults. The read runs in a
/// child process (this test binary run again on one test), once guarded and
/// once not.
final class CrashGuardTests: XCTestCase {
    static let childVariable = "KD_CRASH_GUARD_CHILD"

    /// A file whose VLEN attribute `x` makes `H5Aread` with a C-string memory type fault.
    private static func faultingFile(in directory: TemporaryDirectory) throws -> String {
        let path = directory.path("fault.h5")
        do {
            let file = try HDF5File(path: path, mode: .create)
            try file.writeAttribute("x", string: "kernel", encoding: .ascii, form: .variableLength)
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let at = try XCTUnwrap((0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(Array("GCOL".utf8)) })
        // The first object's size (after the 16-byte collection header and 8 bytes of object header).
        for i in 0..<8 { bytes[at + 24 + i] = UInt8(truncatingIfNeeded: (UInt64(1) << 28) >> (8 * UInt64(i))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs `testChildFaultingRead` in a child process; returns its exit status
    /// (negative: killed by that signal) and stderr.
    private func runChild(_ mode: String, _ path: String) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        p.arguments = ["HDF5Tests.CrashGuardTests/testChildFaultingRead"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = mode + ":" + path
        environment["SWIFT_BACKTRACE"] = "enable=no"
        p.environment = environment
        let errors = Pipe()
        p.standardError = errors
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let status = p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus
        return (status, text)
    }

    func testGuardEndsARealFaultInsideAGuardedRead() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.faultingFile(in: directory)
        let (unguarded, _) = try runChild("unguarded", path)
        XCTAssertEqual(unguarded, -SIGSEGV, "the read must really fault without the guard")
        let (status, stderr) = try runChild("guarded", path)
        XCTAssertEqual(status, 2, stderr)
        XCTAssertEqual(stderr, "child: \(path): /: libhdf5 crashed reading attribute 'x'; the file is corrupted\n")
    }

    /// Only does something as the child of the test above.
    func testChildFaultingRead() throws {
        guard let request = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("runs as the child process of testGuardEndsARealFaultInsideAGuardedRead")
        }
        let mode = request.prefix { $0 != ":" }, path = String(request.drop { $0 != ":" }.dropFirst())
        if mode == "guarded" { CrashGuard.install(prefix: "child: ") }
        kd_h5_silence_error_printing()
        let file = H5Fopen(path, kd_h5f_acc_rdonly(), kd_h5p_default())
        let attribute = H5Aopen(file, "x", kd_h5p_default())
        let type = H5Tcopy(kd_h5t_c_s1())
        H5Tset_size(type, kd_h5t_variable())
        var text: UnsafeMutablePointer<CChar>?
        let status = CrashGuard.guarded(filePath: path, objectPath: "/", "reading attribute 'x'") { H5Aread(attribute, type, &text) }
        // Not reached when the read faults.
        FileHandle.standardError.write(Data("no fault: status \(status)\n".utf8))
        exit(3)
    }
}
