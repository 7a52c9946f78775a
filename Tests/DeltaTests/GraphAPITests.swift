import XCTest
import Tensor
@testable import Layers

/// The public graph API: the walker, the graph queries and `Model.clone`.
final class GraphAPITests: XCTestCase {
    /// x → conv → BN → relu ─┬→ conv2 → add → gap → dense
    ///                       └─────────────↗
    private func residualModel() throws -> Model {
        let x = Input(shape: [6, 6, 3], name: "x")
        let c = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", name: "conv")(x)
        let b = try BatchNormalization(name: "bn")(c)
        let r = try ReLU(name: "relu")(b)
        let c2 = try Conv2D(filters: 4, kernelSize: [3, 3], padding: "same", name: "conv2")(r)
        let a = try Add(name: "add")([c2, r])[0]
        let g = try GlobalAveragePooling2D(name: "gap")(a)
        let y = try Dense(units: 3, name: "dense")(g)
        let model = try Model(inputs: [x], outputs: [y], name: "residual")
        try randomizeWeights(model, seed: 7)
        return model
    }

    private let input = seededTensor([2, 6, 6, 3], seed: 1)

    func testQueries() throws {
        let model = try residualModel()
        XCTAssertEqual(model.executionOrder.map { $0.layer.name }, ["conv", "bn", "relu", "conv2", "add", "gap", "dense"])
        let relu = try model.layer(named: "relu")
        let reluOut = model.executionOrder[2]
        XCTAssertTrue(reluOut.layer === relu)
        // The relu output is read by conv2 and by add.
        let readers = model.consumers(of: try tensor(model, "relu"))
        XCTAssertEqual(readers.map { $0.layer.name }, ["conv2", "add"])
        XCTAssertTrue(model.producer(of: model.outputs[0]).layer === (try model.layer(named: "dense")))
        XCTAssertEqual(model.readCounts[model.outputs[0].id], 1)
    }

    /// The output tensor of a named layer, found through the graph queries.
    private func tensor(_ model: Model, _ layer: String) throws -> KerasTensor {
        let add = try XCTUnwrap(model.executionOrder.first { $0.layer.name == "add" })
        return try XCTUnwrap(add.inputs.first { $0.layer.name == layer })
    }

    func testWalkerInfersShapesAndComputesWhatCallComputes() throws {
        let model = try residualModel()
        let shapes = try model.runThroughGraph([[5, 6, 6, 3] as Shape]) { node, s, _ in try node.layer.computeOutputShapes(s) }
        XCTAssertEqual(shapes, [[5, 3]])
        XCTAssertEqual(try model.computeOutputShapes([[5, 6, 6, 3]]), [[5, 3]])
        let walked = try model.runThroughGraph([input]) { node, args, _ in try node.layer(args, training: false) }
        // Model.call at inference runs the fused chains: the same numbers within float rounding.
        assertNear(walked[0], try model.predictOnBatch([input])[0], tolerance: 1e-5, "walk vs fused call")
    }

    func testSequentialRunsFusedThroughTheWalker() throws {
        let model = try Sequential([InputLayer(batchShape: [nil, 6, 6, 3]),
                                    Conv2D(filters: 4, kernelSize: [3, 3], name: "c"), BatchNormalization(name: "b"),
                                    ReLU(name: "r"), GlobalAveragePooling2D(name: "g"), Dense(units: 2, name: "d")])
        try randomizeWeights(model, seed: 3)
        XCTAssertEqual(model.inferenceFusion.count, 1, "conv + BN + ReLU planned as one fused chain")
        let plain = try model.runThroughGraph([input]) { node, args, _ in try node.layer(args, training: false) }
        assertNear(try model.predictOnBatch([input])[0], plain[0], tolerance: 1e-5, "fused Sequential")
    }

    func testCloneCopiesSharesOrRenews() throws {
        let model = try residualModel()
        let expected = try model.predictOnBatch([input])[0]
        let copy = try model.clone(weights: .copy)
        XCTAssertEqual(try copy.predictOnBatch([input])[0], expected)
        XCTAssertEqual(copy.layers.map { $0.name }, model.layers.map { $0.name })
        XCTAssertFalse(copy.layers.contains { l in model.layers.contains { $0 === l } }, "a copy has its own layers")
        // Changing the copy leaves the original alone.
        try copy.weights[0].assign(Tensor.zeros(copy.weights[0].shape))
        XCTAssertEqual(try model.predictOnBatch([input])[0], expected)

        let shared = try model.clone(weights: .share)
        XCTAssertTrue(shared.layers.dropFirst().allSatisfy { l in model.layers.contains { $0 === l } })
        XCTAssertEqual(try shared.predictOnBatch([input])[0], expected)

        let fresh = try model.clone(weights: .fresh)
        XCTAssertNotEqual(try fresh.predictOnBatch([input])[0], expected)
    }

    func testCloneInsertsLayersThroughTheCallFunction() throws {
        let model = try residualModel()
        // Doubling the relu output doubles both readers' input: conv2 (linear, so its kernel part
        // doubles) and the add. Checked against the same insertion written by hand.
        let clone = try model.clone(weights: .share) { layer, args, node in
            let out = try layer(args)
            return node.layer.name == "relu" ? [try Rescaling(scale: 2, name: "twice")(out[0])] : out
        }
        XCTAssertEqual(clone.layers.map { $0.name }, ["x", "conv", "bn", "relu", "twice", "conv2", "add", "gap", "dense"])
        let byHand = try model.runThroughGraph([input]) { node, args, _ in
            let out = try node.layer(args, training: false)
            return node.layer.name == "relu" ? [try out[0] * 2] : out
        }
        assertNear(try clone.predictOnBatch([input])[0], byHand[0], tolerance: 1e-5, "inserted Rescaling")
    }

    func testSequentialCloneStaysSequential() throws {
        let model = try Sequential([InputLayer(batchShape: [nil, 4]), Dense(units: 3, activation: "relu", name: "a"),
                                    Dense(units: 2, name: "b")])
        try randomizeWeights(model, seed: 5)
        let clone = try model.clone(weights: .copy) { layer, args, _ in
            let out = try layer(args)
            return layer.name == "a" ? [try Dropout(rate: 0.5, name: "drop")(out[0])] : out
        }
        let sequential = try XCTUnwrap(clone as? Sequential)
        XCTAssertEqual(sequential.layers.map { $0.name }, ["a", "drop", "b"])
        let x = seededTensor([3, 4], seed: 9)
        XCTAssertEqual(try clone.predictOnBatch([x])[0], try model.predictOnBatch([x])[0])
    }

    func testNestedModelsAreClonedWhole() throws {
        let inner = try residualModel()
        let x = Input(shape: [6, 6, 3], name: "outer_x")
        let y = try Dense(units: 2, name: "head")(try inner(x))
        let outer = try Model(inputs: [x], outputs: [y], name: "outer")
        try randomizeWeights(try outer.layer(named: "head"), seed: 11)
        let copy = try outer.clone(weights: .copy)
        let innerCopy = try XCTUnwrap(copy.layers.first { $0 is Model && $0.name == "residual" })
        XCTAssertFalse(innerCopy === inner)
        XCTAssertEqual(try copy.predictOnBatch([input])[0], try outer.predictOnBatch([input])[0])
    }
}
