import Logging
import PostgresNIO
import WSChatProtocol

/// The queries that read rows back as protocol values, on a pooled connection or inside a
/// writer's transaction.
enum PostgresRows {
    static func room(_ key: String, on connection: PostgresConnection, logger: Logger) async throws -> RoomRecord? {
        var record: RoomRecord?
        for try await (name, epoch, topic, lastID) in try await connection.query(
            "SELECT name, epoch, topic, last_id FROM rooms WHERE key = \(key)", logger: logger
        ).decode((String, String, String, Int64).self) {
            record = RoomRecord(name: name, epoch: epoch, topic: topic, lastID: lastID)
        }
        return record
    }

    static func message(cid: String, inRoom key: String, on connection: PostgresConnection, logger: Logger)
        async throws -> ChatMessage?
    {
        try await messages(
            """
            SELECT r.name, m.id, m.ts, m.nick, m.text, m.cid, m.action FROM messages m
            JOIN rooms r ON r.key = m.room_key WHERE m.room_key = \(key) AND m.cid = \(cid)
            """, on: connection, logger: logger
        ).first
    }

    static func messages(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> [ChatMessage]
    {
        var messages: [ChatMessage] = []
        for try await (room, id, ts, from, text, cid, action) in try await connection.query(query, logger: logger)
            .decode((String, Int64, Int64, String, String, String, Bool).self)
        {
            messages.append(
                ChatMessage(room: room, id: id, ts: ts, from: from, text: text, cid: cid, action: action ? true : nil))
        }
        return messages
    }

    static func directMessage(cid: String, on connection: PostgresConnection, logger: Logger) async throws
        -> DirectMessage?
    {
        try await directMessages(
            "SELECT id, ts, from_nick, to_nick, text, cid FROM direct_messages WHERE cid = \(cid)",
            on: connection, logger: logger
        ).first
    }

    static func directMessages(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger)
        async throws -> [DirectMessage]
    {
        var messages: [DirectMessage] = []
        for try await (id, ts, from, to, text, cid) in try await connection.query(query, logger: logger)
            .decode((Int64, Int64, String, String, String, String).self)
        {
            messages.append(DirectMessage(id: id, ts: ts, from: from, to: to, text: text, cid: cid))
        }
        return messages
    }
}
