import Foundation
import SQLiteNIO
import WSChatProtocol

/// The one connection that writes the database file. The group commit hands it one batch
/// at a time and each batch is one transaction.
actor SQLiteWriter {
    /// Rows one prune step deletes at most, so that appends never wait long behind it.
    static let pruneChunk = 5000

    let connection: SQLiteConnection

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func commit(_ writes: [StoreWrite]) async -> [Result<StoreOutput, any Error>] {
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
            var outputs: [StoreOutput] = []
            for write in writes { outputs.append(try await apply(write)) }
            _ = try await connection.query("COMMIT")
            return outputs.map { .success($0) }
        } catch {
            _ = try? await connection.query("ROLLBACK")
            guard writes.count > 1 else { return [.failure(error)] }
            // Find the write that failed: the others still deserve to be stored.
            var results: [Result<StoreOutput, any Error>] = []
            for write in writes { results += await commit([write]) }
            return results
        }
    }

    private func apply(_ write: StoreWrite) async throws -> StoreOutput {
        switch write {
        case .openRoom(let name): .room(try await openRoom(name))
        case .message(let message): .message(try await append(message))
        case .direct(let message): .direct(try await appendDirect(message))
        case .topic(let topic, let room):
            try await setTopic(topic, in: room)
        case .prune(let policy, let now): .pruned(try await prune(policy, now: now))
        }
    }

    private func openRoom(_ name: RoomName) async throws -> RoomRecord {
        if let record = try await SQLiteRows.room(name.key, on: connection) { return record }
        _ = try await connection.query(
            "INSERT INTO rooms (key, name, epoch) VALUES (?, ?, ?)",
            [.text(name.key), .text(name.name), .text(UUID().uuidString.lowercased())])
        guard let record = try await SQLiteRows.room(name.key, on: connection) else {
            throw StoreError("room \(name.name) vanished after it was created")
        }
        return record
    }

    private func append(_ new: NewMessage) async throws -> Appended<ChatMessage> {
        if let original = try await SQLiteRows.message(cid: new.cid, inRoom: new.room.key, on: connection) {
            return .duplicate(original)
        }
        let room = try await openRoom(new.room)
        let id = room.lastID + 1
        _ = try await connection.query(
            "INSERT INTO messages (room_key, id, ts, nick, text, cid, action) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(new.room.key), .integer(Int(id)), .integer(Int(new.ts)), .text(new.from), .text(new.text),
                .text(new.cid), .integer(new.action == true ? 1 : 0),
            ])
        _ = try await connection.query(
            "UPDATE rooms SET last_id = ? WHERE key = ?", [.integer(Int(id)), .text(new.room.key)])
        return .new(
            ChatMessage(
                room: room.name, id: id, ts: new.ts, from: new.from, text: new.text, cid: new.cid,
                action: new.action == true ? true : nil))
    }

    private func appendDirect(_ new: NewDirectMessage) async throws -> Appended<DirectMessage> {
        if let original = try await SQLiteRows.directMessage(cid: new.cid, on: connection) {
            return .duplicate(original)
        }
        let rows = try await connection.query(
            """
            INSERT INTO direct_pairs (key, last_id) VALUES (?, 1)
            ON CONFLICT (key) DO UPDATE SET last_id = direct_pairs.last_id + 1 RETURNING last_id
            """, [.text(new.pairKey)])
        guard let id = try rows.first?.int("last_id") else { throw StoreError("no id for a direct message") }
        _ = try await connection.query(
            "INSERT INTO direct_messages (pair_key, id, ts, from_nick, to_nick, text, cid) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(new.pairKey), .integer(Int(id)), .integer(Int(new.ts)), .text(new.from.name), .text(new.to.name),
                .text(new.text), .text(new.cid),
            ])
        return .new(
            DirectMessage(id: id, ts: new.ts, from: new.from.name, to: new.to.name, text: new.text, cid: new.cid))
    }

    private func setTopic(_ topic: String, in room: RoomName) async throws -> StoreOutput {
        _ = try await openRoom(room)
        _ = try await connection.query("UPDATE rooms SET topic = ? WHERE key = ?", [.text(topic), .text(room.key)])
        return .done
    }

    private func prune(_ policy: RetentionPolicy, now: Int64) async throws -> Int {
        var deleted = 0
        let chunk = SQLiteData.integer(Self.pruneChunk)
        if let cutoff = policy.cutoff(now: now) {
            deleted += try await delete(
                """
                DELETE FROM messages WHERE (room_key, id) IN
                    (SELECT room_key, id FROM messages WHERE ts < ? LIMIT ?)
                """, [.integer(Int(cutoff)), chunk])
            deleted += try await delete(
                """
                DELETE FROM direct_messages WHERE (pair_key, id) IN
                    (SELECT pair_key, id FROM direct_messages WHERE ts < ? LIMIT ?)
                """, [.integer(Int(cutoff)), chunk])
        }
        if let maxPerRoom = policy.maxPerRoom {
            deleted += try await delete(
                """
                DELETE FROM messages WHERE (room_key, id) IN
                    (SELECT m.room_key, m.id FROM rooms r JOIN messages m ON m.room_key = r.key
                     WHERE m.id <= r.last_id - ? LIMIT ?)
                """, [.integer(maxPerRoom), chunk])
        }
        return deleted
    }

    private func delete(_ statement: String, _ binds: [SQLiteData]) async throws -> Int {
        _ = try await connection.query(statement, binds)
        return Int(try await connection.query("SELECT changes() AS count").first?.int("count") ?? 0)
    }
}
