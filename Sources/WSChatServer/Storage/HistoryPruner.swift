import Logging
import ServiceLifecycle

/// Deletes history the retention policy no longer keeps: at start, then every `interval`,
/// a bounded chunk at a time so that appends are never held up for long.
struct HistoryPruner: Service {
    let store: any HistoryStore
    let policy: RetentionPolicy
    let interval: Duration
    let logger: Logger

    func run() async {
        guard policy.maxAgeDays != nil || policy.maxPerRoom != nil else {
            // Nothing to prune; a service that returned early would stop the server.
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pruneEverything()
                try await Task.sleep(for: interval)
            }
        }
    }

    private func pruneEverything() async {
        var total = 0
        do {
            while !Task.isCancelled {
                let pruned = try await store.prune(policy, now: ChatHub.now())
                guard pruned > 0 else { break }
                total += pruned
            }
        } catch {
            logger.error("could not prune history", metadata: ["error": "\(String(reflecting: error))"])
        }
        if total > 0 { logger.info("pruned history", metadata: ["messages": "\(total)"]) }
    }
}
