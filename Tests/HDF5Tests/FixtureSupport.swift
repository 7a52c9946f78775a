import Foundation
import XCTest
import HDF5

/// Locates the h5py-written fixtures and the values `tools/gen_hdf5_fixtures.py`
/// recorded in `expected.json`.
enum Fixtures {
    static var directory: URL {
        get throws {
            try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "Fixtures missing from the test bundle")
        }
    }

    static func path(_ name: String) throws -> String {
        try directory.appendingPathComponent(name).path
    }

    static func open(_ name: String) throws -> HDF5File {
        try HDF5File(path: path(name))
    }

    static func expected() throws -> Expected {
        let data = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data)
    }
}

/// The shape of `expected.json`.
struct Expected: Decodable {
    struct AttributeRecord: Decodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let count: Int
        let values: Values
        let encoding: String?
        let form: String?
        let padding: String?
    }

    struct DatasetRecord: Decodable {
        let path: String
        let dtype: String
        let shape: [Int]
        let values: Values
    }

    struct OrderRecord: Decodable {
        let creation: [String]
        let name: [String]
        let kinds: [String: String]?
        let attributes_creation: [String]?
        let attributes_name: [String]?
    }

    struct KerasModel: Decodable {
        struct Weight: Decodable {
            let shape: [Int]
            let values: [Double]
        }

        struct Layer: Decodable {
            let weight_names: [String]
            let weights: [String: Weight]
        }

        let keras_version: String
        let backend: String
        let model_config: String
        let layer_names: [String]
        let layers: [String: Layer]
    }

    let versions: [String: String]
    let attributes: [String: [AttributeRecord]]
    let datasets: [DatasetRecord]
    let order: [String: OrderRecord]
    let keras_models: [String: KerasModel]
}

/// A JSON list of strings, integers or reals (an empty list decodes as strings).
enum Values: Decodable, Equatable {
    case strings([String])
    case integers([Int64])
    case reals([Double])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let strings = try? container.decode([String].self) {
            self = .strings(strings)
        } else if let integers = try? container.decode([Int64].self) {
            self = .integers(integers)
        } else {
            self = .reals(try container.decode([Double].self))
        }
    }

    /// Every value as a Double (exact for the fixture values).
    var doubles: [Double]? {
        switch self {
        case .strings(let strings): return strings.isEmpty ? [] : nil
        case .integers(let integers): return integers.map(Double.init)
        case .reals(let reals): return reals
        }
    }
}

/// A directory for files a test writes, removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("HDF5Tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Asserts that `body` throws an `HDF5Error` of `kind` whose one-line
/// description starts with the file path and names the object, and returns it.
@discardableResult
func assertHDF5Error<T>(_ kind: HDF5Error.Kind, file: String, object: String, containing fragment: String? = nil,
                        _ body: @autoclosure () throws -> T, line: UInt = #line) -> HDF5Error? {
    do {
        _ = try body()
        XCTFail("expected an HDF5Error of kind \(kind), nothing was thrown", line: line)
        return nil
    } catch let error as HDF5Error {
        XCTAssertEqual(error.kind, kind, "\(error)", line: line)
        XCTAssertEqual(error.filePath, file, line: line)
        XCTAssertEqual(error.objectPath, object, line: line)
        XCTAssertTrue(error.description.hasPrefix("\(file): \(object): "), error.description, line: line)
        XCTAssertFalse(error.description.contains("\n"), error.description, line: line)
        if let fragment {
            XCTAssertTrue(error.description.contains(fragment), "\(error) does not mention '\(fragment)'", line: line)
        }
        return error
    } catch {
        XCTFail("expected an HDF5Error, got \(error)", line: line)
        return nil
    }
}
