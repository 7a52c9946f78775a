import Foundation
import XCTest
import Tensor
import Layers
import KerasIO

/// Every keras.applications architecture, written by real Keras 3 (`.h5`,
/// `.keras`, `.weights.h5`) and by tf-keras (`.h5`, `save_weights` `.h5`),
/// loads and predicts what Keras predicted within `1e-4·(1+|y|)` per element.
/// Weights-only files are loaded into the model built from the same writer's
/// full file, after zeroing its weights.
///
/// The files are large, so they are generated, not committed:
/// tools/gen_application_models.py writes them into `.fixtures/applications/`
/// (`make test` runs it first). Each file's result is printed and appended to
/// `.fixtures/applications/results.txt`.
final class ApplicationModelTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".fixtures/applications")
    static let tolerance: Float = 1e-4

    func testResNet50() throws { try check("resnet50") }
    func testResNet50V2() throws { try check("resnet50v2") }
    func testMobileNet() throws { try check("mobilenet") }
    func testMobileNetV2() throws { try check("mobilenetv2") }
    func testMobileNetV3Small() throws { try check("mobilenetv3small") }
    func testMobileNetV3Large() throws { try check("mobilenetv3large") }
    func testEfficientNetB0() throws { try check("efficientnetb0") }
    func testEfficientNetV2B0() throws { try check("efficientnetv2b0") }
    func testDenseNet121() throws { try check("densenet121") }
    func testInceptionV3() throws { try check("inceptionv3") }
    func testInceptionResNetV2() throws { try check("inceptionresnetv2") }
    func testXception() throws { try check("xception") }
    func testNASNetMobile() throws { try check("nasnetmobile") }
    func testVGG16() throws { try check("vgg16") }
    func testConvNeXtTiny() throws { try check("convnexttiny") }
    func testRegNetX002() throws { try check("regnetx002") }

    /// Every architecture the generator wrote has a test above.
    func testEveryGeneratedArchitectureIsTested() throws {
        let tested: Set = ["resnet50", "resnet50v2", "mobilenet", "mobilenetv2", "mobilenetv3small", "mobilenetv3large",
                           "efficientnetb0", "efficientnetv2b0", "densenet121", "inceptionv3", "inceptionresnetv2",
                           "xception", "nasnetmobile", "vgg16", "convnexttiny", "regnetx002"]
        let generated = Set(try Self.manifest().compactMap { $0["name"]?.stringValue?.split(separator: "_").first.map(String.init) })
        XCTAssertEqual(generated.subtracting(tested), [], "generated architectures without a test")
        XCTAssertEqual(tested.subtracting(generated), [], "tested architectures the generator did not write")
    }

    // MARK: Checking one architecture

    /// The generator's cases; fails (does not skip) when they were not generated.
    static func manifest() throws -> [JSONValue] {
        let url = folder.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            let message = "\(url.path) is missing: the keras.applications fixtures are generated, not committed. "
                + "Run `make test`, or `.venv/bin/python tools/gen_application_models.py` before `swift test`."
            XCTFail(message)
            throw KerasIOError(file: url.path, message)
        }
        let manifest = try JSONValue(parsing: String(contentsOf: url, encoding: .utf8))
        return try XCTUnwrap(manifest["cases"]?.arrayValue, "manifest.json has no cases")
    }

    private func check(_ architecture: String) throws {
        let cases = try Self.manifest().filter { $0["name"]?.stringValue?.hasPrefix(architecture + "_") == true }
        XCTAssertFalse(cases.isEmpty, "no generated case for \(architecture); rerun tools/gen_application_models.py")
        for c in cases {
            let name = try XCTUnwrap(c["name"]?.stringValue)
            let files = try XCTUnwrap(c["files"]?.objectValue)
            func path(_ key: String) throws -> String {
                Self.folder.appendingPathComponent(try XCTUnwrap(files[key]?.stringValue, "\(name): no \(key) file")).path
            }
            let input = try Tensor(npyFile: Self.folder.appendingPathComponent(try XCTUnwrap(c["input"]?.stringValue)))
            let expected = try Tensor(npyFile: Self.folder.appendingPathComponent(try XCTUnwrap(c["output"]?.stringValue)))

            // Full models; the first one loaded receives the weights-only files.
            var architecture: Model?
            for key in ["keras", "h5"] where files[key] != nil {
                let file = try path(key)
                do {
                    let start = Date()
                    let loaded = try KerasModelFile.load(file)
                    compare(loaded.model, input, expected, "\(name).\(key)", loadTime: Date().timeIntervalSince(start))
                    architecture = architecture ?? loaded.model
                } catch {
                    record("\(name).\(key)", "FAIL load: \(error)")
                    XCTFail("\(name).\(key): \(error)")
                }
            }
            // Weights only, into that model with its weights zeroed.
            for key in ["weights.h5", "weights_only.h5"] where files[key] != nil {
                let file = try path(key)
                guard let model = architecture else {
                    XCTFail("\(name).\(key): no full model loaded to take the architecture from")
                    continue
                }
                do {
                    for w in model.weights { try w.assign(Tensor.zeros(w.shape)) }
                    let start = Date()
                    try KerasModelFile.loadWeights(into: model, from: file)
                    compare(model, input, expected, "\(name).\(key)", loadTime: Date().timeIntervalSince(start))
                } catch {
                    record("\(name).\(key)", "FAIL load: \(error)")
                    XCTFail("\(name).\(key): \(error)")
                }
            }
        }
    }

    private func compare(_ model: Model, _ input: Tensor, _ expected: Tensor, _ what: String, loadTime: Double) {
        do {
            let predictStart = Date()
            let outputs = try model.predictOnBatch([input])
            let predictTime = Date().timeIntervalSince(predictStart)
            guard outputs.count == 1, outputs[0].shape == expected.shape else {
                record(what, "FAIL shape \(outputs.map(\.shape)) != \(expected.shape)")
                XCTFail("\(what): output shapes \(outputs.map(\.shape)), Keras gives \(expected.shape)")
                return
            }
            var worst: Float = 0, worstAbsolute: Float = 0
            var nonFinite = false
            XCTAssertEqual(outputs[0].scalars.count, expected.scalars.count, "zipped lists differ in length")
            for (a, e) in zip(outputs[0].scalars, expected.scalars) {
                if !a.isFinite { nonFinite = true }
                worst = max(worst, abs(a - e) / (1 + abs(e)))
                worstAbsolute = max(worstAbsolute, abs(a - e))
            }
            let pass = !nonFinite && worst <= Self.tolerance
            record(what, String(format: "%@ max |d|/(1+|y|) %.2e, max |d| %.2e, load %.2fs, predict %.2fs",
                                pass ? "pass" : "FAIL", worst, worstAbsolute, loadTime, predictTime))
            XCTAssertTrue(pass, "\(what): differs from Keras by up to \(worst)·(1+|y|) (tolerance \(Self.tolerance))"
                          + (nonFinite ? ", with non-finite outputs" : ""))
        } catch {
            record(what, "FAIL predict: \(error)")
            XCTFail("\(what): predict: \(error)")
        }
    }

    /// Prints one result line and appends it to `results.txt` in the fixtures folder.
    private func record(_ what: String, _ result: String) {
        let line = "\(what): \(result)\n"
        print("ApplicationModelTests: " + line, terminator: "")
        let url = Self.folder.appendingPathComponent("results.txt")
        if let handle = try? FileHandle(forWritingTo: url) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            try? Data(line.utf8).write(to: url)
        }
    }
}
