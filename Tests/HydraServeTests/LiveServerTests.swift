import CLITestSupport
import Foundation
import HydraData
import HydraNet
@testable import HydraServe
import HummingbirdTesting
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The server over real HTTP: `hydranet serve` as a subprocess (a client that leaves
/// mid-upload, SIGTERM → exit 0), and the page in headless Chromium.
@Suite("Server (real HTTP)", .serialized)
struct LiveServerTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A free loopback port (bound, read, released).
    static func freePort() throws -> Int { try LocalLauncher.freePort() }

    /// Sends raw bytes to a loopback port and closes (optionally reading the answer first).
    static func raw(_ port: Int, _ bytes: [UInt8], readAnswer: Bool) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure(description: "cannot connect to port \(port)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard readAnswer else { return "" }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            answer += buffer[0..<n]
            if let text = String(bytes: answer, encoding: .utf8), let head = text.range(of: "\r\n\r\n"),
               let lengthLine = text[..<head.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
               let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
               answer.count >= text.utf8.distance(from: text.utf8.startIndex, to: head.upperBound) + length {
                break
            }
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// An HTTP request and its status and body (URLSession).
    static func request(_ url: String, method: String = "GET", body: [UInt8]? = nil,
                        type: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let body { request.httpBody = Data(body) }
        if let type { request.setValue(type, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test("hydranet serve: ready on a real port, predict's numbers, a client leaving mid-upload, SIGTERM → exit 0")
    func subprocess() async throws {
        let fixture = try ServeFixture.get()
        let port = try Self.freePort()
        let face = fixture.scratch.path("face.jpg")
        try Data(fixture.faces[5]).write(to: URL(fileURLWithPath: face))
        let server = try HydranetProcess(["serve", "--model", fixture.checkpoint, "--port", String(port), "--device", "cpu"],
                                         cache: fixture.scratch.path("cache"), logs: fixture.scratch.url.appendingPathComponent("logs"))
        var ready = false
        for _ in 0..<600 where !ready {
            ready = (try? await Self.request("http://127.0.0.1:\(port)/readyz"))?.status == 200
            if !ready {
                guard server.process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard ready else {
            server.process.terminate()
            Issue.record("hydranet serve did not become ready: \(server.wait().summary)")
            return
        }
        let answer = try await Self.request("http://127.0.0.1:\(port)/v1/predict", method: "POST", body: fixture.faces[5],
                                             type: "image/jpeg")
        #expect(answer.status == 200)
        let served = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
        let image = try #require((served["images"] as? [[String: Any]])?.first)

        // `hydranet predict --json` on the same bytes.
        let predicted = try HydranetProcess.run(["predict", "--model", fixture.checkpoint, "--json", "--device", "cpu", face],
                                                cache: fixture.scratch.path("cache"), logs: fixture.scratch.url.appendingPathComponent("logs"))
        try #require(predicted.status == 0, "\(predicted.summary)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(predicted.stdout.utf8)) as? [[String: Any]])
        expectSamePredictions(image["predictions"] as Any, rows[0]["predictions"] as Any, tolerance: 0)

        // A client that announces 100 kB, sends 1 kB and leaves; then one that sends garbage.
        _ = try Self.raw(port, Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n".utf8)
                         + fixture.faces[0].prefix(1000), readAnswer: false)
        _ = try Self.raw(port, Array("GARBAGE \u{1}\u{2} HTTP/9\r\n\r\n".utf8), readAnswer: false)
        let health = try Self.raw(port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), readAnswer: true)
        #expect(health.hasPrefix("HTTP/1.1 200"), "\(health)")

        kill(server.pid, SIGTERM)
        let outcome = server.wait()
        #expect(outcome.status == 0 && !outcome.signalled, "\(outcome.summary)")
        #expect(outcome.stdout.contains("serving ") && outcome.stdout.contains("stopped"), "\(outcome.stdout)")
    }

    @Test("The page in headless Chromium shows /v1/predict's answer for an uploaded face; screenshot saved")
    func pageInChromium() async throws {
        let fixture = try ServeFixture.get()
        let server = try await fixture.server()
        defer { server.batcher.shutdown() }
        // A larger face than the training size (the page shows the original photo).
        let face = fixture.scratch.path("page-face.jpg")
        let bytes = try ImageCodec.encodeJPEG(SyntheticFaces(count: 4, size: 256, seed: 3).render(2), quality: 92)
        try Data(bytes).write(to: URL(fileURLWithPath: face))
        let artifacts = PythonReference.packageRoot.appendingPathComponent(".build/artifacts")
        let screenshot = artifacts.appendingPathComponent("serve-page.png").path
        try? FileManager.default.removeItem(atPath: screenshot)
        try await server.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            let expected = try await client.execute(uri: "/v1/predict", method: .post, headers: [.contentType: "image/jpeg"],
                                                    body: .init(bytes: bytes))
            let want = try #require((try jsonObject(expected)["images"] as? [[String: Any]])?.first?["predictions"] as? [String: Any])
            let result = try await Task.detached {
                try Self.python(["Tests/Python/serve_page.py", "http://127.0.0.1:\(port)/", face, screenshot])
            }.value
            try #require(result.status == 0, "the page check failed: \(result.stderr)")
            let shown = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            // The page shows every task: age as a value, gender and race as bars, the labels highlighted.
            #expect(Set(shown.keys) == ["age", "gender", "race"])
            var comparable = shown
            if var age = comparable["age"] as? [String: Any] {
                #expect((age["text"] as? String)?.hasPrefix(String(format: "%.1f", (want["age"] as? [String: Any])?["value"] as? Double ?? .nan)) == true)
                age["text"] = nil
                comparable["age"] = age
            }
            var wanted = want
            for task in ["gender", "race"] {
                if var t = wanted[task] as? [String: Any] { t["probability"] = nil; wanted[task] = t }
            }
            expectSamePredictions(comparable, wanted, tolerance: 1e-9)
        }
        #expect(FileManager.default.fileExists(atPath: screenshot), "no screenshot at \(screenshot)")
    }

    static func python(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = PythonReference.python
        process.arguments = arguments
        process.currentDirectoryURL = PythonReference.packageRoot
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("serve-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
