import SQLiteNIO
import WSChatProtocol

/// The queries that read rows back as protocol values, shared by the reader and the writer
/// (which must see its own uncommitted rows).
enum SQLiteRows {
    static let messageColumns = "r.name, m.id, m.ts, m.nick, m.text, m.cid, m.action"

    static func room(_ key: String, on connection: SQLiteConnection) async throws -> RoomRecord? {
        let rows = try await connection.query(
            "SELECT name, epoch, topic, last_id FROM rooms WHERE key = ?", [.text(key)])
        return try rows.first.map { row in
            RoomRecord(
                name: try row.text("name"), epoch: try row.text("epoch"), topic: try row.text("topic"),
                lastID: try row.int("last_id"))
        }
    }

    static func message(cid: String, inRoom key: String, on connection: SQLiteConnection) async throws -> ChatMessage? {
        try await connection.query(
            "SELECT \(messageColumns) FROM messages m JOIN rooms r ON r.key = m.room_key WHERE m.room_key = ? AND m.cid = ?",
            [.text(key), .text(cid)]
        ).first.map(chatMessage)
    }

    static let directColumns = "id, ts, from_nick, to_nick, text, cid"

    static func directMessage(cid: String, on connection: SQLiteConnection) async throws -> DirectMessage? {
        try await connection.query(
            "SELECT \(directColumns) FROM direct_messages WHERE cid = ?", [.text(cid)]
        ).first.map(directMessage)
    }

    static func directMessage(_ row: SQLiteRow) throws -> DirectMessage {
        DirectMessage(
            id: try row.int("id"), ts: try row.int("ts"), from: try row.text("from_nick"),
            to: try row.text("to_nick"), text: try row.text("text"), cid: try row.text("cid"))
    }

    static func chatMessage(_ row: SQLiteRow) throws -> ChatMessage {
        ChatMessage(
            room: try row.text("name"), id: try row.int("id"), ts: try row.int("ts"), from: try row.text("nick"),
            text: try row.text("text"), cid: try row.text("cid"), action: try row.int("action") != 0 ? true : nil)
    }
}

extension SQLiteRow {
    func text(_ column: String) throws -> String {
        guard let value = self.column(column)?.string else { throw StoreError("column \(column) is missing") }
        return value
    }

    func int(_ column: String) throws -> Int64 {
        guard let value = self.column(column)?.integer else { throw StoreError("column \(column) is missing") }
        return Int64(value)
    }
}
