import Foundation
import SQLiteNIO
import WSChatProtocol

/// The one connection that writes the database file. The group commit hands it one batch
/// at a time and each batch is one transaction.
///
/// Every statement is a trip to SQLite's thread and back, which costs more than the insert, so
/// a batch of messages alone is one statement and one transaction (a trigger keeps
/// `rooms.last_id`): the writer is the only one appending to the file (the store holds its
/// `DatabaseLock`), so it numbers each room's messages itself.
actor SQLiteWriter {
    /// Rows one prune step deletes at most, so that appends never wait long behind it.
    static let pruneChunk = 5000
    /// Messages one indexing step adds to the search index at most.
    static let indexChunk = 5000
    /// Messages one INSERT carries at most: seven parameters each, well under SQLite's limit
    /// of 32 766 parameters per statement. As many as the group commit's largest batch.
    static let messagesPerInsert = 512

    /// A room this writer has appended to or opened: its display name and newest id.
    private struct Numbering {
        var name: String
        var lastID: Int64
    }

    let connection: SQLiteConnection
    private var numbering: [String: Numbering] = [:]

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func commit(_ writes: [StoreWrite]) async -> [Result<StoreOutput, any Error>] {
        let messages = Self.messages(leading: writes[...])
        guard !messages.isEmpty, messages.count == writes.count else {
            return await commit(writes, appending: .together)
        }
        // Messages alone: one statement is the transaction. A cid already stored (or repeated
        // in the batch) fails the whole statement, which then inserted nothing; one message
        // alone is answered as a duplicate.
        let numberingBefore = numbering
        do {
            if messages.count == 1 { return [.success(.message(try await append(messages[0])))] }
            let numbered = try await number(messages)
            try await insert(numbered, skippingRepeatedCIDs: false)
            return numbered.map { .success(.message(.new($0.message))) }
        } catch {
            numbering = numberingBefore
            return await commit(writes, appending: .oneByOne)
        }
    }

    /// How a batch's messages go into `messages`.
    private enum Appending {
        /// One statement for each run of messages in the batch: every statement is a trip to
        /// SQLite's thread and back, which cost more than the insert itself.
        case together
        /// One statement per message, so that a cid already stored is answered as a duplicate.
        case oneByOne
    }

    /// A run of messages inserted fewer rows than it holds: one of them repeats a cid.
    private struct RepeatedCID: Error {}

    private func commit(_ writes: [StoreWrite], appending: Appending) async -> [Result<StoreOutput, any Error>] {
        let numberingBefore = numbering
        do {
            _ = try await connection.query("BEGIN IMMEDIATE")
            var outputs: [StoreOutput] = []
            var rest = writes[...]
            while let write = rest.first {
                let messages = appending == .together ? Self.messages(leading: rest) : []
                if messages.count > 1 {
                    outputs += try await append(messages).map(StoreOutput.message)
                    rest = rest.dropFirst(messages.count)
                } else {
                    outputs.append(try await apply(write))
                    rest = rest.dropFirst()
                }
            }
            _ = try await connection.query("COMMIT")
            return outputs.map { .success($0) }
        } catch {
            _ = try? await connection.query("ROLLBACK")
            // The ids the batch took were not committed: hand them out again.
            numbering = numberingBefore
            if error is RepeatedCID { return await commit(writes, appending: .oneByOne) }
            guard writes.count > 1 else { return [.failure(error)] }
            // Find the write that failed: the others still deserve to be stored.
            var results: [Result<StoreOutput, any Error>] = []
            for write in writes { results += await commit([write], appending: .oneByOne) }
            return results
        }
    }

    /// The messages at the head of `writes`, at most `messagesPerInsert` of them.
    private static func messages(leading writes: ArraySlice<StoreWrite>) -> [NewMessage] {
        var messages: [NewMessage] = []
        for write in writes.prefix(messagesPerInsert) {
            guard case .message(let message) = write else { break }
            messages.append(message)
        }
        return messages
    }

    private func apply(_ write: StoreWrite) async throws -> StoreOutput {
        switch write {
        case .openRoom(let name): .room(try await openRoom(name))
        case .message(let message): .message(try await append(message))
        case .direct(let message): .direct(try await appendDirect(message))
        case .topic(let topic, let room):
            try await setTopic(topic, in: room)
        case .forgetRoom(let room): try await forgetRoom(room)
        case .prune(let policy, let now): .pruned(try await prune(policy, now: now))
        case .indexForSearch: .pruned(try await indexForSearch())
        }
    }

    /// The room's row, created on first use, with the newest id this writer has handed out.
    private func openRoom(_ name: RoomName) async throws -> RoomRecord {
        var record = try await SQLiteRows.room(name.key, on: connection)
        if record == nil {
            _ = try await connection.query(
                "INSERT INTO rooms (key, name, epoch) VALUES (?, ?, ?)",
                [.text(name.key), .text(name.name), .text(UUID().uuidString.lowercased())])
            record = try await SQLiteRows.room(name.key, on: connection)
        }
        guard var record else { throw StoreError("room \(name.name) vanished after it was created") }
        if let numbered = numbering[name.key] {
            record.lastID = numbered.lastID
        } else {
            numbering[name.key] = Numbering(name: record.name, lastID: record.lastID)
        }
        return record
    }

    /// Deletes a room that never held a message or a topic; the writer's own numbering answers
    /// first, without a trip to SQLite, for a room it has numbered messages in.
    private func forgetRoom(_ room: RoomName) async throws -> StoreOutput {
        guard (numbering[room.key]?.lastID ?? 0) == 0 else { return .done }
        let deleted = try await connection.query(
            """
            DELETE FROM rooms WHERE key = ? AND last_id = 0 AND topic = ''
            AND NOT EXISTS (SELECT 1 FROM messages WHERE room_key = ?) RETURNING key
            """, [.text(room.key), .text(room.key)])
        if !deleted.isEmpty { numbering[room.key] = nil }
        return .done
    }

    private func append(_ new: NewMessage) async throws -> Appended<ChatMessage> {
        let message = try await number(new)
        guard try await insert([(new, message)], skippingRepeatedCIDs: true) == 1 else {
            numbering[new.room.key]?.lastID = message.id - 1
            guard let original = try await SQLiteRows.message(cid: new.cid, inRoom: new.room.key, on: connection)
            else { throw StoreError("a message with cid \(new.cid) is neither new nor stored") }
            return .duplicate(original)
        }
        return .new(message)
    }

    /// Appends `batch` with one statement, or throws `RepeatedCID` when one of its cids is
    /// stored already (or repeated in the batch), leaving the answer to `append` one by one.
    private func append(_ batch: [NewMessage]) async throws -> [Appended<ChatMessage>] {
        let numbered = try await number(batch)
        guard try await insert(numbered, skippingRepeatedCIDs: true) == batch.count else { throw RepeatedCID() }
        return numbered.map { .new($0.message) }
    }

    private func number(_ batch: [NewMessage]) async throws -> [(new: NewMessage, message: ChatMessage)] {
        var numbered: [(new: NewMessage, message: ChatMessage)] = []
        for new in batch { numbered.append((new, try await number(new))) }
        return numbered
    }

    /// The message `new` becomes with the room's next id, which this writer now counts as taken.
    private func number(_ new: NewMessage) async throws -> ChatMessage {
        if numbering[new.room.key] == nil { _ = try await openRoom(new.room) }
        guard let room = numbering[new.room.key] else { throw StoreError("room \(new.room.name) has no numbering") }
        let message = ChatMessage(
            room: room.name, id: room.lastID + 1, ts: new.ts, from: new.from, text: new.text, cid: new.cid,
            action: new.action == true ? true : nil)
        numbering[new.room.key]?.lastID = message.id
        return message
    }

    /// Inserts the rows and returns how many went in. A cid already in the room is skipped, or
    /// fails the statement (which then inserts nothing).
    @discardableResult
    private func insert(
        _ rows: [(new: NewMessage, message: ChatMessage)], skippingRepeatedCIDs: Bool
    ) async throws -> Int {
        let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
        let binds = rows.flatMap { new, message -> [SQLiteData] in
            [
                .text(new.room.key), .integer(Int(message.id)), .integer(Int(new.ts)), .text(new.from),
                .text(new.text), .text(new.cid), .integer(new.action == true ? 1 : 0),
            ]
        }
        return try await connection.query(
            """
            INSERT INTO messages (room_key, id, ts, nick, text, cid, action) VALUES \(values)
            \(skippingRepeatedCIDs ? "ON CONFLICT (room_key, cid) DO NOTHING" : "") RETURNING id
            """, binds
        ).count
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
            """
            INSERT INTO direct_messages (pair_key, id, ts, from_nick, to_nick, text, cid, from_owner, to_owner)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(new.pairKey), .integer(Int(id)), .integer(Int(new.ts)), .text(new.from.name), .text(new.to.name),
                .text(new.text), .text(new.cid), new.fromOwner.map(SQLiteData.text) ?? .null,
                new.toOwner.map(SQLiteData.text) ?? .null,
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

    /// Indexes the next messages stored since the last step (at most `indexChunk`).
    private func indexForSearch() async throws -> Int {
        let chunk = SQLiteData.integer(Self.indexChunk)
        let end = try await connection.query(
            """
            SELECT max(row) AS row, count(*) AS count FROM (SELECT row FROM message_search_rows
            WHERE row > (SELECT indexed_row FROM search_progress) ORDER BY row LIMIT ?)
            """, [chunk]
        ).first
        guard let end, case let count = try end.int("count"), count > 0 else { return 0 }
        let last = Int(try end.int("row"))
        _ = try await connection.query(
            """
            INSERT INTO messages_search (rowid, text) SELECT x.row, m.text FROM message_search_rows x
            JOIN messages m ON m.room_key = x.room_key AND m.id = x.id
            WHERE x.row > (SELECT indexed_row FROM search_progress) AND x.row <= ?
            """, [.integer(last)])
        _ = try await connection.query("UPDATE search_progress SET indexed_row = ?", [.integer(last)])
        return Int(count)
    }

    private func delete(_ statement: String, _ binds: [SQLiteData]) async throws -> Int {
        _ = try await connection.query(statement, binds)
        return Int(try await connection.query("SELECT changes() AS count").first?.int("count") ?? 0)
    }
}
