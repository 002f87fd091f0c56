import Foundation
import HydraData
import Testing

/// Every input that crashed a HydraData fuzz target (Fuzz/regressions/<target>) is refused
/// with an error instead, fed as the target feeds it (Fuzz/Targets).
@Suite("Fuzz regressions: images, UTKFace names, CSV manifests")
struct HydraDataFuzzRegressionTests {
    @Test("JPEG inputs that crashed the decoder throw", arguments: FuzzRegressions.inputs("jpeg"))
    func jpeg(_ input: FuzzRegressions.Input) { expectDecodingThrows(input) }

    @Test("PNG inputs that crashed the decoder throw", arguments: FuzzRegressions.inputs("png"))
    func png(_ input: FuzzRegressions.Input) { expectDecodingThrows(input) }

    /// A full-size RGB decode and the decoded cache's DCT-scaled RGBX decode, as the targets
    /// run them (with their 2^20-pixel limit).
    func expectDecodingThrows(_ input: FuzzRegressions.Input) {
        let bytes = input.bytes
        #expect(throws: DataError.self, "\(input.name)") {
            try ImageCodec.decode(bytes, path: input.name, scaling: .none, maxPixels: 1 << 20)
        }
        #expect(throws: DataError.self, "\(input.name)") {
            try ImageTransform(size: 3, maxPixels: 1 << 20).decodePixels(bytes, path: input.name)
        }
    }

    @Test("UTKFace names that crashed the parser are refused", arguments: FuzzRegressions.inputs("utkface"))
    func utkface(_ input: FuzzRegressions.Input) {
        let name = String(decoding: input.bytes, as: UTF8.self)
        guard case .failure = UTKFace.parse(name) else {
            Issue.record("\(input.name): '\(name)' was accepted")
            return
        }
    }

    @Test("CSV manifests that crashed the loader throw", arguments: FuzzRegressions.inputs("csv"))
    func csv(_ input: FuzzRegressions.Input) throws {
        let (manifest, mapping) = try Self.files(input.bytes)
        for tasks in Self.taskSets {
            #expect(throws: DataError.self, "\(input.name), tasks \(tasks.map(\.name))") {
                try CSVManifest.load(manifest, tasks: tasks, classMappingFile: mapping)
            }
        }
    }

    /// The task columns of Fuzz/Targets/CSVTarget.swift.
    static let taskSets: [[CSVManifest.Column]] = [
        [.regression("age"), .binary("gender"), .classification("race")],
        [.binary("gender", classNames: ["m", "f"]), .classification("race", classNames: ["a", "b", "c"])],
    ]

    /// The manifest and, after the input's first NUL byte if it has one, the class-mapping
    /// JSON, written to a fresh folder (as the CSV target splits its input).
    static func files(_ bytes: [UInt8]) throws -> (manifest: String, mapping: String?) {
        let folder = temporaryFolder()
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        try write(Array(bytes[..<split]), to: "\(folder)/manifest.csv")
        guard split < bytes.endIndex else { return ("\(folder)/manifest.csv", nil) }
        try write(Array(bytes[(split + 1)...]), to: "\(folder)/classes.json")
        return ("\(folder)/manifest.csv", "\(folder)/classes.json")
    }
}
