import Foundation

/// A frame the server sends to a client (PROTOCOL.md, "Server → client").
public enum ServerMessage: Equatable, Sendable {
    case welcome(Welcome)
    case joined(Joined)
    case parted(room: String)
    case message(ChatMessage)
    case dm(DirectMessage)
    case presence(Presence)
    case nick(old: String, new: String)
    case topic(TopicChange)
    case rooms([RoomSummary])
    /// `away`: the members marked away (an extension of version 1; absent when none are).
    case members(room: String, members: [String], away: [String]? = nil)
    case pong(JSONValue)
    case error(ProtocolError)
    /// A page of a room's older messages, answering `history` (an extension of version 1).
    case history(History)
    /// The matches of a `search` (an extension of version 1).
    case found(Found)
    /// A nick was marked away, or is back (an extension of version 1).
    case away(Away)
    /// What the server knows of a connected nick, answering `whois` (an extension of version 1).
    case whois(Whois)
    /// A page of older direct messages, answering `dm_history` (an extension of version 1).
    case directHistory(DirectHistory)

    public struct Welcome: Codable, Equatable, Sendable {
        public var nick: String
        public var session: String
        public var server: String
        public var motd: String?
        public var limits: Limits
        public init(nick: String, session: String, server: String, motd: String? = nil, limits: Limits) {
            self.nick = nick
            self.session = session
            self.server = server
            self.motd = motd
            self.limits = limits
        }
    }

    public struct Joined: Codable, Equatable, Sendable {
        public var room: String
        /// Names one continuous history of the room; changes only when history was lost.
        public var epoch: String
        public var topic: String
        public var members: [String]
        public var history: [ChatMessage]
        /// History was cut: older messages (no `since`) or newer ones (with `since`) are not here.
        public var more: Bool
        /// The client's `epoch` is gone: earlier history was lost.
        public var reset: Bool?
        /// The members marked away (an extension of version 1; absent when none are).
        public var away: [String]?
        public init(
            room: String, epoch: String, topic: String, members: [String], history: [ChatMessage], more: Bool,
            reset: Bool? = nil, away: [String]? = nil
        ) {
            self.away = away
            self.room = room
            self.epoch = epoch
            self.topic = topic
            self.members = members
            self.history = history
            self.more = more
            self.reset = reset
        }
    }

    public enum PresenceEvent: String, Codable, Sendable {
        case join, part, quit
    }

    public struct Presence: Codable, Equatable, Sendable {
        public var room: String
        public var nick: String
        public var event: PresenceEvent
        public var reason: String?
        public init(room: String, nick: String, event: PresenceEvent, reason: String? = nil) {
            self.room = room
            self.nick = nick
            self.event = event
            self.reason = reason
        }
    }

    public struct TopicChange: Codable, Equatable, Sendable {
        public var room: String
        public var topic: String
        public var by: String
        public init(room: String, topic: String, by: String) {
            self.room = room
            self.topic = topic
            self.by = by
        }
    }

    public struct RoomSummary: Codable, Equatable, Sendable {
        public var room: String
        public var members: Int
        public var topic: String
        public init(room: String, members: Int, topic: String) {
            self.room = room
            self.members = members
            self.topic = topic
        }
    }

    public struct History: Codable, Equatable, Sendable {
        public var room: String
        /// The request's `before`, so that a client can tell pages apart.
        public var before: Int64?
        /// Oldest first: the newest messages below `before`.
        public var messages: [ChatMessage]
        /// Older messages exist: ask again with `before` = the first message's id.
        public var more: Bool
        public init(room: String, before: Int64?, messages: [ChatMessage], more: Bool) {
            self.room = room
            self.before = before
            self.messages = messages
            self.more = more
        }
    }

    public struct DirectHistory: Codable, Equatable, Sendable {
        /// The request's `with` (NFC-normalised, as every nick) and `before`.
        public var with: String
        public var before: Int64?
        /// Oldest first: the newest messages below `before`.
        public var messages: [DirectMessage]
        /// Older messages exist: ask again with `before` = the first message's id.
        public var more: Bool
        public init(with: String, before: Int64?, messages: [DirectMessage], more: Bool) {
            self.with = with
            self.before = before
            self.messages = messages
            self.more = more
        }
    }

    public struct Found: Codable, Equatable, Sendable {
        /// The request's text and room.
        public var text: String
        public var room: String?
        /// Newest first.
        public var matches: [ChatMessage]
        /// More messages match than these.
        public var more: Bool
        public init(text: String, room: String?, matches: [ChatMessage], more: Bool) {
            self.text = text
            self.room = room
            self.matches = matches
            self.more = more
        }
    }

    public struct Away: Codable, Equatable, Sendable {
        public var nick: String
        /// Why they are away; absent: they are back.
        public var reason: String?
        public init(nick: String, reason: String?) {
            self.nick = nick
            self.reason = reason
        }
    }

    public struct Whois: Codable, Equatable, Sendable {
        public var nick: String
        /// The rooms they are in, on this server.
        public var rooms: [String]
        /// Why they are away, when they are.
        public var away: String?
        /// When they said `hello`, in milliseconds since 1970.
        public var since: Int64
        /// Seconds since they last sent a message (to a room or a nick), or since `hello`.
        public var idle: Int64
        public init(nick: String, rooms: [String], away: String?, since: Int64, idle: Int64) {
            self.nick = nick
            self.rooms = rooms
            self.away = away
            self.since = since
            self.idle = idle
        }
    }

    /// The wire name of this message's `type`.
    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .joined: "joined"
        case .parted: "parted"
        case .message: "message"
        case .dm: "dm"
        case .presence: "presence"
        case .nick: "nick"
        case .topic: "topic"
        case .rooms: "rooms"
        case .members: "members"
        case .pong: "pong"
        case .error: "error"
        case .history: "history"
        case .found: "found"
        case .away: "away"
        case .whois: "whois"
        case .directHistory: "dm_history"
        }
    }

    /// The frame's JSON text.
    public func encoded() -> String {
        switch self {
        case .welcome(let body): WireFormat.encode(type: type, body)
        case .joined(let body): WireFormat.encode(type: type, body)
        case .parted(let room): WireFormat.encode(type: type, RoomField(room: room))
        case .message(let body): WireFormat.encode(type: type, body)
        case .dm(let body): WireFormat.encode(type: type, body)
        case .presence(let body): WireFormat.encode(type: type, body)
        case .nick(let old, let new): WireFormat.encode(type: type, NickChange(old: old, new: new))
        case .topic(let body): WireFormat.encode(type: type, body)
        case .rooms(let rooms): WireFormat.encode(type: type, RoomList(rooms: rooms))
        case .members(let room, let members, let away):
            WireFormat.encode(type: type, MemberList(room: room, members: members, away: away))
        case .pong(let t): WireFormat.encode(type: type, Pong(t: t))
        case .error(let error): WireFormat.encode(type: type, ErrorBody(error))
        case .history(let body): WireFormat.encode(type: type, body)
        case .found(let body): WireFormat.encode(type: type, body)
        case .away(let body): WireFormat.encode(type: type, body)
        case .whois(let body): WireFormat.encode(type: type, body)
        case .directHistory(let body): WireFormat.encode(type: type, body)
        }
    }

    /// Parses a frame received from a server, in one pass over its JSON: the type is read
    /// from the same decoder the body is then read from (a client takes in every message of
    /// every room it is in; scanning each frame twice was a third of that cost).
    public static func decode(_ frame: String) throws -> ServerMessage {
        try WireFormat.decoder.decode(Frame.self, from: Data(frame.utf8)).message
    }

    private struct Frame: Decodable {
        let message: ServerMessage

        private enum Key: String, CodingKey { case type }

        init(from decoder: any Decoder) throws {
            let type = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .type)
            switch type {
            case "welcome": message = .welcome(try Welcome(from: decoder))
            case "joined": message = .joined(try Joined(from: decoder))
            case "parted": message = .parted(room: try RoomField(from: decoder).room)
            case "message": message = .message(try ChatMessage(from: decoder))
            case "dm": message = .dm(try DirectMessage(from: decoder))
            case "presence": message = .presence(try Presence(from: decoder))
            case "nick":
                let body = try NickChange(from: decoder)
                message = .nick(old: body.old, new: body.new)
            case "topic": message = .topic(try TopicChange(from: decoder))
            case "rooms": message = .rooms(try RoomList(from: decoder).rooms)
            case "members":
                let body = try MemberList(from: decoder)
                message = .members(room: body.room, members: body.members, away: body.away)
            case "pong": message = .pong(try Pong(from: decoder).t ?? .null)
            case "error":
                let body = try ErrorBody(from: decoder)
                message = .error(ProtocolError(body.code, body.message, ref: body.ref))
            case "history": message = .history(try History(from: decoder))
            case "found": message = .found(try Found(from: decoder))
            case "away": message = .away(try Away(from: decoder))
            case "whois": message = .whois(try Whois(from: decoder))
            case "dm_history": message = .directHistory(try DirectHistory(from: decoder))
            default:
                throw UnknownServerMessage(type: type)
            }
        }
    }
}

/// A server frame whose `type` this version does not know; clients ignore it (the protocol grows).
public struct UnknownServerMessage: Error, Equatable {
    public var type: String
}

private struct RoomField: Codable { var room: String }
private struct RoomList: Codable { var rooms: [ServerMessage.RoomSummary] }
private struct NickChange: Codable {
    var old: String
    var new: String
}
private struct MemberList: Codable {
    var room: String
    var members: [String]
    var away: [String]?
}

private struct Pong: Codable {
    var t: JSONValue?
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(t ?? .null, forKey: .t)
    }
}

private struct ErrorBody: Codable {
    var code: ErrorCode
    var message: String
    var ref: String?
    init(_ error: ProtocolError) {
        code = error.code
        message = error.message
        ref = error.ref
    }
}
