import ArgumentParser
import Foundation
import HydraNet
import HydraServe
import Torch

/// `hydranet serve`: a model behind HTTP with dynamic batching, metrics and a web page.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over HTTP: POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics and a web page at /.")

    @OptionGroup var engine: EngineOptions

    @Option(help: "The model: a checkpoint (best.safetensors of a run).")
    var model: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: "Images per forward pass at most (1 turns dynamic batching off).")
    var maxBatch = 32

    @Option(help: "Milliseconds the inference thread waits for a batch to fill.")
    var maxDelayMs: Double = 5

    @Option(help: "Largest request body (e.g. 10MB, 512KB); larger ones get 413.")
    var maxBody = "10MB"

    @Option(help: "Largest image in pixels (width × height, read from its header); larger ones get 422.")
    var maxPixels = 40_000_000


    func run() throws {
        let device = try engine.apply()
        let bytes: Int
        do { bytes = try ServeConfiguration.parseByteSize(maxBody) } catch { throw ValidationError("--max-body: \(error)") }
        let configuration = ServeConfiguration(host: host, port: port, maxBatch: maxBatch, maxDelayMilliseconds: maxDelayMs,
                                               maxBodyBytes: bytes, maxPixels: maxPixels)
        do { try configuration.validate() } catch { throw ValidationError("\(error)") }
        let predictor = try Predictor(checkpoint: model, device: device)
        try engine.configure(predictor)
        let server = try HydraServer(predictor: predictor, configuration: configuration, checkpoint: model)
        let tasks = predictor.model.tasks.map(\.name).joined(separator: ", ")
        let host = self.host
        // The server runs on Swift concurrency's threads; this one waits for it to finish
        // (SIGTERM/SIGINT: in-flight requests finish, then it returns).
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do {
                try await server.run { port in
                    // Unbuffered: a supervisor reading a pipe or file sees the address at once.
                    FileHandle.standardOutput.write(Data(
                        "serving \(model) (\(predictor.spec.backbone.summary); tasks \(tasks)) at http://\(host):\(port)/\n".utf8))
                }
            } catch {
                failure.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw error }
        FileHandle.standardOutput.write(Data("stopped\n".utf8))
    }
}

private final class ErrorBox: @unchecked Sendable {
    var error: Error?
}
