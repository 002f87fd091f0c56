import CLITestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HydraData
import HydraNet
@testable import HydraServe
import NIOCore
import Testing
import TestSupport
import Torch

/// A small model built in process (seeded ConvNet, 32 px, age/gender/race), saved as a real
/// checkpoint and loaded back through ``Predictor``, plus generated face JPEGs.
struct ServeFixture: @unchecked Sendable {
    let scratch: ScratchFolder
    let checkpoint: String
    let predictor: Predictor
    /// Face JPEGs from the seeded synthetic generator.
    let faces: [[UInt8]]
    let png: [UInt8]

    static let shared: Result<ServeFixture, Error> = Result {
        let scratch = try ScratchFolder("serve")
        var age = HydraTask(name: "age", kind: .regression)
        age.targetMean = 34.5
        age.targetStd = 19.25
        let tasks = [age, HydraTask(name: "gender", kind: .binary, classNames: ["male", "female"]),
                     HydraTask(name: "race", kind: .multiclass(5), classNames: ["White", "Black", "Asian", "Indian", "Others"])]
        let input = ModelSpec.InputSpec(size: 32)
        let spec = ModelSpec(backbone: .convnet(channels: [8, 16]), featureCount: 16, input: input,
                             heads: ["age": .init(hidden: [16], dropout: 0), "gender": .init(hidden: [], dropout: 0),
                                     "race": .init(hidden: [16], dropout: 0)],
                             tasks: tasks)
        let model = try spec.makeModel(generator: Generator(seed: 10))
        model.eval()
        let checkpoint = scratch.path("model.safetensors")
        try Checkpoint.save(model, input: input, to: checkpoint)
        let predictor = try Predictor(checkpoint: checkpoint)
        let generator = SyntheticFaces(count: 40, size: 64, seed: 7)
        let faces = try (0..<40).map { try ImageCodec.encodeJPEG(generator.render($0), quality: 90) }
        let png = try ImageCodec.encodePNG(generator.render(0))
        return ServeFixture(scratch: scratch, checkpoint: checkpoint, predictor: predictor, faces: faces, png: png)
    }

    static func get() throws -> ServeFixture { try shared.get() }

    /// A server over the shared predictor, its inference thread started and warm.
    func server(_ configuration: ServeConfiguration = ServeConfiguration()) async throws -> HydraServer {
        let server = try HydraServer(predictor: predictor, configuration: configuration, checkpoint: checkpoint)
        server.batcher.start()
        for _ in 0..<2000 where !server.batcher.isWarm { try await Task.sleep(for: .milliseconds(5)) }
        try #require(server.batcher.isWarm, "the model did not warm up")
        return server
    }

    /// `predict`'s numbers for image bytes (the one inference path, as `hydranet predict --json`).
    func expected(_ bytes: [UInt8], name: String = "image") throws -> [String: Any] {
        let outcome = predictor.predict(inputs: [(name: name, load: { @Sendable in bytes })], batchSize: 1)[0]
        try #require(outcome.predictions != nil, "\(outcome.error ?? "")")
        let object = PredictionFormat(tasks: predictor.model.tasks).jsonObject(outcome)
        return try #require(object["predictions"] as? [String: Any])
    }
}

/// Every number in a JSON object, by a dotted path (`age.value`, `race.probabilities.Asian`).
func numbers(_ object: Any, prefix: String = "") -> [String: Double] {
    var out: [String: Double] = [:]
    if let d = object as? [String: Any] {
        for (k, v) in d { out.merge(numbers(v, prefix: prefix.isEmpty ? k : "\(prefix).\(k)")) { a, _ in a } }
    } else if let v = object as? NSNumber, !(object is Bool) {
        out[prefix] = v.doubleValue
    }
    return out
}

/// Checks two prediction objects hold the same numbers (within `tolerance`) and labels.
func expectSamePredictions(_ got: Any, _ want: Any, tolerance: Double = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    let a = numbers(got), b = numbers(want)
    #expect(Set(a.keys) == Set(b.keys), "keys \(a.keys.sorted()) vs \(b.keys.sorted())", sourceLocation: sourceLocation)
    #expect(!b.isEmpty, sourceLocation: sourceLocation)
    for (k, v) in b {
        let w = a[k] ?? .nan
        #expect(abs(w - v) <= tolerance, "\(k): \(w) vs \(v)", sourceLocation: sourceLocation)
    }
    let labels = { (o: Any) -> [String] in
        ((o as? [String: Any]) ?? [:]).compactMap { k, v in ((v as? [String: Any])?["label"] as? String).map { "\(k)=\($0)" } }.sorted()
    }
    #expect(labels(got) == labels(want), sourceLocation: sourceLocation)
}

func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    let text = String(buffer: response.body)
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
}

/// The value of a Prometheus sample line `name{labels} value` (labels matched as written).
func metric(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

/// A multipart/form-data body of image files.
func multipart(_ files: [(name: String, bytes: [UInt8])], boundary: String = "hydranet-test-boundary") -> [UInt8] {
    var body: [UInt8] = []
    for f in files {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\(f.name)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        body += f.bytes
        body += Array("\r\n".utf8)
    }
    body += Array("--\(boundary)--\r\n".utf8)
    return body
}

/// The process's resident memory in bytes (Linux /proc/self/statm).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
