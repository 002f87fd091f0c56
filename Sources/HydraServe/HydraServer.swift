import Foundation
import HTTPTypes
import Hummingbird
import HydraData
import HydraNet
import Logging
import NIOCore
import Torch

/// `hydranet serve`: a HydraNet checkpoint behind HTTP (Hummingbird 2).
///
/// Routes: `POST /v1/predict` (a raw JPEG/PNG body or `multipart/form-data` with one or more
/// images), `GET /v1/model`, `/healthz`, `/readyz`, `/metrics` (Prometheus text) and `GET /`
/// (a page to try a photo). Images are decoded on a dispatch queue and scored by the
/// ``InferenceBatcher``'s single inference thread; answers are ``PredictionFormat``'s JSON,
/// the same numbers as `hydranet predict --json`.
public final class HydraServer: Sendable {
    public let predictor: Predictor
    public let configuration: ServeConfiguration
    public let metrics: ServeMetrics
    public let batcher: InferenceBatcher
    /// What `GET /v1/model` answers.
    let modelDescription: Data
    private let decodeQueue = DispatchQueue(label: "hydraserve.decode", qos: .userInitiated, attributes: .concurrent)

    /// Routes and the methods each takes (anything else on a known path is 405).
    static let routes: [String: HTTPRequest.Method] = [
        "/": .get, "/v1/predict": .post, "/v1/model": .get, "/healthz": .get, "/readyz": .get, "/metrics": .get,
    ]

    /// A server for `predictor`; `checkpoint` (its file) is hashed for `GET /v1/model`.
    public init(predictor: Predictor, configuration: ServeConfiguration, checkpoint: String? = nil) throws {
        try configuration.validate()
        self.predictor = predictor
        self.configuration = configuration
        metrics = ServeMetrics()
        batcher = InferenceBatcher(predictor: predictor, maxBatch: configuration.maxBatch,
                                   maxDelayMilliseconds: configuration.maxDelayMilliseconds, metrics: metrics)
        var hash: String?
        if let checkpoint, let data = FileManager.default.contents(atPath: checkpoint) {
            hash = "xxh64:" + String(format: "%016llx", StableHash.bytes([UInt8](data)))
        }
        modelDescription = (try? JSONSerialization.data(
            withJSONObject: HydraServer.describe(predictor.spec, checkpoint: checkpoint, hash: hash, configuration: configuration),
            options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    static func describe(_ spec: ModelSpec, checkpoint: String?, hash: String?,
                         configuration: ServeConfiguration) -> [String: Any] {
        let tasks: [[String: Any]] = spec.tasks.map { task in
            let kind: String
            switch task.kind {
            case .regression: kind = "regression"
            case .binary: kind = "binary"
            case .multiclass: kind = "multiclass"
            case .multilabel: kind = "multilabel"
            }
            let classes: [String] = task.outputCount > 1 || task.kind == .binary
                ? (0..<(task.kind == .binary ? 2 : task.outputCount)).map { task.className($0) } : []
            return ["name": task.name, "kind": kind, "classes": classes]
        }
        var object: [String: Any] = [
            "tasks": tasks,
            "backbone": spec.backbone.summary,
            "batching": ["max_batch": configuration.maxBatch, "max_delay_ms": configuration.maxDelayMilliseconds],
            "limits": ["max_body_bytes": configuration.maxBodyBytes, "max_pixels": configuration.maxPixels,
                       "max_images_per_request": configuration.maxImagesPerRequest],
        ]
        if let input = spec.input {
            object["input"] = ["height": input.transform.height, "width": input.transform.width,
                               "mean": input.normalization.mean, "std": input.normalization.std]
        }
        if let checkpoint { object["checkpoint"] = URL(fileURLWithPath: checkpoint).lastPathComponent }
        if let hash { object["checkpoint_hash"] = hash }
        return object
    }

    // MARK: - Application

    /// The routes, behind the middleware that turns errors into JSON, answers 405 and counts.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ServeMiddleware(metrics: metrics))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                     body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("/healthz") { _, _ in HydraServer.json(["status": "ok"]) }
        router.get("/readyz") { [batcher] _, _ in
            batcher.isWarm ? HydraServer.json(["status": "ready"])
                : HydraServer.json(["status": "loading"], status: .serviceUnavailable)
        }
        router.get("/metrics") { [metrics, batcher] _, _ in
            metrics.queueDepth.set(Double(batcher.queueDepth))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        router.get("/v1/model") { [modelDescription] _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: modelDescription)))
        }
        router.post("/v1/predict") { [self] request, _ in try await predict(request) }
        return router
    }

    /// The Hummingbird application (graceful shutdown on SIGTERM/SIGINT through `runService`).
    public func makeApplication(logger: Logger? = nil,
                                onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol {
        var log = logger ?? Logger(label: "hydranet.serve")
        if logger == nil { log.logLevel = .info }
        return Application(router: makeRouter(),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "hydranet"),
                           onServerRunning: onServerRunning, logger: log)
    }

    /// Starts the inference thread, serves until SIGTERM/SIGINT, finishes in-flight requests
    /// and queued images, and returns. `onListening` gets the bound port.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        batcher.start()
        let app = makeApplication { channel in onListening(channel.localAddress?.port ?? 0) }
        try await app.runService()
        batcher.shutdown()
    }

    // MARK: - Predict

    /// A request failure with its status and a message naming the problem.
    struct RequestFailure: Error, HTTPResponseError {
        let status: HTTPResponse.Status
        let message: String
        var headers: HTTPFields = [:]

        func response(from request: Request, context: some RequestContext) throws -> Response {
            HydraServer.json(["error": message, "status": status.code], status: status, headers: headers)
        }
    }

    private func predict(_ request: Request) async throws -> Response {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw RequestFailure(status: .contentTooLarge,
                                 message: "the body is \(length) bytes, over the limit of \(limit) bytes")
        }
        var body: [UInt8] = []
        for try await chunk in request.body {
            guard body.count + chunk.readableBytes <= limit else {
                throw RequestFailure(status: .contentTooLarge, message: "the body is over the limit of \(limit) bytes")
            }
            body += chunk.readableBytesView
        }
        let contentType = request.headers[.contentType] ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        var images: [(name: String, bytes: [UInt8])] = []
        switch mediaType {
        case "multipart/form-data":
            guard let boundary = Multipart.boundary(contentType: contentType) else {
                throw RequestFailure(status: .unprocessableContent, message: "multipart/form-data without a valid boundary")
            }
            let parts: [Multipart.Part]
            do {
                parts = try Multipart.parse(body, boundary: boundary, maxParts: configuration.maxImagesPerRequest * 4)
            } catch {
                throw RequestFailure(status: .unprocessableContent, message: "\(error)")
            }
            for (i, part) in parts.enumerated() where part.filename != nil || !part.body.isEmpty {
                images.append((name: part.filename.flatMap { $0.isEmpty ? nil : $0 } ?? part.name ?? "part \(i + 1)",
                               bytes: part.body))
            }
            guard !images.isEmpty else {
                throw RequestFailure(status: .unprocessableContent, message: "the multipart body holds no image")
            }
            guard images.count <= configuration.maxImagesPerRequest else {
                throw RequestFailure(status: .unprocessableContent,
                                     message: "\(images.count) images in one request, over the limit of \(configuration.maxImagesPerRequest)")
            }
        case "", "image/jpeg", "image/jpg", "image/png", "application/octet-stream":
            images = [(name: "image", bytes: body)]
        default:
            throw RequestFailure(status: .unsupportedMediaType,
                                 message: "content type '\(mediaType)' is not accepted: send image/jpeg, image/png "
                                     + "or multipart/form-data")
        }
        var tensors: [Tensor] = []
        for image in images { tensors.append(try await preprocess(image.bytes, name: image.name)) }
        let answers = try await withThrowingTaskGroup(of: (Int, InferenceBatcher.Answer).self) { group in
            for (i, tensor) in tensors.enumerated() {
                group.addTask { [batcher] in (i, try await batcher.predict(tensor)) }
            }
            var answers = [InferenceBatcher.Answer?](repeating: nil, count: tensors.count)
            for try await (i, answer) in group { answers[i] = answer }
            return answers.map { $0! }
        }
        let format = PredictionFormat(tasks: predictor.model.tasks)
        let objects = zip(images, answers).map { image, answer in
            format.jsonObject(Predictor.Outcome(name: image.name, predictions: answer, error: nil))
        }
        return HydraServer.json(["images": objects])
    }

    /// Decodes and resizes on the decode queue (never on an event loop), mapping decoding
    /// errors to 415 (not an image) or 422 (empty, truncated, corrupt, too many pixels).
    private func preprocess(_ bytes: [UInt8], name: String) async throws -> Tensor {
        let maxPixels = configuration.maxPixels
        let result: Result<Tensor, Error> = await withCheckedContinuation { continuation in
            decodeQueue.async { [predictor] in
                continuation.resume(returning: Result { try predictor.preprocess(bytes, name: name, maxPixels: maxPixels) })
            }
        }
        switch result {
        case let .success(tensor): return tensor
        case let .failure(error as DataError):
            switch error {
            case .emptyFile: throw RequestFailure(status: .unprocessableContent, message: "\(name): the image is empty (0 bytes)")
            case .notAnImage: throw RequestFailure(status: .unsupportedMediaType, message: "\(error)")
            default: throw RequestFailure(status: .unprocessableContent, message: "\(error)")
            }
        case let .failure(error):
            throw RequestFailure(status: .unprocessableContent, message: "\(name): \(error)")
        }
    }

    // MARK: - JSON

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var status = status
        let data: Data
        if let encoded = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            data = encoded
        } else {
            // E.g. a non-finite number from a broken model: an error, never a 200 with no answer.
            status = .internalServerError
            data = Data(#"{"error":"the answer cannot be written as JSON (a prediction is not a finite number)"}"#.utf8)
        }
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into a JSON body, answers 405 (with `Allow`) for a known path with the
/// wrong method, and records each request's route, status and latency.
struct ServeMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        let allowed = HydraServer.routes[path]
        let route = allowed == nil ? "unmatched" : path
        var response: Response
        do {
            response = try await next(request, context)
        } catch let failure as HydraServer.RequestFailure {
            response = HydraServer.json(["error": failure.message, "status": failure.status.code], status: failure.status,
                                        headers: failure.headers)
        } catch let error as HTTPError where error.status == .notFound && allowed != nil {
            response = HydraServer.json(["error": "method \(request.method) is not allowed on \(path) (use \(allowed!))",
                                         "status": 405], status: .methodNotAllowed, headers: [.allow: allowed!.rawValue])
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no route \(request.method) \(path)" : error.status.reasonPhrase)
            response = HydraServer.json(["error": message, "status": error.status.code], status: error.status)
        } catch let error as InferenceBatcher.BatcherError {
            // Shutting down or too many images waiting: the client may retry.
            response = HydraServer.json(["error": error.description, "status": 503], status: .serviceUnavailable,
                                        headers: [.retryAfter: "1"])
        } catch let error as any HTTPResponseError {
            response = HydraServer.json(["error": "\(error)", "status": error.status.code], status: error.status)
        } catch {
            // A client that went away mid-upload lands here too; the answer goes nowhere.
            response = HydraServer.json(["error": "request failed: \(error)", "status": 400], status: .badRequest)
        }
        metrics.recordRequest(route: route, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}
