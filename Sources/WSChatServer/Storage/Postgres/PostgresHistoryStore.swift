import Foundation
import Logging
import NIOSSL
import PostgresNIO
import WSChatProtocol

/// History in PostgreSQL (`--database postgres://…`), shared by every node that uses the
/// same database. Writes are group-committed; each committed message is also a NOTIFY that
/// the other nodes' `PostgresCluster` turns into live delivery.
public final class PostgresHistoryStore: HistoryStore {
    let client: PostgresClient
    let logger: Logger
    private let commits: GroupCommit<StoreWrite, StoreOutput>
    private let running: Task<Void, Never>
    private let indexing: Task<Void, Never>

    /// Connects to `url`, migrates the schema, and writes as node `node`.
    public init(url: String, node: String, logger: Logger) async throws {
        let address = try PostgresURL(url)
        do {
            // One direct connection first: the pool would retry a database that refuses or
            // rejects it forever, without a word, and the server would never start.
            let connection = try await PostgresConnection.connect(
                configuration: try address.connectionConfiguration(), id: 0, logger: logger)
            do {
                try await PostgresSchema.migrate(connection, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw StoreError("cannot prepare the database \(PostgresURL.redacted(url)): \(Self.explain(error))")
        }
        // The pool warns at every lease until its `run` task has started, which it is about to.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: address.clientConfiguration, backgroundLogger: poolLogger)
        self.client = client
        self.logger = logger
        // The pool works only while `run` does; the store owns that task for its lifetime.
        self.running = Task { await client.run() }
        let writer = PostgresWriter(client: client, node: node, logger: logger)
        let commits = GroupCommit<StoreWrite, StoreOutput> { batch in await writer.commit(batch) }
        self.commits = commits
        // A merge step is one call, however much it merges: never repeated at once.
        self.indexing = commits.keepingSearchIndexed(fullStep: .max, logger: logger)
    }

    /// What went wrong, in the server's words when it said any: PSQLError's own description
    /// is deliberately vague, and its reflection is a page long.
    static func explain(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    public func openRoom(_ name: RoomName) async throws -> RoomRecord {
        let existing = try await client.withConnection { [logger] connection in
            try await PostgresRows.room(name.key, on: connection, logger: logger)
        }
        if let existing { return existing }
        return try await commits.openRoom(name)
    }

    public func append(_ message: NewMessage) async throws -> Appended<ChatMessage> {
        try await commits.append(message)
    }

    public func appendDirect(_ message: NewDirectMessage) async throws -> Appended<DirectMessage> {
        try await commits.appendDirect(message)
    }

    public func setTopic(_ topic: String, in room: RoomName) async throws {
        try await commits.setTopic(topic, in: room)
    }

    public func forgetRoomIfUnused(_ room: RoomName) async throws {
        try await commits.forgetRoomIfUnused(room)
    }

    public func prune(_ policy: RetentionPolicy, now: Int64) async throws -> Int {
        try await commits.prune(policy, now: now)
    }

    public func messages(in room: RoomName, after id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage {
        try await page(in: room, from: id, newer: true, limit: limit, textBytes: textBytes)
    }

    public func messages(in room: RoomName, before id: Int64, limit: Int, textBytes: Int) async throws -> HistoryPage {
        try await page(in: room, from: id, newer: false, limit: limit, textBytes: textBytes)
    }

    /// The messages next to `id` (after it when `newer`, else before it), at most `limit`
    /// and `textBytes` of text, in reading order: the sizes are read first, the page is cut
    /// (`HistoryPageCut`), then only the kept range is read.
    private func page(in room: RoomName, from id: Int64, newer: Bool, limit: Int, textBytes: Int) async throws
        -> HistoryPage
    {
        try await client.withConnection { [logger] connection in
            // octet_length gives a stored (even TOASTed) text's size without reading it.
            var sizes: [(id: Int64, size: Int)] = []
            for try await (messageID, size) in try await connection.query(
                """
                SELECT id, octet_length(text) FROM messages WHERE room_key = \(room.key)
                AND id \(unescaped: newer ? ">" : "<") \(id) ORDER BY id \(unescaped: newer ? "" : "DESC") LIMIT \(limit + 1)
                """, logger: logger
            ).decode((Int64, Int32).self) {
                sizes.append((messageID, Int(size)))
            }
            let cut = HistoryPageCut(textSizes: sizes.map(\.size), limit: limit, textBytes: textBytes)
            guard cut.count > 0 else { return HistoryPage(messages: [], more: false) }
            let farthest = sizes[cut.count - 1].id
            let (lowest, highest) = newer ? (id + 1, farthest) : (farthest, id - 1)
            let rows = try await PostgresRows.messages(
                """
                SELECT r.name, m.id, m.ts, m.nick, m.text, m.cid, m.action FROM messages m
                JOIN rooms r ON r.key = m.room_key WHERE m.room_key = \(room.key)
                AND m.id BETWEEN \(lowest) AND \(highest) ORDER BY m.id
                """, on: connection, logger: logger)
            return HistoryPage(messages: rows, more: cut.more)
        }
    }

    public func search(_ text: String, in room: RoomName?, limit: Int) async throws -> HistoryPage {
        let pattern = LikePattern.containing(text)
        let rows = try await client.withConnection { [logger] connection in
            if let room {
                try await PostgresRows.messages(
                    """
                    SELECT r.name, m.id, m.ts, m.nick, m.text, m.cid, m.action FROM messages m
                    JOIN rooms r ON r.key = m.room_key WHERE m.room_key = \(room.key) AND m.text ILIKE \(pattern)
                    ORDER BY m.ts DESC, m.id DESC LIMIT \(limit + 1)
                    """, on: connection, logger: logger)
            } else {
                try await PostgresRows.messages(
                    """
                    SELECT r.name, m.id, m.ts, m.nick, m.text, m.cid, m.action FROM messages m
                    JOIN rooms r ON r.key = m.room_key WHERE m.text ILIKE \(pattern)
                    ORDER BY m.ts DESC, m.id DESC LIMIT \(limit + 1)
                    """, on: connection, logger: logger)
            }
        }
        return HistoryPage(messages: Array(rows.prefix(limit)), more: rows.count > limit)
    }

    public func directMessages(
        between nick: Nick, and other: Nick, owner: String, before id: Int64, limit: Int, textBytes: Int
    ) async throws -> DirectHistoryPage {
        let pair = NewDirectMessage.pairKey(nick, other)
        return try await client.withConnection { [logger] connection in
            var sizes: [(id: Int64, size: Int)] = []
            for try await (messageID, size) in try await connection.query(
                """
                SELECT id, octet_length(text) FROM direct_messages WHERE pair_key = \(pair) AND id < \(id)
                AND (from_owner = \(owner) OR to_owner = \(owner)) ORDER BY id DESC LIMIT \(limit + 1)
                """, logger: logger
            ).decode((Int64, Int32).self) {
                sizes.append((messageID, Int(size)))
            }
            let cut = HistoryPageCut(textSizes: sizes.map(\.size), limit: limit, textBytes: textBytes)
            guard cut.count > 0 else { return DirectHistoryPage(messages: [], more: false) }
            let rows = try await PostgresRows.directMessages(
                """
                SELECT id, ts, from_nick, to_nick, text, cid FROM direct_messages WHERE pair_key = \(pair)
                AND id BETWEEN \(sizes[cut.count - 1].id) AND \(id - 1)
                AND (from_owner = \(owner) OR to_owner = \(owner)) ORDER BY id
                """, on: connection, logger: logger)
            return DirectHistoryPage(messages: rows, more: cut.more)
        }
    }

    /// One direct message, for a notice that came as a reference.
    func directMessage(pairKey: String, id: Int64) async throws -> DirectMessage? {
        try await client.withConnection { [logger] connection in
            try await PostgresRows.directMessages(
                """
                SELECT id, ts, from_nick, to_nick, text, cid FROM direct_messages
                WHERE pair_key = \(pairKey) AND id = \(id)
                """, on: connection, logger: logger
            ).first
        }
    }

    public func close() async {
        indexing.cancel()
        await indexing.value
        await commits.waitUntilIdle()
        running.cancel()
        await running.value
    }
}

/// A `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]` URL.
struct PostgresURL {
    enum TLSMode: String { case disable, prefer, require }

    let host: String
    let port: Int
    let username: String
    let password: String?
    let database: String?
    let tls: TLSMode

    init(_ text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql",
            let host = url.host, !host.isEmpty
        else {
            throw StoreError("\(Self.redacted(text)) is not a database URL like postgres://user@host:5432/database")
        }
        let mode = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? TLSMode.prefer.rawValue
        guard let tls = TLSMode(rawValue: mode) else {
            throw StoreError("sslmode \(mode) is not one of disable, prefer, require")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.host = host
        self.port = url.port ?? 5432
        self.username = url.user ?? "postgres"
        self.password = url.password
        self.database = database.isEmpty ? nil : database
        self.tls = tls
    }

    /// The pool's configuration: a few connections per node are plenty, since writes are batched.
    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// The configuration of a connection of its own (the cluster's LISTEN connection).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The URL without its password, for messages and logs.
    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "the database URL"
    }
}
