import Foundation
import Logging
import WSChatServer

/// The three history back ends, for suites that run once per back end.
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory, sqlite, postgres

    public var description: String { rawValue }

    /// The back ends whose history outlives the store object.
    public static let durable: [StoreKind] = [.sqlite, .postgres]

    /// Where a new, empty store of this kind keeps its data; `open` it (again) with `open(_:)`.
    public func makeLocation() async throws -> String {
        switch self {
        case .memory: ""
        case .sqlite: NSTemporaryDirectory() + "wschat-store-\(UUID().uuidString)/history.sqlite3"
        case .postgres: try await TestPostgres.freshDatabase()
        }
    }

    public func open(_ location: String, node: String = "test-node") async throws -> any HistoryStore {
        let logger = Logger(label: "test-store")
        switch self {
        case .memory:
            return MemoryHistoryStore()
        case .sqlite:
            let directory = (location as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return try await SQLiteHistoryStore.open(path: location, logger: logger)
        case .postgres:
            return try await PostgresHistoryStore(url: location, node: node, logger: logger)
        }
    }

    /// Records `version` as the schema version of the database at `location`, as a newer (or
    /// older) wschat-server would have left it.
    public func setSchemaVersion(_ version: Int, at location: String) async throws {
        switch self {
        case .memory:
            throw TestFailure("a memory store has no schema")
        case .sqlite:
            try await TestSQLite.execute("PRAGMA user_version = \(version)", in: location)
        case .postgres:
            try await TestPostgres.execute("UPDATE wschat_schema SET version = \(version)", in: location)
        }
    }

    /// A new, empty store.
    public func makeStore() async throws -> any HistoryStore {
        try await open(try await makeLocation())
    }
}
