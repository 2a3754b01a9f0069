import Foundation
import Logging
import PostgresNIO
import WSChatProtocol

/// Commits batches of writes to PostgreSQL, one transaction per batch. Each new message or
/// direct message is announced with a NOTIFY inside the same transaction, so other nodes
/// hear of exactly the rows that were committed, in commit order.
///
/// Ids come from the room's row (`rooms.last_id`), locked for the rest of the transaction:
/// nodes appending to one room take turns, which gives the room one id sequence.
struct PostgresWriter: Sendable {
    static let pruneChunk = 5000

    let client: PostgresClient
    let node: String
    let logger: Logger

    func commit(_ writes: [StoreWrite]) async -> [Result<StoreOutput, any Error>] {
        // Rows are locked in one global order (rooms, then pairs, by key) so that two nodes'
        // batches can never wait for each other. The sort is stable: one room's messages
        // keep their order.
        let order = writes.indices.sorted { Self.lockKey(writes[$0]) < Self.lockKey(writes[$1]) }
        do {
            let outputs = try await client.withTransaction(logger: logger) { connection in
                var outputs: [Int: StoreOutput] = [:]
                for index in order {
                    outputs[index] = try await apply(writes[index], on: connection)
                }
                return outputs
            }
            return writes.indices.map { index in
                outputs[index].map { .success($0) } ?? .failure(StoreError("the commit lost a write"))
            }
        } catch {
            guard writes.count > 1 else { return [.failure(error)] }
            var results: [Result<StoreOutput, any Error>] = []
            for write in writes { results += await commit([write]) }
            return results
        }
    }

    private static func lockKey(_ write: StoreWrite) -> String {
        switch write {
        case .openRoom(let room), .topic(_, let room), .forgetRoom(let room): "0" + room.key
        case .message(let message): "0" + message.room.key
        case .direct(let message): "1" + message.pairKey
        case .prune, .indexForSearch: "2"
        }
    }

    private func apply(_ write: StoreWrite, on connection: PostgresConnection) async throws -> StoreOutput {
        switch write {
        case .openRoom(let name): .room(try await openRoom(name, on: connection))
        case .message(let message): .message(try await append(message, on: connection))
        case .direct(let message): .direct(try await appendDirect(message, on: connection))
        case .topic(let topic, let room):
            try await setTopic(topic, in: room, on: connection)
        case .forgetRoom(let room): try await forgetRoom(room, on: connection)
        case .prune(let policy, let now): .pruned(try await prune(policy, now: now, on: connection))
        case .indexForSearch:
            .pruned(
                try await connection.query(
                    "SELECT gin_clean_pending_list('messages_by_trigram')::int", logger: logger
                ).collect().first?.decode(Int.self) ?? 0)
        }
    }

    /// Deletes a room that never held a message or a topic and that no node lists a member of.
    private func forgetRoom(_ room: RoomName, on connection: PostgresConnection) async throws -> StoreOutput {
        try await connection.query(
            """
            DELETE FROM rooms WHERE key = \(room.key) AND last_id = 0 AND topic = ''
            AND NOT EXISTS (SELECT 1 FROM members WHERE room_key = \(room.key))
            """, logger: logger)
        return .done
    }

    private func openRoom(_ name: RoomName, on connection: PostgresConnection) async throws -> RoomRecord {
        try await connection.query(
            """
            INSERT INTO rooms (key, name, epoch) VALUES (\(name.key), \(name.name), \(UUID().uuidString.lowercased()))
            ON CONFLICT (key) DO NOTHING
            """, logger: logger)
        guard let record = try await PostgresRows.room(name.key, on: connection, logger: logger) else {
            throw StoreError("room \(name.name) vanished after it was created")
        }
        return record
    }

    private func append(_ new: NewMessage, on connection: PostgresConnection) async throws -> Appended<ChatMessage> {
        // Lock the room's row first: a duplicate committed by another node meanwhile is then
        // visible to the cid check below.
        var locked = try await lockRoom(new.room.key, on: connection)
        if locked == nil {
            _ = try await openRoom(new.room, on: connection)
            locked = try await lockRoom(new.room.key, on: connection)
        }
        guard let (name, lastID) = locked else { throw StoreError("room \(new.room.name) has no row") }
        if let original = try await PostgresRows.message(
            cid: new.cid, inRoom: new.room.key, on: connection, logger: logger)
        {
            return .duplicate(original)
        }
        let message = ChatMessage(
            room: name, id: lastID + 1, ts: new.ts, from: new.from, text: new.text, cid: new.cid,
            action: new.action == true ? true : nil)
        let notice = try ClusterNotice(
            node: node, event: .message(roomKey: new.room.key, id: message.id, message: message)
        ).payload()
        try await connection.query(
            """
            WITH stored AS (
                INSERT INTO messages (room_key, id, ts, nick, text, cid, action)
                VALUES (\(new.room.key), \(message.id), \(message.ts), \(message.from), \(message.text),
                        \(message.cid), \(message.action == true))),
            numbered AS (UPDATE rooms SET last_id = \(message.id) WHERE key = \(new.room.key))
            SELECT pg_notify(\(ClusterNotice.channel), \(notice))
            """, logger: logger)
        return .new(message)
    }

    /// The room's display name and newest id, its row locked until the transaction ends.
    private func lockRoom(_ key: String, on connection: PostgresConnection) async throws -> (String, Int64)? {
        var locked: (String, Int64)?
        for try await row in try await connection.query(
            "SELECT name, last_id FROM rooms WHERE key = \(key) FOR UPDATE", logger: logger
        ).decode((String, Int64).self) {
            locked = row
        }
        return locked
    }

    private func appendDirect(_ new: NewDirectMessage, on connection: PostgresConnection) async throws
        -> Appended<DirectMessage>
    {
        if let original = try await PostgresRows.directMessage(cid: new.cid, on: connection, logger: logger) {
            return .duplicate(original)
        }
        var id: Int64?
        for try await lastID in try await connection.query(
            """
            INSERT INTO direct_pairs (key, last_id) VALUES (\(new.pairKey), 1)
            ON CONFLICT (key) DO UPDATE SET last_id = direct_pairs.last_id + 1 RETURNING last_id
            """, logger: logger
        ).decode(Int64.self) {
            id = lastID
        }
        guard let id else { throw StoreError("no id for a direct message") }
        let message = DirectMessage(
            id: id, ts: new.ts, from: new.from.name, to: new.to.name, text: new.text, cid: new.cid)
        let notice = try ClusterNotice(
            node: node, event: .direct(toKey: new.to.key, pairKey: new.pairKey, id: id, message: message)
        ).payload()
        try await connection.query(
            """
            WITH stored AS (
                INSERT INTO direct_messages (pair_key, id, ts, from_nick, to_nick, text, cid, from_owner, to_owner)
                VALUES (\(new.pairKey), \(id), \(new.ts), \(message.from), \(message.to), \(message.text),
                        \(message.cid), \(new.fromOwner), \(new.toOwner)))
            SELECT pg_notify(\(ClusterNotice.channel), \(notice))
            """, logger: logger)
        return .new(message)
    }

    private func setTopic(_ topic: String, in room: RoomName, on connection: PostgresConnection) async throws
        -> StoreOutput
    {
        _ = try await openRoom(room, on: connection)
        try await connection.query("UPDATE rooms SET topic = \(topic) WHERE key = \(room.key)", logger: logger)
        return .done
    }

    private func prune(_ policy: RetentionPolicy, now: Int64, on connection: PostgresConnection) async throws -> Int {
        var deleted = 0
        let chunk = Self.pruneChunk
        if let cutoff = policy.cutoff(now: now) {
            deleted += try await count(
                """
                DELETE FROM messages WHERE (room_key, id) IN
                    (SELECT room_key, id FROM messages WHERE ts < \(cutoff) LIMIT \(chunk)) RETURNING 1
                """, on: connection)
            deleted += try await count(
                """
                DELETE FROM direct_messages WHERE (pair_key, id) IN
                    (SELECT pair_key, id FROM direct_messages WHERE ts < \(cutoff) LIMIT \(chunk)) RETURNING 1
                """, on: connection)
        }
        if let maxPerRoom = policy.maxPerRoom {
            deleted += try await count(
                """
                DELETE FROM messages WHERE (room_key, id) IN
                    (SELECT m.room_key, m.id FROM rooms r JOIN messages m ON m.room_key = r.key
                     WHERE m.id <= r.last_id - \(maxPerRoom) LIMIT \(chunk)) RETURNING 1
                """, on: connection)
        }
        return deleted
    }

    private func count(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
        var rows = 0
        for try await _ in try await connection.query(query, logger: logger) { rows += 1 }
        return rows
    }
}
