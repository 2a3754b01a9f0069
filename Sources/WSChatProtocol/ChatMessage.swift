/// A message posted to a room, as the server stores and delivers it.
public struct ChatMessage: Codable, Equatable, Sendable {
    public var room: String
    /// The room's sequence number: starts at 1, strictly increasing, never reused.
    public var id: Int64
    /// Unix time in milliseconds.
    public var ts: Int64
    public var from: String
    public var text: String
    /// The client-chosen id that makes a resend idempotent.
    public var cid: String
    /// `true` for a `/me` action; absent otherwise.
    public var action: Bool?

    public init(room: String, id: Int64, ts: Int64, from: String, text: String, cid: String, action: Bool? = nil) {
        self.room = room
        self.id = id
        self.ts = ts
        self.from = from
        self.text = text
        self.cid = cid
        self.action = action
    }
}

/// A direct message between two nicks, numbered per pair of nicks.
public struct DirectMessage: Codable, Equatable, Sendable {
    public var id: Int64
    public var ts: Int64
    public var from: String
    public var to: String
    public var text: String
    public var cid: String

    public init(id: Int64, ts: Int64, from: String, to: String, text: String, cid: String) {
        self.id = id
        self.ts = ts
        self.from = from
        self.to = to
        self.text = text
        self.cid = cid
    }
}
