import Logging
import PostgresNIO
import ServiceLifecycle
import WSChatProtocol

/// A node of a cluster of wschat-servers sharing one PostgreSQL database.
///
/// Shared state lives in tables: `nicks` (one row per user, so a nick is unique across
/// nodes), `members` (who is in which room, on which node) and `nodes` (a heartbeat per
/// node). Events travel by NOTIFY on channel `wschat`; a node that was not listening catches
/// up from the tables. A node whose heartbeat stops for `deadAfter` is reaped by the others:
/// its users quit everywhere.
final class PostgresCluster: ClusterLink, Service {
    static let heartbeat: Duration = .seconds(5)
    /// Heartbeat every 5 s, dead after 20 s: a dead node's users are gone within 25 s.
    static let deadAfterSeconds = 20

    let node: String
    let events: AsyncStream<ClusterEvent>
    private let eventSink: AsyncStream<ClusterEvent>.Continuation
    private let operations: AsyncStream<Operation>
    private let operationSink: AsyncStream<Operation>.Continuation
    private let store: PostgresHistoryStore
    private let url: PostgresURL
    private let logger: Logger
    private var client: PostgresClient { store.client }

    private enum Operation: Sendable {
        case change(ClusterChange)
        case claim(Nick, owner: String?, CheckedContinuation<Bool, any Error>)
    }

    init(node: String, url: String, store: PostgresHistoryStore, logger: Logger) throws {
        self.node = node
        self.url = try PostgresURL(url)
        self.store = store
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream()
        (operations, operationSink) = AsyncStream.makeStream()
    }

    // MARK: ClusterLink

    func claimNick(_ nick: Nick, owner: String?) async throws -> Bool {
        try await withCheckedThrowingContinuation { operationSink.yield(.claim(nick, owner: owner, $0)) }
    }

    func post(_ change: ClusterChange) {
        operationSink.yield(.change(change))
    }

    func remoteMembers(of room: RoomName) async throws -> [String] {
        var nicks: [String] = []
        for try await nick in try await client.query(
            "SELECT nick FROM members WHERE room_key = \(room.key) AND node <> \(node) ORDER BY joined_at, nick",
            logger: logger
        ).decode(String.self) {
            nicks.append(nick)
        }
        return nicks
    }

    func remoteRooms() async throws -> [RemoteRoom] {
        var rooms: [RemoteRoom] = []
        for try await (key, name, topic, members) in try await client.query(
            """
            SELECT r.key, r.name, r.topic, count(*) FROM members m JOIN rooms r ON r.key = m.room_key
            WHERE m.node <> \(node) GROUP BY r.key, r.name, r.topic
            """, logger: logger
        ).decode((String, String, String, Int).self) {
            rooms.append(RemoteRoom(key: key, name: name, topic: topic, members: members))
        }
        return rooms
    }

    func remoteNick(_ key: String) async throws -> NickHolder? {
        for try await (name, owner) in try await client.query(
            "SELECT name, owner FROM nicks WHERE key = \(key) AND node <> \(node)", logger: logger
        ).decode((String, String?).self) {
            return NickHolder(nick: try Nick(validating: name), owner: owner)
        }
        return nil
    }

    // MARK: Running

    func run() async throws {
        try await forgetThisNode(remove: false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.applyOperations() }
            group.addTask { await self.listen() }
            group.addTask { await self.beat() }
            // On graceful shutdown the hub has already closed every connection and posted
            // their departures; apply them, then leave the cluster.
            try? await gracefulShutdown()
            operationSink.finish()
            await group.next()
            group.cancelAll()
        }
        do {
            try await forgetThisNode(remove: true)
        } catch {
            logger.warning("could not leave the cluster cleanly", metadata: ["error": "\(String(reflecting: error))"])
        }
        eventSink.finish()
    }

    /// Removes this node's users (after a restart under the same name, or at shutdown) and
    /// tells the other nodes they quit; then registers (or removes) the node itself.
    private func forgetThisNode(remove: Bool) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await self.reap(
                "DELETE FROM members WHERE node = \(self.node) RETURNING room_key, nick, node", on: connection)
            try await connection.query("DELETE FROM nicks WHERE node = \(self.node)", logger: self.logger)
            if remove {
                try await connection.query("DELETE FROM nodes WHERE id = \(self.node)", logger: self.logger)
            } else {
                try await connection.query(
                    "INSERT INTO nodes (id, seen_at) VALUES (\(self.node), now()) ON CONFLICT (id) DO UPDATE SET seen_at = now()",
                    logger: self.logger)
            }
        }
    }

    /// Deletes member rows with `query` (which returns room_key, nick, node) and announces
    /// each as a quit in the name of the node the user was on.
    private func reap(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        var gone: [(String, String, String)] = []
        for try await row in try await connection.query(query, logger: logger).decode((String, String, String).self) {
            gone.append(row)
        }
        for (roomKey, nick, node) in gone {
            let payload = try ClusterNotice(
                node: node, event: .presence(roomKey: roomKey, nick: nick, event: .quit, reason: "connection lost")
            ).payload()
            try await connection.query("SELECT pg_notify(\(ClusterNotice.channel), \(payload))", logger: logger)
        }
    }

    private func beat() async {
        while !Task.isCancelled {
            do {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(
                        "INSERT INTO nodes (id, seen_at) VALUES (\(self.node), now()) ON CONFLICT (id) DO UPDATE SET seen_at = now()",
                        logger: self.logger)
                    try await self.reap(
                        """
                        WITH dead AS (
                            DELETE FROM nodes WHERE seen_at < now() - make_interval(secs => \(Self.deadAfterSeconds))
                            RETURNING id),
                        freed AS (
                            DELETE FROM nicks WHERE node IN (SELECT id FROM dead) OR node NOT IN (SELECT id FROM nodes))
                        DELETE FROM members WHERE node IN (SELECT id FROM dead) OR node NOT IN (SELECT id FROM nodes)
                        RETURNING room_key, nick, node
                        """, on: connection)
                }
            } catch {
                logger.warning("cluster heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: Self.heartbeat)
        }
    }

    private func applyOperations() async {
        for await operation in operations {
            switch operation {
            case .claim(let nick, let owner, let continuation):
                do {
                    continuation.resume(returning: try await claim(nick, owner: owner))
                } catch {
                    continuation.resume(throwing: error)
                }
            case .change(let change):
                do {
                    try await apply(change)
                } catch {
                    logger.error(
                        "could not share a change with the cluster",
                        metadata: ["change": "\(change)", "error": "\(String(reflecting: error))"])
                }
            }
        }
    }

    /// Claims `nick` and its confusable skeletons in one transaction: either all are free
    /// (or already this nick's) and the claim holds, or nothing is written.
    private func claim(_ nick: Nick, owner: String?) async throws -> Bool {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                var inserted = false
                for try await _ in try await connection.query(
                    """
                    INSERT INTO nicks (key, name, node, owner) VALUES (\(nick.key), \(nick.name), \(self.node), \(owner))
                    ON CONFLICT (key) DO NOTHING RETURNING key
                    """, logger: self.logger)
                {
                    inserted = true
                }
                guard inserted else { return false }
                for skeleton in nick.skeletons {
                    var mine = false
                    for try await _ in try await connection.query(
                        """
                        INSERT INTO nick_skeletons (skeleton, nick_key) VALUES (\(skeleton), \(nick.key))
                        ON CONFLICT (skeleton) DO UPDATE SET nick_key = EXCLUDED.nick_key
                        WHERE nick_skeletons.nick_key = EXCLUDED.nick_key RETURNING skeleton
                        """, logger: self.logger)
                    {
                        mine = true
                    }
                    // A nick that looks like this one is online on some node.
                    guard mine else { throw LookalikeOnline() }
                }
                return true
            }
        } catch let error as PostgresTransactionError where error.closureError is LookalikeOnline {
            return false
        }
    }

    /// Rolls a claim back: its nick looks like one in use.
    private struct LookalikeOnline: Error {}

    private func apply(_ change: ClusterChange) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let event: ClusterNotice.Event
            switch change {
            case .joined(let room, let nick):
                try await connection.query(
                    """
                    INSERT INTO members (room_key, nick_key, nick, node) VALUES (\(room.key), \(nick.key), \(nick.name), \(self.node))
                    ON CONFLICT (room_key, nick_key) DO UPDATE SET nick = EXCLUDED.nick, node = EXCLUDED.node
                    """, logger: self.logger)
                event = .presence(roomKey: room.key, nick: nick.name, event: .join, reason: nil)
            case .left(let roomKey, let nick, let presence, let reason):
                try await connection.query(
                    "DELETE FROM members WHERE room_key = \(roomKey) AND nick_key = \(nick.key) AND node = \(self.node)",
                    logger: self.logger)
                event = .presence(roomKey: roomKey, nick: nick.name, event: presence, reason: reason)
            case .renamed(let old, let new, let roomKeys):
                try await connection.query(
                    "UPDATE members SET nick_key = \(new.key), nick = \(new.name) WHERE nick_key = \(old.key) AND node = \(self.node)",
                    logger: self.logger)
                if old.key == new.key {
                    // Only the spelling changed: the claim stays.
                    try await connection.query(
                        "UPDATE nicks SET name = \(new.name) WHERE key = \(new.key) AND node = \(self.node)",
                        logger: self.logger)
                } else {
                    try await connection.query(
                        "DELETE FROM nicks WHERE key = \(old.key) AND node = \(self.node)", logger: self.logger)
                }
                event = .nick(old: old.name, new: new.name, roomKeys: roomKeys)
            case .released(let nick):
                try await connection.query(
                    "DELETE FROM nicks WHERE key = \(nick.key) AND node = \(self.node)", logger: self.logger)
                return
            case .topic(let roomKey, let topic, let by):
                event = .topic(roomKey: roomKey, topic: topic, by: by)
            }
            let payload = try ClusterNotice(node: self.node, event: event).payload()
            try await connection.query("SELECT pg_notify(\(ClusterNotice.channel), \(payload))", logger: self.logger)
        }
    }

    /// Listens on a connection of its own, reconnecting after a second when it drops; after
    /// every (re)connection the hub catches up on what it may have missed.
    private func listen() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                attempt += 1
                let connection = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(), id: attempt, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: ClusterNotice.channel) { notifications in
                    eventSink.yield(.resynchronize)
                    for try await notification in notifications {
                        await receive(notification.payload)
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "lost the cluster's notification connection; catching up once it is back",
                    metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func receive(_ payload: String) async {
        let notice: ClusterNotice
        do {
            notice = try ClusterNotice(payload: payload)
        } catch {
            logger.error("ignored a cluster notice that does not decode", metadata: ["payload": "\(payload)"])
            return
        }
        guard notice.node != node else { return }
        // A direct message too large for NOTIFY came as a reference: read it.
        if case .direct(let toKey, let pairKey, let id, nil) = notice.event {
            do {
                guard let message = try await store.directMessage(pairKey: pairKey, id: id) else { return }
                eventSink.yield(.notice(.direct(toKey: toKey, pairKey: pairKey, id: id, message: message)))
            } catch {
                logger.error("could not read a direct message", metadata: ["error": "\(String(reflecting: error))"])
            }
            return
        }
        eventSink.yield(.notice(notice.event))
    }
}
