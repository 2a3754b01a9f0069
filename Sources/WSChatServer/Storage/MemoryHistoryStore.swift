import Foundation
import WSChatProtocol

/// History kept in memory (`--memory`): lost when the process ends, so every room gets a new
/// epoch then.
///
/// Each room keeps at most its newest `retainedPerRoom` messages (and so remembers their
/// `cid`s), fewer once pruned; ids keep increasing past what was dropped.
public actor MemoryHistoryStore: HistoryStore {
    private struct RoomLog {
        var record: RoomRecord
        /// Oldest first; ids are consecutive, so an id's index is `id - firstID`.
        var messages: [ChatMessage] = []
        var idByCID: [String: Int64] = [:]

        var firstID: Int64 { messages.first?.id ?? record.lastID + 1 }

        func message(withID id: Int64) -> ChatMessage? {
            let index = Int(id - firstID)
            return messages.indices.contains(index) ? messages[index] : nil
        }
    }

    private let retainedPerRoom: Int
    private let retainedDirect: Int
    private var rooms: [String: RoomLog] = [:]
    private var directLastID: [String: Int64] = [:]
    private var directByCID: [String: DirectMessage] = [:]
    private var directCIDOrder: [String] = []

    public init(retainedPerRoom: Int = 10_000, retainedDirect: Int = 10_000) {
        self.retainedPerRoom = retainedPerRoom
        self.retainedDirect = retainedDirect
    }

    public func openRoom(_ name: RoomName) -> RoomRecord {
        if let log = rooms[name.key] { return log.record }
        let record = RoomRecord(name: name.name, epoch: UUID().uuidString.lowercased(), topic: "", lastID: 0)
        rooms[name.key] = RoomLog(record: record)
        return record
    }

    public func append(_ new: NewMessage) -> Appended<ChatMessage> {
        var log = rooms[new.room.key] ?? RoomLog(record: openRoom(new.room))
        if let id = log.idByCID[new.cid], let original = log.message(withID: id) {
            return .duplicate(original)
        }
        log.record.lastID += 1
        let message = ChatMessage(
            room: log.record.name, id: log.record.lastID, ts: new.ts, from: new.from, text: new.text, cid: new.cid,
            action: new.action == true ? true : nil)
        log.messages.append(message)
        log.idByCID[new.cid] = message.id
        if log.messages.count > retainedPerRoom + retainedPerRoom / 8 {
            // Trim in batches so that appending stays O(1) amortised.
            let excess = log.messages.count - retainedPerRoom
            for dropped in log.messages.prefix(excess) { log.idByCID[dropped.cid] = nil }
            log.messages.removeFirst(excess)
        }
        rooms[new.room.key] = log
        return .new(message)
    }

    public func messages(in room: RoomName, after id: Int64, limit: Int) -> HistoryPage {
        guard let log = rooms[room.key] else { return HistoryPage(messages: [], more: false) }
        let start = max(0, Int(id + 1 - log.firstID))
        guard start < log.messages.count else { return HistoryPage(messages: [], more: false) }
        let end = min(log.messages.count, start + limit)
        return HistoryPage(messages: Array(log.messages[start..<end]), more: end < log.messages.count)
    }

    public func recentMessages(in room: RoomName, limit: Int) -> HistoryPage {
        guard let log = rooms[room.key] else { return HistoryPage(messages: [], more: false) }
        let messages = log.messages.suffix(limit)
        return HistoryPage(messages: Array(messages), more: messages.count < log.messages.count)
    }

    public func setTopic(_ topic: String, in room: RoomName) {
        var log = rooms[room.key] ?? RoomLog(record: openRoom(room))
        log.record.topic = topic
        rooms[room.key] = log
    }

    public func appendDirect(_ new: NewDirectMessage) -> Appended<DirectMessage> {
        if let original = directByCID[new.cid] { return .duplicate(original) }
        let id = directLastID[new.pairKey, default: 0] + 1
        directLastID[new.pairKey] = id
        let message = DirectMessage(
            id: id, ts: new.ts, from: new.from.name, to: new.to.name, text: new.text, cid: new.cid)
        directByCID[new.cid] = message
        directCIDOrder.append(new.cid)
        if directCIDOrder.count > retainedDirect + retainedDirect / 8 {
            let excess = directCIDOrder.count - retainedDirect
            for cid in directCIDOrder.prefix(excess) { directByCID[cid] = nil }
            directCIDOrder.removeFirst(excess)
        }
        return .new(message)
    }

    public func prune(_ policy: RetentionPolicy, now: Int64) -> Int {
        let cutoff = policy.cutoff(now: now) ?? .min
        var pruned = 0
        for key in rooms.keys {
            guard var log = rooms[key] else { continue }
            var excess = log.messages.prefix { $0.ts < cutoff }.count
            if let maxPerRoom = policy.maxPerRoom {
                excess = max(excess, log.messages.count - maxPerRoom)
            }
            guard excess > 0 else { continue }
            for dropped in log.messages.prefix(excess) { log.idByCID[dropped.cid] = nil }
            log.messages.removeFirst(excess)
            rooms[key] = log
            pruned += excess
        }
        let expired = directCIDOrder.prefix { directByCID[$0].map { $0.ts < cutoff } ?? true }
        for cid in expired { directByCID[cid] = nil }
        directCIDOrder.removeFirst(expired.count)
        return pruned + expired.count
    }

    public func close() {}
}
