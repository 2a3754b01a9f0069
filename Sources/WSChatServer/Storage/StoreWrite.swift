import Logging
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
    /// Brings the search index up to the messages stored since the last time (SQLite), or
    /// merges the index's pending entries (PostgreSQL's GIN, which would otherwise merge them
    /// inside some unlucky insert).
    case indexForSearch
}

/// What a `StoreWrite` produced.
enum StoreOutput: Sendable {
    case room(RoomRecord)
    case message(Appended<ChatMessage>)
    case direct(Appended<DirectMessage>)
    /// How many rows a prune deleted, or an indexing step indexed.
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

    /// How many messages were added to the search index.
    func indexForSearch() async throws -> Int {
        guard case .pruned(let count) = try await submit(.indexForSearch) else { throw Self.mismatch }
        return count
    }

    /// Runs `indexForSearch` once a second, through the group commit (so between appends), and
    /// at once again after a step that did `fullStep` or more, until cancelled.
    nonisolated func keepingSearchIndexed(fullStep: Int, logger: Logger) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                do {
                    if try await indexForSearch() >= fullStep { continue }
                } catch {
                    logger.warning(
                        "could not bring the search index up to date; searches scan what it lacks meanwhile",
                        metadata: ["error": "\(error)"])
                }
                if (try? await Task.sleep(for: .seconds(1))) == nil { return }
            }
        }
    }

    private static var mismatch: StoreError { StoreError("a write produced the wrong kind of result") }
}
