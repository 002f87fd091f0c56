/// A collective that could not complete: another rank exited, stalled past the group's
/// timeout, or its connection broke. Every rank that waits on the failed collective gets
/// one (instead of hanging).
public struct DistributedError: Error, CustomStringConvertible, Equatable {
    /// The collective, e.g. "allreduce".
    public var operation: String
    public var rank: Int
    public var worldSize: Int
    /// The transport's own message (gloo's), e.g. "Connection closed by peer" or
    /// "Timed out waiting 300000ms for recv operation to complete".
    public var detail: String
    /// What probably happened, in words.
    public var explanation: String

    public init(operation: String, rank: Int, worldSize: Int, detail: String,
                explanation: String = "another rank exited, stalled past the timeout or lost its connection") {
        self.operation = operation
        self.rank = rank
        self.worldSize = worldSize
        self.detail = detail
        self.explanation = explanation
    }

    public var description: String {
        "\(operation) failed on \(rank >= 0 ? "rank \(rank)" : "a worker") of \(worldSize): \(explanation) (\(detail))"
    }
}
