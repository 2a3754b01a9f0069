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

        mutating func append(_ new: NewMessage, retaining retained: Int) -> Appended<ChatMessage> {
            if let id = idByCID[new.cid], let original = message(withID: id) {
                return .duplicate(original)
            }
            record.lastID += 1
            let message = ChatMessage(
                room: record.name, id: record.lastID, ts: new.ts, from: new.from, text: new.text, cid: new.cid,
                action: new.action == true ? true : nil)
            messages.append(message)
            idByCID[new.cid] = message.id
            if messages.count > retained + retained / 8 {
                // Trim in batches so that appending stays O(1) amortised.
                dropOldest(messages.count - retained)
            }
            return .new(message)
        }

        mutating func dropOldest(_ count: Int) {
            for dropped in messages.prefix(count) { idByCID[dropped.cid] = nil }
            messages.removeFirst(count)
        }
    }

    /// A direct message with the digests of the secrets of who sent and who received it.
    private struct StoredDirect {
        var message: DirectMessage
        var fromOwner: String?
        var toOwner: String?
    }

    private let retainedPerRoom: Int
    private let retainedDirect: Int
    private var rooms: [String: RoomLog] = [:]
    private var directLastID: [String: Int64] = [:]
    /// Each conversation's kept messages by pair key, oldest first.
    private var directLogs: [String: [StoredDirect]] = [:]
    private var directByCID: [String: DirectMessage] = [:]
    /// Every kept direct message in the order stored, so the oldest go first.
    private var directOrder: [(pairKey: String, cid: String)] = []

    public init(retainedPerRoom: Int = 10_000, retainedDirect: Int = 10_000) {
        self.retainedPerRoom = retainedPerRoom
        self.retainedDirect = retainedDirect
    }

    /// A room's log as first use creates it: empty, with a new epoch.
    private static func newLog(_ name: RoomName) -> RoomLog {
        RoomLog(record: RoomRecord(name: name.name, epoch: UUID().uuidString.lowercased(), topic: "", lastID: 0))
    }

    public func openRoom(_ name: RoomName) -> RoomRecord {
        if let log = rooms[name.key] { return log.record }
        let log = Self.newLog(name)
        rooms[name.key] = log
        return log.record
    }

    public func append(_ new: NewMessage) -> Appended<ChatMessage> {
        // Mutated in place: a copy taken out of the dictionary would copy the room's whole
        // log on every append (copy on write, with the dictionary still holding it).
        rooms[new.room.key, default: Self.newLog(new.room)].append(new, retaining: retainedPerRoom)
    }

    public func messages(in room: RoomName, after id: Int64, limit: Int, textBytes: Int) -> HistoryPage {
        // Compared before any arithmetic: `id` comes from a client and may be any Int64.
        guard let log = rooms[room.key], id < log.record.lastID else { return HistoryPage(messages: [], more: false) }
        let start = id < log.firstID ? 0 : Int(id - log.firstID + 1)
        guard start < log.messages.count else { return HistoryPage(messages: [], more: false) }
        let candidates = log.messages[start...].prefix(limit + 1)
        let cut = HistoryPageCut(textSizes: candidates.map(\.text.utf8.count), limit: limit, textBytes: textBytes)
        return HistoryPage(messages: Array(candidates.prefix(cut.count)), more: cut.more)
    }

    public func messages(in room: RoomName, before id: Int64, limit: Int, textBytes: Int) -> HistoryPage {
        guard let log = rooms[room.key], id > log.firstID else { return HistoryPage(messages: [], more: false) }
        // Compared before any arithmetic: `id` comes from a client and may be any Int64.
        let end = id > log.record.lastID ? log.messages.count : Int(id - log.firstID)
        let candidates = log.messages[..<end].suffix(limit + 1).reversed()
        let cut = HistoryPageCut(textSizes: candidates.map(\.text.utf8.count), limit: limit, textBytes: textBytes)
        return HistoryPage(messages: Array(log.messages[..<end].suffix(cut.count)), more: cut.more)
    }

    public func search(_ text: String, in room: RoomName?, limit: Int) -> HistoryPage {
        let logs = room.map { rooms[$0.key].map { [$0] } ?? [] } ?? Array(rooms.values)
        var matches: [ChatMessage] = []
        for log in logs {
            // Each room's newest `limit + 1` matches, newest first; then the newest of them all.
            matches += log.messages.reversed().lazy.filter { $0.text.range(of: text, options: .caseInsensitive) != nil }
                .prefix(limit + 1)
        }
        matches.sort { ($0.ts, $0.id) > ($1.ts, $1.id) }
        return HistoryPage(messages: Array(matches.prefix(limit)), more: matches.count > limit)
    }

    public func setTopic(_ topic: String, in room: RoomName) {
        rooms[room.key, default: Self.newLog(room)].record.topic = topic
    }

    public func forgetRoomIfUnused(_ room: RoomName) {
        guard let record = rooms[room.key]?.record, record.lastID == 0, record.topic.isEmpty else { return }
        rooms[room.key] = nil
    }

    public func appendDirect(_ new: NewDirectMessage) -> Appended<DirectMessage> {
        if let original = directByCID[new.cid] { return .duplicate(original) }
        let id = directLastID[new.pairKey, default: 0] + 1
        directLastID[new.pairKey] = id
        let message = DirectMessage(
            id: id, ts: new.ts, from: new.from.name, to: new.to.name, text: new.text, cid: new.cid)
        directLogs[new.pairKey, default: []].append(
            StoredDirect(message: message, fromOwner: new.fromOwner, toOwner: new.toOwner))
        directByCID[new.cid] = message
        directOrder.append((new.pairKey, new.cid))
        if directOrder.count > retainedDirect + retainedDirect / 8 {
            dropOldestDirect(directOrder.count - retainedDirect)
        }
        return .new(message)
    }

    public func directMessages(
        between nick: Nick, and other: Nick, owner: String, before id: Int64, limit: Int, textBytes: Int
    ) -> DirectHistoryPage {
        let readable = (directLogs[NewDirectMessage.pairKey(nick, other)] ?? []).reversed().lazy
            .filter { $0.message.id < id && ($0.fromOwner == owner || $0.toOwner == owner) }
            .map(\.message)
        let candidates = Array(readable.prefix(limit + 1))
        let cut = HistoryPageCut(textSizes: candidates.map(\.text.utf8.count), limit: limit, textBytes: textBytes)
        return DirectHistoryPage(messages: candidates.prefix(cut.count).reversed(), more: cut.more)
    }

    /// Forgets the `count` direct messages stored first (each the oldest of its conversation).
    private func dropOldestDirect(_ count: Int) {
        var droppedByPair: [String: Int] = [:]
        for (pairKey, cid) in directOrder.prefix(count) {
            droppedByPair[pairKey, default: 0] += 1
            directByCID[cid] = nil
        }
        directOrder.removeFirst(count)
        for (pairKey, dropped) in droppedByPair {
            directLogs[pairKey]?.removeFirst(dropped)
            if directLogs[pairKey]?.isEmpty == true { directLogs[pairKey] = nil }
        }
    }

    public func prune(_ policy: RetentionPolicy, now: Int64) -> Int {
        let cutoff = policy.cutoff(now: now) ?? .min
        // Counted first and dropped after, so no copy of a log is alive while it shrinks.
        let excessByRoom = rooms.compactMapValues { log -> Int? in
            let excess = max(
                log.messages.prefix { $0.ts < cutoff }.count,
                policy.maxPerRoom.map { log.messages.count - $0 } ?? 0)
            return excess > 0 ? excess : nil
        }
        for (key, excess) in excessByRoom { rooms[key]?.dropOldest(excess) }
        let pruned = excessByRoom.values.reduce(0, +)
        let expired = directOrder.prefix { directByCID[$0.cid].map { $0.ts < cutoff } ?? true }.count
        dropOldestDirect(expired)
        return pruned + expired
    }

    public func close() {}
}
