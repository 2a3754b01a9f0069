import Foundation
import WSChatProtocol

/// One event that crosses nodes: JSON in a PostgreSQL NOTIFY payload on channel `wschat`.
///
/// NOTIFY payloads must stay under 8000 bytes, so a message or direct message that does not
/// fit is sent as a reference (its `message` is nil) and the listener reads the row.
struct ClusterNotice: Codable, Equatable, Sendable {
    static let channel = "wschat"
    /// Room keys and nicks leave plenty of room under PostgreSQL's 8000-byte limit.
    static let payloadLimit = 7000

    enum Event: Codable, Equatable, Sendable {
        case message(roomKey: String, id: Int64, message: ChatMessage?)
        case direct(toKey: String, pairKey: String, id: Int64, message: DirectMessage?)
        case presence(roomKey: String, nick: String, event: ServerMessage.PresenceEvent, reason: String?)
        case nick(old: String, new: String, roomKeys: [String])
        case topic(roomKey: String, topic: String, by: String)
    }

    /// The node that sent it; a node ignores its own notices.
    var node: String
    var event: Event

    /// The JSON payload, with the message left out (a reference) when it would not fit.
    func payload() throws -> String {
        let full = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        guard full.utf8.count > Self.payloadLimit else { return full }
        var reference = self
        switch event {
        case .message(let roomKey, let id, _): reference.event = .message(roomKey: roomKey, id: id, message: nil)
        case .direct(let toKey, let pairKey, let id, _):
            reference.event = .direct(toKey: toKey, pairKey: pairKey, id: id, message: nil)
        case .presence, .nick, .topic:
            throw StoreError("a \(event) notice is \(full.utf8.count) bytes, over NOTIFY's limit")
        }
        return String(decoding: try JSONEncoder().encode(reference), as: UTF8.self)
    }

    init(node: String, event: Event) {
        self.node = node
        self.event = event
    }

    init(payload: String) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(payload.utf8))
    }
}
