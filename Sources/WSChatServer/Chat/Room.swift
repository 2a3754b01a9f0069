import Foundation
import WSChatProtocol

/// Identifies one WebSocket connection for its whole life (also its `welcome.session`).
public typealias ConnectionID = UUID

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
    private var delivery: [ConnectionID: Delivery] = [:]
    /// The newest id handed to the members; every lower one was handed over before it.
    private(set) var deliveredThrough: Int64
    private var undelivered: [Int64: ChatMessage] = [:]

    init(record: RoomRecord) {
        name = record.name
        epoch = record.epoch
        topic = record.topic
        deliveredThrough = record.lastID
    }

    func contains(_ member: ConnectionID) -> Bool { delivery[member] != nil }
    /// Whether a stored message waits for a lower id that has not arrived.
    var hasGap: Bool { !undelivered.isEmpty }
    var isEmpty: Bool { members.isEmpty }

    /// Adds `member` (if new) in the fetching state; returns whether it was new.
    mutating func beginJoin(_ member: ConnectionID) -> Bool {
        switch delivery[member] {
        case nil:
            members.append(member)
            delivery[member] = .fetching(buffered: [])
            return true
        case .fetching:
            return false
        case .live, .paging:
            delivery[member] = .fetching(buffered: [])
            return false
        }
    }

    /// Ends a history fetch that returned messages up to `historyEnd`. Returns the live
    /// messages to send right after `joined`, or none when the member is still paging.
    mutating func finishJoin(_ member: ConnectionID, historyEnd: Int64, paging: Bool) -> [ChatMessage] {
        guard case .fetching(let buffered) = delivery[member] else { return [] }
        if paging {
            delivery[member] = .paging
            return []
        }
        delivery[member] = .live(after: historyEnd)
        return buffered.filter { $0.id > historyEnd }
    }

    mutating func remove(_ member: ConnectionID) {
        guard delivery.removeValue(forKey: member) != nil else { return }
        members.removeAll { $0 == member }
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
            for member in members {
                switch delivery[member] {
                case .live(let after) where next.id > after: recipients.append(member)
                case .fetching(var buffered):
                    buffered.append(next)
                    delivery[member] = .fetching(buffered: buffered)
                case .live, .paging, nil: break
                }
            }
            ready.append((next, recipients))
        }
        return ready
    }
}
