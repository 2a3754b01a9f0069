import WSChatProtocol

/// A change the SQL stores queue for group commit. Every write goes through the queue so
/// that a database has one writer per process and each batch is one transaction.
enum StoreWrite: Sendable {
    case openRoom(RoomName)
    case message(NewMessage)
    case direct(NewDirectMessage)
    case topic(String, RoomName)
    case forgetRoom(RoomName)
    case prune(RetentionPolicy, now: Int64)
}

/// What a `StoreWrite` produced.
enum StoreOutput: Sendable {
    case room(RoomRecord)
    case message(Appended<ChatMessage>)
    case direct(Appended<DirectMessage>)
    case pruned(Int)
    case done
}

extension GroupCommit where Write == StoreWrite, Output == StoreOutput {
    func openRoom(_ name: RoomName) async throws -> RoomRecord {
        guard case .room(let record) = try await submit(.openRoom(name)) else { throw Self.mismatch }
        return record
    }

    func append(_ message: NewMessage) async throws -> Appended<ChatMessage> {
        guard case .message(let appended) = try await submit(.message(message)) else { throw Self.mismatch }
        return appended
    }

    func appendDirect(_ message: NewDirectMessage) async throws -> Appended<DirectMessage> {
        guard case .direct(let appended) = try await submit(.direct(message)) else { throw Self.mismatch }
        return appended
    }

    func setTopic(_ topic: String, in room: RoomName) async throws {
        _ = try await submit(.topic(topic, room))
    }

    func forgetRoomIfUnused(_ room: RoomName) async throws {
        _ = try await submit(.forgetRoom(room))
    }

    func prune(_ policy: RetentionPolicy, now: Int64) async throws -> Int {
        guard case .pruned(let count) = try await submit(.prune(policy, now: now)) else { throw Self.mismatch }
        return count
    }

    private static var mismatch: StoreError { StoreError("a write produced the wrong kind of result") }
}
