import Foundation
import Prometheus

/// The server's Prometheus metrics (text exposition at `GET /metrics`).
public final class ServeMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let queueDepth: Gauge
    let imagesProcessed: Counter
    let forwardPasses: Counter
    let batchSize: ValueHistogram
    let forwardDuration: DurationHistogram

    static let latencyBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                             .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                             .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]

    public init() {
        queueDepth = registry.makeGauge(descriptor: .init(namespace: "hydranet", metricName: "inference_queue_depth",
                                                          unitName: "images", helpText: "Images waiting for a forward pass."))
        imagesProcessed = registry.makeCounter(descriptor: .init(namespace: "hydranet", metricName: "images_processed",
                                                                 unitName: "total", helpText: "Images run through the model."))
        forwardPasses = registry.makeCounter(descriptor: .init(namespace: "hydranet", metricName: "forward_passes",
                                                               unitName: "total", helpText: "Forward passes (batches) run."))
        batchSize = registry.makeValueHistogram(
            descriptor: .init(namespace: "hydranet", metricName: "batch", unitName: "size", helpText: "Images per forward pass."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        forwardDuration = registry.makeDurationHistogram(
            descriptor: .init(namespace: "hydranet", metricName: "forward_duration", unitName: "seconds",
                              helpText: "Time of one forward pass (a whole batch)."),
            buckets: Self.latencyBuckets)
    }

    func recordForward(batchSize size: Int, duration: Duration) {
        forwardPasses.increment()
        imagesProcessed.increment(by: Int64(size))
        batchSize.record(Double(size))
        forwardDuration.record(duration)
    }

    /// One finished HTTP request: counted by route and status, timed by route.
    func recordRequest(route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: .init(namespace: "hydranet", metricName: "http_requests", unitName: "total",
                                               helpText: "HTTP requests by route and status."),
                             labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "hydranet", metricName: "http_request_duration",
                                                         unitName: "seconds", helpText: "HTTP request latency by route."),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// The Prometheus text exposition.
    public func text() -> String { registry.emitToString() }
}
