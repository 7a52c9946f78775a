import HDF5
import XCTest

/// Child and attribute listing in creation and name order, on `order.h5`
/// (h5py, `track_order=True`) and on files this library writes.
final class ChildOrderTests: XCTestCase {
    func testTrackedGroupListsChildrenInCreationOrder() throws {
        let file = try Fixtures.open("order.h5")
        let expected = try XCTUnwrap(Fixtures.expected().order["/"])
        XCTAssertEqual(try file.childNames(order: .creation), expected.creation)
        XCTAssertEqual(try file.childNames(order: .name), expected.name)
        XCTAssertEqual(try file.childNames(), expected.name)
        for (name, kind) in try XCTUnwrap(expected.kinds) {
            XCTAssertEqual(try file.kind(of: name), kind == "group" ? .group : .dataset, name)
        }
        XCTAssertEqual(try file.attributeNames(order: .creation), expected.attributes_creation)
        XCTAssertEqual(try file.attributeNames(order: .name), expected.attributes_name)
    }

    func testUntrackedGroupFallsBackToNameOrder() throws {
        let group = try Fixtures.open("order.h5").group("/zeta/untracked")
        let expected = try XCTUnwrap(Fixtures.expected().order["/zeta/untracked"])
        XCTAssertEqual(try group.childNames(order: .creation), expected.creation)
        XCTAssertEqual(try group.childNames(order: .name), expected.name)
    }

    func testKerasFileWithoutTrackingListsByName() throws {
        let weights = try Fixtures.open("keras3_model.h5").group("model_weights")
        XCTAssertEqual(try weights.childNames(order: .creation), ["d1", "d2", "top_level_model_weights"])
    }

    func testContains() throws {
        let file = try Fixtures.open("datasets.h5")
        XCTAssertTrue(file.contains("model_weights"))
        XCTAssertTrue(file.contains("model_weights/dense/dense/kernel:0"))
        XCTAssertTrue(file.contains("/model_weights/dense"))
        XCTAssertTrue(file.contains("/"))
        XCTAssertTrue(try file.group("model_weights").contains("dense/dense/kernel:0"))
        XCTAssertFalse(file.contains(""))
        XCTAssertFalse(file.contains("missing"))
        XCTAssertFalse(file.contains("missing/deeper/still"))
        XCTAssertFalse(file.contains("float32_rank1/inside_a_dataset"))
    }

    func testGroupsThisLibraryCreatesTrackCreationOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("order.h5")
        let created = ["zeta", "alpha", "mu", "beta"]
        do {
            let file = try HDF5File(path: path, mode: .create)
            let nested = try file.createGroup("outer")
            for name in created {
                try nested.createGroup(name)
                try file.createDataset("data_\(name)", shape: [], values: [Float(1)])
            }
            // Intermediate groups inherit their parent's tracking.
            try file.createDataset("implicit/zz/w", shape: [1], values: [Float(1)])
            try file.createDataset("implicit/aa/w", shape: [1], values: [Float(1)])
            for name in ["z", "a", "m"] { try nested.writeAttribute(name, scalar: Int32(1)) }
        }
        let file = try HDF5File(path: path)
        XCTAssertEqual(try file.group("outer").childNames(order: .creation), created)
        XCTAssertEqual(try file.group("outer").childNames(order: .name), created.sorted())
        XCTAssertEqual(try file.childNames(order: .creation), ["outer"] + created.map { "data_\($0)" } + ["implicit"])
        XCTAssertEqual(try file.group("implicit").childNames(order: .creation), ["zz", "aa"])
        XCTAssertEqual(try file.group("outer").attributeNames(order: .creation), ["z", "a", "m"])
        XCTAssertEqual(try file.group("outer").attributeNames(), ["a", "m", "z"])
    }
}
