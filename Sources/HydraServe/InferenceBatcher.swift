import Foundation
import HydraNet
import Torch

/// Dynamic batching: images queue here and one inference thread (the only one that touches
/// the model) runs forwards of up to `maxBatch` images, waiting at most `maxDelay` for a
/// batch to fill once an image is queued. Callers await their answers; nothing on an HTTP
/// event loop ever waits for libtorch.
public final class InferenceBatcher: @unchecked Sendable {
    public typealias Answer = [String: HydraNetModel.Prediction]

    private struct Job {
        let image: Tensor
        let continuation: CheckedContinuation<Answer, Error>
        /// When the job was queued: a batch waits at most `maxDelay` past its oldest job's.
        let queued = Date()
    }

    public enum BatcherError: Error, CustomStringConvertible {
        case shuttingDown
        /// The queue already holds ``InferenceBatcher/maxQueued`` images: try again later.
        case overloaded(queued: Int)
        public var description: String {
            switch self {
            case .shuttingDown: "the server is shutting down"
            case let .overloaded(queued): "the server is busy (\(queued) images waiting): try again shortly"
            }
        }
    }

    private let predictor: Predictor
    private let maxBatch: Int
    private let maxDelay: TimeInterval
    /// The most images that may wait for a forward (decoded images hold memory): more are refused.
    public var maxQueued: Int { max(256, 8 * maxBatch) }
    private let metrics: ServeMetrics
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var stopped = false
    private var warm = false
    private var thread: Thread?

    public init(predictor: Predictor, maxBatch: Int, maxDelayMilliseconds: Double, metrics: ServeMetrics) {
        self.predictor = predictor
        self.maxBatch = max(1, maxBatch)
        maxDelay = max(0, maxDelayMilliseconds) / 1000
        self.metrics = metrics
    }

    /// Starts the inference thread; it warms the model with one forward, then serves the queue.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil else { return }
        let t = Thread { [self] in loop() }
        t.name = "hydraserve-inference"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// True once the model has run one forward (``start()`` does it first).
    public var isWarm: Bool { condition.withLock { warm } }

    /// Images waiting for a forward.
    public var queueDepth: Int { condition.withLock { queue.count } }

    /// The predictions for one preprocessed uint8 3×H×W image.
    public func predict(_ image: Tensor) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: BatcherError.shuttingDown)
                return
            }
            if queue.count >= maxQueued {
                let queued = queue.count
                condition.unlock()
                continuation.resume(throwing: BatcherError.overloaded(queued: queued))
                return
            }
            queue.append(Job(image: image, continuation: continuation))
            metrics.queueDepth.set(Double(queue.count))
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes every queued image, then stops the thread and refuses new ones.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil && !stopped { condition.wait() }
        stopped = true
        condition.unlock()
    }

    private func loop() {
        warmUp()
        condition.lock()
        while true {
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping { break }
            if queue.count < maxBatch && maxDelay > 0 && !stopping {
                let deadline = queue[0].queued.addingTimeInterval(maxDelay)
                while queue.count < maxBatch && !stopping {
                    if !condition.wait(until: deadline) { break }
                }
            }
            let jobs = Array(queue.prefix(maxBatch))
            queue.removeFirst(jobs.count)
            metrics.queueDepth.set(Double(queue.count))
            condition.unlock()
            run(jobs)
            condition.lock()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func warmUp() {
        let size = predictor.input.transform
        let zeros = Tensor.zeros([1, 3, size.height, size.width], dtype: .uint8)
        _ = predictor.predict(images: zeros)
        condition.withLock { warm = true }
    }

    private func run(_ jobs: [Job]) {
        let start = ContinuousClock.now
        let images = jobs.count == 1 ? jobs[0].image.unsqueezed(0) : Tensor.stack(jobs.map(\.image), dim: 0)
        let answers = predictor.predict(images: images)
        metrics.recordForward(batchSize: jobs.count, duration: ContinuousClock.now - start)
        for (job, answer) in zip(jobs, answers) { job.continuation.resume(returning: answer) }
    }
}
