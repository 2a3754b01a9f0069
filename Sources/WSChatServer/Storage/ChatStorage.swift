import Foundation
import Logging

/// Where a server keeps its history: memory, an SQLite file, or a PostgreSQL database that
/// several nodes share (and then the cluster this node joins).
public struct ChatStorage: Sendable {
    public let store: any HistoryStore
    let cluster: PostgresCluster?
    /// Where the history is, for the startup log.
    public let summary: String

    /// A store of the caller's choice, on a single node.
    public init(store: any HistoryStore, summary: String) {
        self.store = store
        self.cluster = nil
        self.summary = summary
    }

    private init(store: any HistoryStore, cluster: PostgresCluster, summary: String) {
        self.store = store
        self.cluster = cluster
        self.summary = summary
    }

    /// History in memory, lost when the process ends (`--memory`).
    public static func memory() -> ChatStorage {
        ChatStorage(store: MemoryHistoryStore(), summary: "memory (lost on exit)")
    }

    /// History in `history.sqlite3` under `directory`, created if needed (the default).
    public static func sqlite(directory: String, logger: Logger) async throws -> ChatStorage {
        let store = try await SQLiteHistoryStore.open(directory: directory, logger: logger)
        return ChatStorage(store: store, summary: "sqlite \(store.path)")
    }

    /// History in PostgreSQL, shared with every node started with the same `url`; `node`
    /// names this one (the same name after a restart lets it clear its old users at once).
    public static func postgres(url: String, node: String, logger: Logger) async throws -> ChatStorage {
        let store = try await PostgresHistoryStore(url: url, node: node, logger: logger)
        do {
            let cluster = try PostgresCluster(node: node, url: url, store: store, logger: logger)
            return ChatStorage(
                store: store, cluster: cluster, summary: "postgres \(PostgresURL.redacted(url)) as node \(node)")
        } catch {
            await store.close()
            throw error
        }
    }

    /// `$XDG_DATA_HOME/wschat-server`, or `~/.local/share/wschat-server`.
    public static var defaultDataDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("wschat-server")
        }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".local/share/wschat-server")
    }
}
