import Foundation
import WSChatProtocol

/// A room's live state on this server: who is in it, and which stored messages have been
/// handed to them.
///
/// Messages come back from the store in whatever order their appends finish; `accept` holds
/// each one until every lower id has been delivered, so all members see the room's total
/// order. A member whose history is being fetched gets live messages buffered, and one that
/// is paging through a long history (`more: true`) gets none: its next page will hold them.
struct Room {
    enum Delivery: Equatable {
        /// Gets every message above `after`, the end of the history it was handed. On a node
        /// of a cluster that history can run past `deliveredThrough` (a notice sent while
        /// the room was being opened here is missed, then read back to fill the gap), and
        /// those messages must not reach the member twice.
        case live(after: Int64)
        case fetching(buffered: [ChatMessage])
        case paging
    }

    var name: String
    var epoch: String
    var topic: String
    /// Members in the order they joined.
    private(set) var members: [ConnectionID] = []
    /// Each member's delivery state, at its index in `members`: a message is handed out
    /// without a lookup per member.
    private var deliveries: [Delivery] = []
    /// Each member's index in `members`.
    private var positions: [ConnectionID: Int] = [:]
    /// The newest id handed to the members; every lower one was handed over before it.
    private(set) var deliveredThrough: Int64
    private var undelivered: [Int64: ChatMessage] = [:]

    init(record: RoomRecord) {
        name = record.name
        epoch = record.epoch
        topic = record.topic
        deliveredThrough = record.lastID
    }

    func contains(_ member: ConnectionID) -> Bool { positions[member] != nil }
    /// Whether a stored message waits for a lower id that has not arrived.
    var hasGap: Bool { !undelivered.isEmpty }
    var isEmpty: Bool { members.isEmpty }

    /// Adds `member` (if new) in the fetching state; returns whether it was new.
    mutating func beginJoin(_ member: ConnectionID) -> Bool {
        guard let position = positions[member] else {
            positions[member] = members.count
            members.append(member)
            deliveries.append(.fetching(buffered: []))
            return true
        }
        if case .fetching = deliveries[position] { return false }
        deliveries[position] = .fetching(buffered: [])
        return false
    }

    /// Ends a history fetch that returned messages up to `historyEnd`. Returns the live
    /// messages to send right after `joined`, or none when the member is still paging.
    mutating func finishJoin(_ member: ConnectionID, historyEnd: Int64, paging: Bool) -> [ChatMessage] {
        guard let position = positions[member], case .fetching(let buffered) = deliveries[position] else { return [] }
        if paging {
            deliveries[position] = .paging
            return []
        }
        deliveries[position] = .live(after: historyEnd)
        return buffered.filter { $0.id > historyEnd }
    }

    mutating func remove(_ member: ConnectionID) {
        guard let position = positions.removeValue(forKey: member) else { return }
        members.remove(at: position)
        deliveries.remove(at: position)
        for index in position..<members.count { positions[members[index]] = index }
    }

    /// Takes a stored message; returns, in id order, each message now deliverable with the
    /// members to send it to.
    mutating func accept(_ message: ChatMessage) -> [(message: ChatMessage, recipients: [ConnectionID])] {
        guard message.id > deliveredThrough else { return [] }
        undelivered[message.id] = message
        var ready: [(message: ChatMessage, recipients: [ConnectionID])] = []
        while let next = undelivered.removeValue(forKey: deliveredThrough + 1) {
            deliveredThrough = next.id
            var recipients: [ConnectionID] = []
            recipients.reserveCapacity(members.count)
            for position in members.indices {
                switch deliveries[position] {
                case .live(let after) where next.id > after: recipients.append(members[position])
                case .fetching(var buffered):
                    deliveries[position] = .paging  // releases the buffer so the append below does not copy it
                    buffered.append(next)
                    deliveries[position] = .fetching(buffered: buffered)
                case .live, .paging: break
                }
            }
            ready.append((next, recipients))
        }
        return ready
    }
}
