import Foundation
import Tensor
import XCTest
import Layers

// Helpers of FuzzTests: a seeded generator, byte and JSON mutations, a
// stored-zip reader and writer, and a runner for the `keras-delta` CLI in
// child processes with a time and memory limit.

/// The package's seeded generator with the draws the mutations need, so
/// every fuzz case can be reproduced from its seed.
struct FuzzRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// A number in `0..<n` (`n` > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

// MARK: Byte mutations

enum ByteMutation {
    /// Offsets worth hitting in an HDF5 file: the superblock, object headers,
    /// B-trees, local and global heaps (which hold the JSON configs and
    /// variable-length strings), and the config text itself.
    static func hotspots(_ data: [UInt8]) -> [Int] {
        var spots = [0, 8, 16, 24, 40, 56]
        let signatures = ["OHDR", "OCHK", "TREE", "HEAP", "SNOD", "GCOL", "FRHP", "FHDB", "BTHD", "BTLF", "FSHD",
                          "{\"class_name\"", "layer_names", "weight_names", "model_config", "keras_version"].map { Array($0.utf8) }
        guard data.count >= 4 else { return spots }
        for i in 0..<(data.count - 3) {
            for s in signatures where data[i] == s[0] && i + s.count <= data.count && Array(data[i..<i + s.count]) == s {
                spots.append(i)
            }
        }
        return spots
    }

    /// One random mutation of `data`, biased towards `hotspots`; returns the
    /// mutated bytes and a description of what was done.
    static func mutate(_ data: [UInt8], hotspots: [Int], _ rng: inout FuzzRandom) -> ([UInt8], String) {
        var d = data
        func offset() -> Int {
            if !hotspots.isEmpty, rng.chance(0.7) {
                return min(max(rng.pick(hotspots) + rng.below(160) - 16, 0), max(d.count - 1, 0))
            }
            return rng.below(d.count)
        }
        guard !d.isEmpty else { return ([0], "empty -> one byte") }
        switch rng.below(100) {
        case 0..<28:
            let n = 1 + rng.below(4)
            var where_: [String] = []
            for _ in 0..<n {
                let at = offset(), bit = rng.below(8)
                d[at] ^= UInt8(1 << bit)
                where_.append("\(at).\(bit)")
            }
            return (d, "bit flips at \(where_.joined(separator: ","))")
        case 28..<36:
            let at = rng.below(d.count)
            return (Array(d[..<at]), "truncated to \(at) bytes")
        case 36..<44:
            let at = offset(), n = 1 + rng.below(64)
            d.insert(contentsOf: rng.bytes(n), at: at)
            return (d, "\(n) bytes inserted at \(at)")
        case 44..<52:
            let at = offset(), n = min(1 + rng.below(64), d.count - at)
            d.removeSubrange(at..<at + n)
            return (d, "\(n) bytes deleted at \(at)")
        case 52..<80:
            // A zeroed block of 8 to 4,096 bytes (a sparse download, a bad sector).
            let at = offset(), n = min(8 + rng.below(4089), d.count - at)
            d.replaceSubrange(at..<at + n, with: [UInt8](repeating: 0, count: n))
            return (d, "\(n) bytes zeroed at \(at)")
        default:
            let at = offset(), n = min(1 + rng.below(8), d.count - at)
            let value: [UInt8] = rng.pick([[0x00], [0xFF], [0x7F], [0x80], []])
            let fill = value.isEmpty ? rng.bytes(n) : [UInt8](repeating: value[0], count: n)
            d.replaceSubrange(at..<at + n, with: fill)
            return (d, "\(n) bytes overwritten at \(at) with \(value.isEmpty ? "random" : String(format: "0x%02x", value[0]))")
        }
    }
}

// MARK: JSON mutations

enum JSONMutation {
    enum Step { case key(String), index(Int) }

    /// Every path in `value`, parents before children.
    static func paths(_ value: JSONValue, _ prefix: [Step] = [], into out: inout [[Step]]) {
        out.append(prefix)
        switch value {
        case .array(let a): for (i, v) in a.enumerated() { paths(v, prefix + [.index(i)], into: &out) }
        case .object(let o): for (k, v) in o { paths(v, prefix + [.key(k)], into: &out) }
        default: break
        }
    }

    static func get(_ value: JSONValue, _ path: ArraySlice<Step>) -> JSONValue? {
        guard let first = path.first else { return value }
        switch first {
        case .key(let k): return value[k].flatMap { get($0, path.dropFirst()) }
        case .index(let i): return value.arrayValue.flatMap { i < $0.count ? get($0[i], path.dropFirst()) : nil }
        }
    }

    /// `value` with the element at `path` replaced by `f(old)`; nil from `f` deletes it.
    static func update(_ value: JSONValue, _ path: ArraySlice<Step>, _ f: (JSONValue) -> JSONValue?) -> JSONValue? {
        guard let first = path.first else { return f(value) }
        switch (first, value) {
        case (.key(let k), .object(var o)):
            guard let child = o[k] else { return value }
            o[k] = update(child, path.dropFirst(), f)
            return .object(o)
        case (.index(let i), .array(var a)) where i < a.count:
            if let v = update(a[i], path.dropFirst(), f) { a[i] = v } else { a.remove(at: i) }
            return .array(a)
        default:
            return value
        }
    }

    static let absurdNumbers: [JSONValue] = [.int(1 << 40), .int(-(1 << 40)), .int(1 << 62), .int(Int.max), .int(Int.min),
                                             .int(0), .int(-1), .double(1e308), .double(-1e308), .double(1e-320),
                                             .double(.nan), .double(.infinity), .double(2.5)]
    static let otherTypes: [JSONValue] = [.null, .bool(true), .string("x"), .int(7), .double(-3.5), .array([]), .object([:]),
                                          .array([.int(1), .int(2)]), ["a": 1], .string("")]
    static let classNames = ["Mystery", "Custom>Unknown", "", "Dense", "Conv2D", "LSTM", "Sequential", "Functional", "Model",
                             "TFOpLambda", "Bidirectional", "TimeDistributed", "InputLayer", "Add", "Lambda", "__keras_tensor__"]

    /// One random structural edit of `root`, with a description.
    static func mutate(_ root: JSONValue, _ rng: inout FuzzRandom) -> (JSONValue, String) {
        var all: [[Step]] = []
        paths(root, into: &all)
        func describe(_ p: [Step]) -> String {
            "/" + p.map { if case .key(let k) = $0 { return k } else if case .index(let i) = $0 { return "\(i)" } else { return "" } }
                .joined(separator: "/")
        }
        func some(_ where_: (JSONValue, [Step]) -> Bool) -> [Step]? {
            let matching = all.filter { p in get(root, p[...]).map { where_($0, p) } ?? false }
            return matching.isEmpty ? nil : rng.pick(matching)
        }
        for _ in 0..<8 {
            switch rng.below(11) {
            case 0:  // delete a key or element
                guard let p = some({ _, p in !p.isEmpty }) else { continue }
                return (update(root, p[...]) { _ in nil } ?? .null, "deleted \(describe(p))")
            case 1:  // change a value's type
                guard let p = some({ _, _ in true }) else { continue }
                let v = rng.pick(otherTypes)
                return (update(root, p[...]) { _ in v } ?? v, "\(describe(p)) = \(v.serialized())")
            case 2, 3:  // absurd numbers
                guard let p = some({ v, _ in v.doubleValue != nil }) else { continue }
                let v = rng.pick(absurdNumbers)
                return (update(root, p[...]) { _ in v } ?? v, "\(describe(p)) = \(v.serialized())")
            case 4:  // absurd shapes: every number of a list of numbers
                guard let p = some({ v, _ in (v.arrayValue?.contains { $0.doubleValue != nil }) == true }) else { continue }
                let v = rng.pick([JSONValue.int(1 << 40), .int(1 << 31), .int(-1), .int(0), .int(1 << 62)])
                let edited = update(root, p[...]) { old in .array(old.arrayValue!.map { $0.doubleValue != nil ? v : $0 }) }
                return (edited ?? root, "\(describe(p)) numbers = \(v.serialized())")
            case 5:  // unknown or confused class names
                guard let p = some({ v, p in v.stringValue != nil && { if case .key("class_name") = p.last { return true }
                                                                      return false }() }) else { continue }
                let name = rng.pick(classNames)
                return (update(root, p[...]) { _ in .string(name) } ?? root, "\(describe(p)) = \"\(name)\"")
            case 6:  // deep nesting, below and beyond the parser's limit
                guard let p = some({ _, _ in true }) else { continue }
                let depth = rng.pick([100, 400, 511, 600, 5000])
                let edited = update(root, p[...]) { old in
                    var v = old
                    for _ in 0..<depth { v = .array([v]) }
                    return v
                }
                return (edited ?? root, "\(describe(p)) nested \(depth) deep")
            case 7:  // huge or odd strings
                guard let p = some({ v, _ in v.stringValue != nil }) else { continue }
                let s = rng.pick([String(repeating: "n", count: 1 << 20), "a/b:0", "\u{0}", "é\u{1F600}", "../../etc", " ", "two\nlines", "\r\n"])
                return (update(root, p[...]) { _ in .string(s) } ?? root, "\(describe(p)) = string of \(s.utf8.count) bytes")
            case 8:  // duplicate a list element (duplicate layer names, extra nodes)
                guard let p = some({ v, _ in (v.arrayValue?.isEmpty == false) }) else { continue }
                let edited = update(root, p[...]) { old in
                    var a = old.arrayValue!
                    a.append(a[rng.below(a.count)])
                    return .array(a)
                }
                return (edited ?? root, "duplicated an element of \(describe(p))")
            case 9:  // reverse a list (layer order, node order, shapes)
                guard let p = some({ v, _ in (v.arrayValue?.count ?? 0) > 1 }) else { continue }
                return (update(root, p[...]) { .array($0.arrayValue!.reversed()) } ?? root, "reversed \(describe(p))")
            default:  // swap two values of the same key name elsewhere
                guard let p = some({ _, p in !p.isEmpty }), let q = some({ _, p in !p.isEmpty }),
                      let a = get(root, p[...]), let b = get(root, q[...]) else { continue }
                let once = update(root, p[...]) { _ in b } ?? root
                return (update(once, q[...]) { _ in a } ?? once, "swapped \(describe(p)) and \(describe(q))")
            }
        }
        return (.null, "replaced by null")
    }

    /// A config's text edited as text (15 %) or as parsed JSON; with how.
    static func mutateConfig(_ text: String, _ rng: inout FuzzRandom) throws -> (String, String) {
        if rng.chance(0.15) { return mutateText(text, &rng) }
        let (value, how) = mutate(try JSONValue(parsing: text), &rng)
        return (value.serialized(), how)
    }

    /// A text-level edit of serialized JSON: truncation or a stray character.
    static func mutateText(_ text: String, _ rng: inout FuzzRandom) -> (String, String) {
        var bytes = Array(text.utf8)
        let at = rng.below(bytes.count)
        if rng.chance(0.5) { return (String(decoding: bytes[..<at], as: UTF8.self), "text truncated at \(at)") }
        let c = rng.pick(Array("{}[],:\"\\0-e.x ".utf8) + [0xFF, 0xC3])
        bytes.insert(c, at: at)
        return (String(decoding: bytes, as: UTF8.self), "byte \(c) inserted at \(at)")
    }
}

// MARK: Stored zip archives

/// Reads and writes zip archives whose members are stored uncompressed, as
/// Keras writes `.keras` files.
enum StoredZipArchive {
    /// The members of `zip`, in order, from its central directory.
    static func members(_ zip: [UInt8]) throws -> [(String, [UInt8])] {
        func u16(_ at: Int) -> Int { Int(zip[at]) | Int(zip[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let end = try XCTUnwrap((0...(zip.count - 22)).reversed().first { zip[$0..<$0 + 4].elementsEqual([0x50, 0x4B, 5, 6]) },
                                "no end of central directory")
        var at = u32(end + 16)
        var out: [(String, [UInt8])] = []
        for _ in 0..<u16(end + 10) {
            XCTAssertTrue(zip[at..<at + 4].elementsEqual([0x50, 0x4B, 1, 2]), "central directory entry")
            XCTAssertEqual(u16(at + 10), 0, "member is stored uncompressed")
            let size = u32(at + 20), nameLength = u16(at + 28), local = u32(at + 42)
            let name = String(decoding: zip[at + 46..<at + 46 + nameLength], as: UTF8.self)
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            out.append((name, Array(zip[start..<start + size])))
            at += 46 + nameLength + u16(at + 30) + u16(at + 32)
        }
        return out
    }

    /// A zip archive of `members`, stored, with correct checksums.
    static func archive(_ members: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        for (name, data) in members {
            let n = Array(name.utf8), crc = Int(crc32(data)), offset = out.count
            let common = le(20, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4) + le(data.count, 4) + le(data.count, 4)
                + le(n.count, 2) + le(0, 2)
            out += [0x50, 0x4B, 3, 4] + common + n + data
            central += [0x50, 0x4B, 1, 2] + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + n
        }
        let centralOffset = out.count
        out += central
        out += [0x50, 0x4B, 5, 6] + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
            + le(central.count, 4) + le(centralOffset, 4) + le(0, 2)
        return out
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        crcTable.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            return ~crc
        }
    }
}

// MARK: The CLI in child processes

/// Runs `keras-delta` on many files, each in its own process under
/// `timeout` and `ulimit -v`, two shells at a time.
struct CLIFuzzRunner {
    /// The outcome of one child process.
    enum Outcome: Equatable {
        case loaded
        case rejected(String)   // exit status 2 with stderr
        case failed(Int32, String)   // another exit status
        case signal(Int32, String)
        case timeout
    }

    let binary: String
    /// A generous per-case limit: a hang, not a slow case, is what it catches.
    var seconds = 60
    var memoryKiB = 1_500_000

    /// The `keras-delta` built with the tests, or `$KERAS_DELTA_CLI`.
    static func locateBinary() -> String? {
        if let path = ProcessInfo.processInfo.environment["KERAS_DELTA_CLI"] { return path }
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("keras-delta").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// What a child process does with one damaged file.
    struct Job {
        enum Command { case summary, convert(model: String), stream }
        let file: String
        let command: Command

        /// The command line after the binary: `summary FILE`; `convert FILE
        /// OUT --model MODEL` (a weights-only file); `stream FILE` over a few
        /// synthetic frames with key frames (a delta model).
        var arguments: [String] {
            switch command {
            case .summary: return ["summary", file]
            case .convert(let model): return ["convert", file, file + ".out.weights.h5", "--model", model]
            case .stream: return ["stream", file, "--data", "synthetic", "--frames", "6", "--key-frame-every", "3"]
            }
        }
    }

    /// Where a crash happened.
    enum CrashSite: Equatable {
        /// In libhdf5, confirmed by valgrind (the first invalid access is made
        /// by libhdf5 on memory libhdf5 allocated).
        case libHDF5(String)
        /// Memory corruption with no Swift frame to blame and no valgrind to
        /// confirm where: reported, but not counted as ours.
        case unattributed(String)
        case ours(String)
    }

    static let valgrind = ["/usr/bin/valgrind", "/usr/local/bin/valgrind"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Reruns a crashing job to find where it crashed: Swift's own runtime
    /// failures are ours; otherwise valgrind names the code making the first
    /// invalid memory access.
    func classifyCrash(_ job: Job, stderr: String) -> CrashSite {
        let lines = stderr.split(separator: "\n").map(String.init)
        if let failure = lines.first(where: { $0.contains("Swift runtime failure") || $0.contains("Fatal error") }) {
            return .ours(failure.trimmingCharacters(in: .whitespaces) + " " + Self.crashFrames(lines))
        }
        // Without valgrind, or when valgrind's memory layout hides the fault:
        // the crashed thread's first frame outside the C library.
        func fromBacktrace(_ note: String) -> CrashSite {
            let frames = lines.drop { !$0.contains("crashed:") }.dropFirst().prefix { !$0.hasPrefix("Thread") }
                .filter { $0.contains(" in ") && !$0.contains(" in libc.so") }
            let summary = note + Self.crashFrames(lines)
            guard let first = frames.first else {
                return .unattributed(summary + "stderr: " + lines.prefix(6).joined(separator: " | ").prefix(300))
            }
            if first.contains("libhdf5") { return .libHDF5("backtrace: " + summary) }
            if first.contains("keras-delta") || first.contains(".swift:") { return .ours("backtrace: " + summary) }
            return .unattributed(summary)
        }
        guard let valgrind = Self.valgrind else { return fromBacktrace("no valgrind; ") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["120", valgrind, "-q", "--error-limit=no", "--exit-on-first-error=yes", "--error-exitcode=99",
                       "--num-callers=16", binary] + job.arguments
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        env["KERAS_DELTA_CRASH_GUARD"] = "off"
        p.environment = env
        guard (try? p.run()) != nil else { return .unattributed("valgrind did not start") }
        let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let block = report.split(separator: "\n").map(String.init).drop { !$0.contains("Invalid") && !$0.contains("uninitialised")
            && !$0.contains("Process terminating") }
        guard let first = block.first else { return fromBacktrace("valgrind finds no invalid access; ") }
        // The first frame outside valgrind's preloaded allocator and string functions.
        let culprit = block.dropFirst().first { ($0.contains("at 0x") || $0.contains("by 0x")) && !$0.contains("vgpreload") } ?? ""
        let allocator = block.first { $0.contains("alloc'd") }.flatMap { line in
            block.drop { $0 != line }.dropFirst().first { !$0.contains("vgpreload") && $0.contains("by 0x") } } ?? ""
        let summary = "\(first.drop { $0 == "=" || $0.isNumber }.trimmingCharacters(in: .whitespaces)) in "
            + "\(Self.symbol(culprit))" + (allocator.isEmpty ? "" : ", block allocated in \(Self.symbol(allocator))")
        let byLibHDF5 = culprit.contains("libhdf5") && (allocator.isEmpty || allocator.contains("libhdf5"))
        return byLibHDF5 ? .libHDF5("valgrind: " + summary) : .ours("valgrind: " + summary)
    }

    private static func symbol(_ frame: String) -> String {
        let parts = frame.components(separatedBy: ": ")
        return parts.count > 1 ? parts.dropFirst().joined(separator: ": ") : frame
    }

    /// The first symbolized frames of the crashed thread in Swift's backtrace.
    static func crashFrames(_ lines: [String]) -> String {
        lines.drop { !$0.contains("crashed:") }.dropFirst().prefix { !$0.hasPrefix("Thread") }
            .filter { $0.contains(" in ") }.prefix(4)
            .map { $0.components(separatedBy: " in ").dropFirst().joined(separator: " in ").prefix(90) }
            .joined(separator: " <- ")
    }

    /// Runs every job's command line; returns the outcomes in order.
    func run(_ jobs: [Job], in folder: URL, backtrace: Bool = false) throws -> [Outcome] {
        // One job a line: its file, then its arguments, separated by tabs.
        let script = """
            ulimit -c 0
            ulimit -v \(memoryKiB)
            set -f
            tab=$(printf '\\t')
            while IFS= read -r line; do
              IFS=$tab; set -- $line; IFS=' '
              file=$1; shift
              timeout -k 2 \(seconds) "$0" "$@" >/dev/null 2>"$file.err"
              echo $? >"$file.status"
            done <"$1"
            """
        let shells = 2
        var processes: [Process] = []
        for shell in 0..<shells {
            let list = folder.appendingPathComponent("jobs-\(shell).txt")
            let lines = jobs.enumerated().filter { $0.offset % shells == shell }.map { ([$0.element.file] + $0.element.arguments).joined(separator: "\t") + "\n" }
            try Data(lines.joined().utf8).write(to: list)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script, binary, list.path]
            if backtrace {
                var env = ProcessInfo.processInfo.environment
                env["KERAS_DELTA_CRASH_GUARD"] = "off"
                env["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,color=no,sanitize=no,threads=crashed,registers=none,images=none"
                p.environment = env
            }
            try p.run()
            processes.append(p)
        }
        for p in processes { p.waitUntilExit() }
        return jobs.map { job in
            let status = Int32((try? String(contentsOfFile: job.file + ".status", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
            let stderr = (try? String(contentsOfFile: job.file + ".err", encoding: .utf8)) ?? ""
            switch status {
            case 0: return .loaded
            case 2: return .rejected(stderr)
            case 124, 137: return .timeout
            case 129...192: return .signal(status - 128, stderr)
            default: return .failed(status, stderr)
            }
        }
    }
}
