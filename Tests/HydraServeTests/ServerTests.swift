import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HydraData
import HydraNet
@testable import HydraServe
import NIOCore
import Testing
import Torch

/// The server in process (HummingbirdTesting's router client): every route, every bad
/// input, a seeded fuzz loop, and dynamic batching read back from `/metrics`.
@Suite("Server (in process)", .serialized)
struct ServerTests {
    func withServer(_ configuration: ServeConfiguration = ServeConfiguration(),
                    _ body: @escaping @Sendable (any TestClientProtocol, HydraServer) async throws -> Void) async throws {
        let fixture = try ServeFixture.get()
        let server = try await fixture.server(configuration)
        defer { server.batcher.shutdown() }
        try await server.makeApplication().test(.router) { client in try await body(client, server) }
    }

    func post(_ client: any TestClientProtocol, _ bytes: [UInt8], type: String? = "image/jpeg",
              uri: String = "/v1/predict") async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let type { headers[.contentType] = type }
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    @Test("GET routes: the page, health, readiness, the model, metrics")
    func routes() async throws {
        try await withServer { client, _ in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = String(buffer: page.body)
            #expect(html.contains("<input type=\"file\" id=\"file\""))
            #expect(html.contains("name=\"viewport\""))
            #expect(!html.contains("http://") && !html.contains("https://"), "the page loads nothing external")

            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try jsonObject(ready)["status"] as? String == "ready")

            let model = try jsonObject(try await client.execute(uri: "/v1/model", method: .get))
            let tasks = try #require(model["tasks"] as? [[String: Any]])
            #expect(tasks.map { $0["name"] as? String } == ["age", "gender", "race"])
            #expect(tasks.map { $0["kind"] as? String } == ["regression", "binary", "multiclass"])
            #expect(tasks[2]["classes"] as? [String] == ["White", "Black", "Asian", "Indian", "Others"])
            #expect(tasks[1]["classes"] as? [String] == ["male", "female"])
            let input = try #require(model["input"] as? [String: Any])
            #expect(input["height"] as? Int == 32 && input["width"] as? Int == 32)
            #expect((model["backbone"] as? String)?.hasPrefix("convnet") == true)
            #expect((model["checkpoint_hash"] as? String)?.hasPrefix("xxh64:") == true)

            _ = try await post(client, try ServeFixture.get().faces[0])
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            for name in ["hydranet_http_requests_total{route=\"/v1/predict\",status=\"200\"} 1",
                         "# TYPE hydranet_http_request_duration_seconds histogram",
                         "hydranet_http_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"+Inf\"} 1",
                         "# TYPE hydranet_batch_size histogram", "hydranet_inference_queue_depth_images 0",
                         "hydranet_images_processed_total 1", "hydranet_forward_passes_total 1"] {
                #expect(text.contains(name), "\(name) missing from:\n\(text)")
            }
        }
    }

    @Test("POST /v1/predict: JPEG, PNG and multipart give predict's numbers for the same bytes")
    func predictMatchesPredictor() async throws {
        let fixture = try ServeFixture.get()
        try await withServer { client, _ in
            for (bytes, type) in [(fixture.faces[1], "image/jpeg"), (fixture.png, "image/png"), (fixture.faces[2], nil)] {
                let response = try await post(client, bytes, type: type)
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let images = try #require(try jsonObject(response)["images"] as? [[String: Any]])
                #expect(images.count == 1)
                expectSamePredictions(images[0]["predictions"] as Any, try fixture.expected(bytes), tolerance: 1e-12)  // JSON text round trip
            }
            let files = (3..<6).map { (name: "face\($0).jpg", bytes: fixture.faces[$0]) }
            let response = try await post(client, multipart(files), type: "multipart/form-data; boundary=hydranet-test-boundary")
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let images = try #require(try jsonObject(response)["images"] as? [[String: Any]])
            #expect(images.map { $0["image"] as? String } == files.map(\.name))
            for (image, file) in zip(images, files) {
                expectSamePredictions(image["predictions"] as Any, try fixture.expected(file.bytes), tolerance: 1e-5)
            }
            // Every class of every task, in user units.
            let p = try #require(images[0]["predictions"] as? [String: Any])
            #expect((p["race"] as? [String: Any])?["probabilities"].flatMap { $0 as? [String: Any] }?.count == 5)
            #expect((p["gender"] as? [String: Any])?["probabilities"].flatMap { $0 as? [String: Any] }?.count == 2)
            #expect((p["age"] as? [String: Any])?["value"] is Double)
        }
    }

    @Test("Bad input: 413, 415, 422, 405, 404, each a JSON error naming the problem")
    func badInput() async throws {
        let fixture = try ServeFixture.get()
        var configuration = ServeConfiguration()
        configuration.maxBodyBytes = 200_000
        configuration.maxPixels = 100_000
        try await withServer(configuration) { client, _ in
            func check(_ response: TestResponse, _ status: HTTPResponse.Status, _ words: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
                #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
                let error = try jsonObject(response)["error"] as? String ?? ""
                #expect(error.lowercased().contains(words.lowercased()), "'\(error)' should name '\(words)'",
                        sourceLocation: sourceLocation)
            }
            let face = fixture.faces[0]
            try check(try await post(client, [UInt8](repeating: 0xFF, count: 250_000)), .contentTooLarge, "limit")
            try check(try await post(client, []), .unprocessableContent, "empty")
            try check(try await post(client, Array("hello, this is text".utf8)), .unsupportedMediaType, "not")
            try check(try await post(client, Array(face.prefix(face.count / 2))), .unprocessableContent, "image")
            try check(try await post(client, Array(fixture.png.prefix(60)), type: "image/png"), .unprocessableContent, "image")
            try check(try await post(client, face, type: "text/plain"), .unsupportedMediaType, "text/plain")
            let big = try ImageCodec.encodePNG(RGBImage(width: 400, height: 400, pixels: [UInt8](repeating: 90, count: 400 * 400 * 3)))
            try check(try await post(client, big, type: "image/png"), .unprocessableContent, "pixel")
            try check(try await post(client, face, type: "multipart/form-data"), .unprocessableContent, "boundary")
            try check(try await post(client, Array(multipart([(name: "a.jpg", bytes: face)]).dropLast(20)),
                                     type: "multipart/form-data; boundary=hydranet-test-boundary"), .unprocessableContent, "truncated")
            try check(try await post(client, multipart([(name: "bad.jpg", bytes: Array(face.prefix(100)))]),
                                     type: "multipart/form-data; boundary=hydranet-test-boundary"), .unprocessableContent, "bad.jpg")
            try check(try await client.execute(uri: "/v1/predict", method: .get), .methodNotAllowed, "not allowed")
            let wrong = try await client.execute(uri: "/healthz", method: .post)
            try check(wrong, .methodNotAllowed, "GET")
            #expect(wrong.headers[.allow] == "GET")
            try check(try await client.execute(uri: "/v2/nothing", method: .get), .notFound, "/v2/nothing")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains("hydranet_http_requests_total{route=\"/v1/predict\",status=\"413\"} 1"))
            #expect(text.contains("hydranet_http_requests_total{route=\"unmatched\",status=\"404\"} 1"))
        }
    }

    @Test("1,000 random and mutated bodies in a row: all 4xx, /healthz still 200, RSS flat")
    func fuzz() async throws {
        let fixture = try ServeFixture.get()
        var configuration = ServeConfiguration()
        configuration.maxBodyBytes = 64_000
        try await withServer(configuration) { client, _ in
            var rng = SeededGenerator(seed: 0xF022, stream: [1])
            func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            let types = ["image/jpeg", "image/png", "application/octet-stream", "multipart/form-data; boundary=b0undary",
                         "multipart/form-data", "text/plain", "application/json", "image/gif", "multipart/form-data; boundary=\"\""]
            var statuses: [Int: Int] = [:]
            var baseline = 0
            for i in 0..<1000 {
                if i == 100 { baseline = residentBytes() }
                let face = i % 3 == 0 ? fixture.png : fixture.faces[i % fixture.faces.count]
                var body: [UInt8]
                switch UInt8.random(in: 0...6, using: &rng) {
                case 0: body = bytes(Int.random(in: 0...4096, using: &rng))                       // noise
                case 1: body = Array(face.prefix(Int.random(in: 0..<(face.count - 16), using: &rng)))  // truncated
                case 2:                                                                            // broken header
                    body = face
                    let start = face[0] == 0x89 ? 8 : 2
                    for j in start..<min(face.count, start + 24) { body[j] = UInt8.random(in: 0...255, using: &rng) }
                    if face[0] == 0x89 { body[12] ^= 0x55 }  // the IHDR chunk type: always invalid
                case 3: body = Array(face.prefix(2)) + bytes(Int.random(in: 0...2048, using: &rng))  // magic + noise
                case 4: body = bytes(Int.random(in: 64_001...70_000, using: &rng))                 // too large
                case 5:                                                                            // multipart of junk
                    body = multipart([(name: "x.jpg", bytes: bytes(Int.random(in: 0...512, using: &rng)))], boundary: "b0undary")
                    if Bool.random(using: &rng) { body = Array(body.prefix(Int.random(in: 0..<body.count, using: &rng))) }
                default: body = Array(face.prefix(Int.random(in: 0..<(face.count - 16), using: &rng))) + bytes(8)
                }
                let type = types[Int.random(in: 0..<types.count, using: &rng)]
                let response = try await post(client, body, type: type)
                statuses[Int(response.status.code), default: 0] += 1
                #expect((400..<500).contains(response.status.code), "body \(i) (\(type), \(body.count) bytes): \(response.status)")
                if !(400..<500).contains(response.status.code) { break }
            }
            #expect(statuses.values.reduce(0, +) == 1000, "\(statuses)")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            // A good image still gets its answer.
            #expect(try await post(client, fixture.faces[0]).status == .ok)
            let growth = residentBytes() - baseline
            #expect(growth < 48 << 20, "RSS grew by \(growth >> 20) MiB over 900 bad requests")
        }
    }

    @Test("Dynamic batching: 32 concurrent requests take fewer than 32 forwards, same answers as one by one")
    func batching() async throws {
        let fixture = try ServeFixture.get()
        var configuration = ServeConfiguration()
        configuration.maxDelayMilliseconds = 250  // a generous window: the count below does not depend on timing
        try await withServer(configuration) { client, _ in
            let faces = Array(fixture.faces.prefix(32))
            let bodies = try await withThrowingTaskGroup(of: (Int, UInt, String).self) { group in
                for (i, face) in faces.enumerated() {
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/jpeg"],
                                                         body: ByteBuffer(bytes: face))
                        return (i, UInt(r.status.code), String(buffer: r.body))
                    }
                }
                var out = [String](repeating: "", count: faces.count)
                for try await (i, status, body) in group {
                    #expect(status == 200, "\(body)")
                    out[i] = body
                }
                return out
            }
            let concurrent = try bodies.map { body -> [String: Any] in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                let images = try #require(object["images"] as? [[String: Any]])
                return try #require(images.first?["predictions"] as? [String: Any])
            }
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let forwards = try #require(metric(text, "hydranet_forward_passes_total"))
            #expect(metric(text, "hydranet_images_processed_total") == 32)
            #expect(forwards < 32, "32 concurrent requests ran \(forwards) forwards")
            #expect(metric(text, "hydranet_batch_size_count") == forwards)
            // One by one: each its own forward.
            for (i, face) in faces.enumerated() {
                let r = try await post(client, face)
                let images = try #require(try jsonObject(r)["images"] as? [[String: Any]])
                expectSamePredictions(concurrent[i], images[0]["predictions"] as Any, tolerance: 1e-5)
            }
            let after = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metric(after, "hydranet_forward_passes_total") == forwards + 32)
        }
    }

    @Test("Byte sizes and configuration are validated")
    func configuration() throws {
        #expect(try ServeConfiguration.parseByteSize("10MB") == 10_000_000)
        #expect(try ServeConfiguration.parseByteSize("512KB") == 512_000)
        #expect(try ServeConfiguration.parseByteSize("1MiB") == 1_048_576)
        #expect(try ServeConfiguration.parseByteSize("2000") == 2000)
        #expect(throws: ServeError.self) { try ServeConfiguration.parseByteSize("ten") }
        #expect(throws: ServeError.self) { try ServeConfiguration(maxBatch: 0).validate() }
        #expect(throws: ServeError.self) { try ServeConfiguration(port: 70000).validate() }
    }
}
