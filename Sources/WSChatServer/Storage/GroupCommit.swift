/// Batches writes so that one commit (one fsync) carries every write that arrived while the
/// previous commit was running: durability costs one disk flush per batch, not per message.
///
/// Writes are committed in the order they were submitted; each submitter gets its own result.
actor GroupCommit<Write: Sendable, Output: Sendable> {
    /// Commits a batch and returns one result per write, in order. A commit that fails as a
    /// whole should retry its writes one by one, so that one bad write fails alone.
    typealias Commit = @Sendable ([Write]) async -> [Result<Output, any Error>]

    private var waiting: [(write: Write, continuation: CheckedContinuation<Output, any Error>)] = []
    private var draining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private let maxBatch: Int
    private let commit: Commit

    init(maxBatch: Int = 512, commit: @escaping Commit) {
        self.maxBatch = maxBatch
        self.commit = commit
    }

    func submit(_ write: Write) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append((write, continuation))
            if !draining {
                draining = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            // Writes already on their way (their submitters' jobs queued behind this one) join
            // this batch rather than wait for the next commit: a flood's appends arrive a
            // burst at a time, and this yield made its commits a third fewer.
            await Task.yield()
            let batch = Array(waiting.prefix(maxBatch))
            waiting.removeFirst(batch.count)
            let results = await commit(batch.map(\.write))
            for (index, entry) in batch.enumerated() {
                entry.continuation.resume(
                    with: index < results.count ? results[index] : .failure(StoreError("the commit lost a write")))
            }
        }
        draining = false
        idleWaiters.forEach { $0.resume() }
        idleWaiters.removeAll()
    }

    /// Returns once every submitted write has been committed (or has failed).
    func waitUntilIdle() async {
        guard draining else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}

/// A store failure worth a log line: the hub answers it with close 1011.
public struct StoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
