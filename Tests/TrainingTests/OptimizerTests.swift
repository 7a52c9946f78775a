import Layers
import Tensor
@testable import Training
import XCTest

/// Each optimizer against Keras 3: two variables, four steps of fixed
/// gradients (one gradient element exactly zero), values after every step,
/// and the config round trip.
final class OptimizerTests: XCTestCase {
    func testOptimizersMatchKeras() throws {
        let cases = try Fixture.json("optimizers.json").cases
        XCTAssertEqual(cases.count, 18)
        for c in cases {
            let optimizer = try Optimizers.deserialize(try XCTUnwrap(c["optimizer"]))
            let variables = try XCTUnwrap(c["init"]?.arrayValue).enumerated().map { Variable(try $1.tensor, name: "v\($0)") }
            let grads = try XCTUnwrap(c["grads"]?.arrayValue)
            let steps = try XCTUnwrap(c["steps"]?.arrayValue)
            XCTAssertEqual(grads.count, steps.count, "zipped lists differ in length")
            for (k, (g, expected)) in zip(grads, steps).enumerated() {
                try optimizer.apply(try g.arrayValue!.map { try $0.tensor }, to: variables)
                XCTAssertEqual(variables.count, expected.arrayValue!.count, "zipped lists differ in length")
                for (v, e) in zip(variables, expected.arrayValue!) {
                    assertClose(v.value, try e.tensor, atol: 1e-6, rtol: 1e-6, "optimizer \(c.name) step \(k + 1) \(v.name)")
                }
            }
            XCTAssertEqual(optimizer.iterations, 4)
            let keras = try XCTUnwrap(c["config"])
            XCTAssertTrue(jsonEquivalent(.object(optimizer.getConfig()), keras),
                          "optimizer \(c.name): getConfig \(JSONValue.object(optimizer.getConfig()).serialized())")
            let again = try Optimizers.deserialize(optimizer.serialize())
            XCTAssertTrue(jsonEquivalent(.object(again.getConfig()), keras), "optimizer \(c.name): round trip")
        }
    }

    func testKeras2Configs() throws {
        let adam = try Optimizers.deserialize(["class_name": "Custom>Adam", "config": [
            "name": "Adam", "learning_rate": 0.002, "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
            "amsgrad": false, "jit_compile": true, "is_legacy_optimizer": false]])
        XCTAssertTrue(adam is Adam)
        XCTAssertEqual(adam.currentLearningRate, 0.002)
        let sgd = try Optimizers.deserialize(["class_name": "SGD", "config": ["lr": 0.5, "momentum": 0.9]])
        XCTAssertEqual(sgd.currentLearningRate, 0.5)
        XCTAssertTrue(try Optimizers.get("rmsprop") is RMSprop)
        XCTAssertEqual(try Optimizers.get("sgd").currentLearningRate, 0.01)
    }

    func testBadConfigsThrow() {
        XCTAssertThrowsError(try Optimizers.deserialize(["class_name": "Adam", "config": ["clipnorm": 1, "clipvalue": 1]])) { error in
            XCTAssertTrue("\(error)".contains("only one of clipnorm, clipvalue and global_clipnorm"), "\(error)")
        }
        XCTAssertThrowsError(try Optimizers.deserialize(["class_name": "Adam", "config": ["use_ema": true]])) { error in
            XCTAssertTrue("\(error)".contains("use_ema"), "\(error)")
        }
        XCTAssertThrowsError(try Optimizers.deserialize(["class_name": "Adam", "config": ["betta_1": 0.5]])) { error in
            XCTAssertTrue("\(error)".contains("unknown key(s) [\"betta_1\"]"), "\(error)")
        }
        XCTAssertThrowsError(try Optimizers.get("lamb")) { error in
            XCTAssertTrue("\(error)".contains("optimizer 'lamb'"), "\(error)")
        }
        XCTAssertThrowsError(try Optimizers.deserialize(["class_name": "AdamW", "config": ["weight_decay": nil]]))
    }

    func testScheduledRateCannotBeSet() throws {
        let opt = try SGD(learningRate: .schedule(try ExponentialDecay(initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5)))
        XCTAssertThrowsError(try opt.setLearningRate(0.2))
        XCTAssertEqual(opt.currentLearningRate, 0.1)
    }

    func testUnknownVariableAndMissingGradients() throws {
        let opt = try Adam()
        let a = Variable(Tensor(shape: [2], scalars: [1, 2]), name: "a"), b = Variable(Tensor(shape: [1], scalars: [3]), name: "b")
        try opt.apply([Tensor(shape: [2], scalars: [1, 1]), nil], to: [a, b])
        XCTAssertEqual(b.value.scalars, [3], "a nil gradient leaves its variable alone")
        XCTAssertThrowsError(try opt.apply([nil, nil], to: [a, b]))
        XCTAssertThrowsError(try opt.apply([Tensor(shape: [1], scalars: [1])], to: [Variable(Tensor(shape: [1], scalars: [0]), name: "c")])) { error in
            XCTAssertTrue("\(error)".contains("does not know 'c'"), "\(error)")
        }
    }

    func testWeightDecayExclusion() throws {
        let opt = try SGD(learningRate: 0.1, weightDecay: 0.5)
        let kernel = Variable(Tensor(shape: [1], scalars: [1]), name: "dense/kernel")
        let bias = Variable(Tensor(shape: [1], scalars: [1]), name: "dense/bias")
        opt.excludeFromWeightDecay(names: ["bias"])
        try opt.apply([Tensor(shape: [1], scalars: [0]), Tensor(shape: [1], scalars: [0])], to: [kernel, bias])
        XCTAssertEqual(kernel.value.scalars, [0.95])
        XCTAssertEqual(bias.value.scalars, [1])
    }
}
