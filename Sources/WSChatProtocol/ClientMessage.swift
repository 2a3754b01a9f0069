import Foundation

/// A frame a client sends to the server (PROTOCOL.md, "Client → server").
///
/// Fields are kept as sent; the server validates names and text so that it can answer
/// each rule with its own error code.
public enum ClientMessage: Equatable, Sendable {
    case hello(Hello)
    case join(Join)
    case part(room: String)
    case say(Say)
    case dm(DirectSend)
    case nick(String)
    case topic(room: String, topic: String)
    case list
    case who(room: String)
    case ping(JSONValue)
    case quit(reason: String?)
    /// Older messages of a room (an extension of version 1: PROTOCOL.md, "Extensions").
    case history(HistoryRequest)
    /// Stored messages that contain a text (an extension of version 1).
    case search(SearchRequest)
    /// Marks the user away with a reason, or (no reason) back (an extension of version 1).
    case away(reason: String?)
    /// Asks what the server knows of a connected nick (an extension of version 1).
    case whois(nick: String)
    /// Older direct messages between the user and a nick (an extension of version 1).
    case directHistory(DirectHistoryRequest)

    public struct Hello: Codable, Equatable, Sendable {
        public var nick: String
        public var password: String?
        public var client: String?
        /// A secret the client keeps for this server (an extension of version 1): direct
        /// messages sent and received under it can be read back by whoever says it again.
        public var secret: String?
        public init(nick: String, password: String? = nil, client: String? = nil, secret: String? = nil) {
            self.nick = nick
            self.password = password
            self.client = client
            self.secret = secret
        }
    }

    public struct Join: Codable, Equatable, Sendable {
        public var room: String
        /// The last `id` the client saw in this room, to resume after it.
        public var since: Int64?
        /// The `epoch` that `since` belongs to.
        public var epoch: String?
        public init(room: String, since: Int64? = nil, epoch: String? = nil) {
            self.room = room
            self.since = since
            self.epoch = epoch
        }
    }

    public struct Say: Codable, Equatable, Sendable {
        public var room: String
        public var text: String
        public var cid: String
        public var action: Bool?
        public init(room: String, text: String, cid: String, action: Bool? = nil) {
            self.room = room
            self.text = text
            self.cid = cid
            self.action = action
        }
    }

    public struct DirectSend: Codable, Equatable, Sendable {
        public var to: String
        public var text: String
        public var cid: String
        public init(to: String, text: String, cid: String) {
            self.to = to
            self.text = text
            self.cid = cid
        }
    }

    public struct HistoryRequest: Codable, Equatable, Sendable {
        public var room: String
        /// Only messages with a lower id; the newest messages when absent.
        public var before: Int64?
        /// At most this many messages (1 to `maxHistoryLimit`; `defaultHistoryLimit` when absent).
        public var limit: Int?
        public init(room: String, before: Int64? = nil, limit: Int? = nil) {
            self.room = room
            self.before = before
            self.limit = limit
        }
    }

    public struct DirectHistoryRequest: Codable, Equatable, Sendable {
        /// The other side of the conversation.
        public var with: String
        /// Only messages with a lower id; the newest messages when absent.
        public var before: Int64?
        /// At most this many messages (1 to `maxHistoryLimit`; `defaultHistoryLimit` when absent).
        public var limit: Int?
        public init(with: String, before: Int64? = nil, limit: Int? = nil) {
            self.with = with
            self.before = before
            self.limit = limit
        }
    }

    public struct SearchRequest: Codable, Equatable, Sendable {
        /// Found anywhere in a message's text, ignoring case (1 to `maxSearchBytes` bytes).
        public var text: String
        /// The room to search; every room when absent.
        public var room: String?
        /// At most this many matches (1 to `maxSearchLimit`; `defaultSearchLimit` when absent).
        public var limit: Int?
        public init(text: String, room: String? = nil, limit: Int? = nil) {
            self.text = text
            self.room = room
            self.limit = limit
        }
    }

    /// The wire name of this message's `type`.
    public var type: String {
        switch self {
        case .hello: "hello"
        case .join: "join"
        case .part: "part"
        case .say: "say"
        case .dm: "dm"
        case .nick: "nick"
        case .topic: "topic"
        case .list: "list"
        case .who: "who"
        case .ping: "ping"
        case .quit: "quit"
        case .history: "history"
        case .search: "search"
        case .away: "away"
        case .whois: "whois"
        case .directHistory: "dm_history"
        }
    }

    /// The longest `cid` a server accepts, in bytes of printable ASCII.
    public static let maxCIDLength = 64
    /// The largest `since` (and any id) a client may send: the largest integer a JSON number
    /// keeps exactly everywhere (JavaScript's `Number.MAX_SAFE_INTEGER`).
    public static let maxID: Int64 = 9_007_199_254_740_991
    /// The largest `ping` frame a server answers: `t` is a small token, not a payload.
    public static let maxPingBytes = 512
    /// The most messages one `history` request may ask for, and how many it gets unasked.
    public static let maxHistoryLimit = 500
    public static let defaultHistoryLimit = 100
    /// The bounds of a `search`: its text in bytes, and how many matches one may ask for.
    public static let maxSearchBytes = 256
    public static let maxSearchLimit = 100
    public static let defaultSearchLimit = 50
    /// The longest away reason, in bytes.
    public static let maxAwayBytes = 200
    /// The bounds of a `hello`'s `secret`, in printable ASCII characters: long enough that it
    /// cannot be guessed (a client sends 32 random bytes as 64 hex digits).
    public static let secretLength = 16...128

    /// Parses one text frame; a frame that is not a valid message throws the error to answer.
    public static func decode(_ frame: String) throws(ProtocolError) -> ClientMessage {
        let data = Data(frame.utf8)
        let type: String
        do {
            type = try WireFormat.decoder.decode(TypeTag.self, from: data).type
        } catch {
            if LoneSurrogateScan.containsLoneSurrogate(frame) {
                throw ProtocolError(.badText, "the text contains a lone UTF-16 surrogate")
            }
            throw ProtocolError(.badRequest, "a frame must be a JSON object with a string field \"type\"")
        }
        if type == "ping", frame.utf8.count > maxPingBytes {
            throw ProtocolError(
                .badRequest, "a ping frame is at most \(maxPingBytes) bytes; send a small t", ref: type)
        }
        let decoded: ClientMessage
        do {
            decoded = try decodeBody(type: type, data: data)
        } catch let error as ProtocolError {
            throw error.answering(type)
        } catch {
            if LoneSurrogateScan.containsLoneSurrogate(frame) {
                throw ProtocolError(.badText, "the text contains a lone UTF-16 surrogate", ref: type)
            }
            throw ProtocolError(.badRequest, "\(type): \(WireFormat.describe(error))", ref: type)
        }
        try decoded.checkFields()
        return decoded
    }

    private static func decodeBody(type: String, data: Data) throws -> ClientMessage {
        let decoder = WireFormat.decoder
        switch type {
        case "hello": return .hello(try decoder.decode(Hello.self, from: data))
        case "join": return .join(try decoder.decode(Join.self, from: data))
        case "part": return .part(room: try decoder.decode(RoomField.self, from: data).room)
        case "say": return .say(try decoder.decode(Say.self, from: data))
        case "dm": return .dm(try decoder.decode(DirectSend.self, from: data))
        case "nick": return .nick(try decoder.decode(NickField.self, from: data).nick)
        case "topic":
            let body = try decoder.decode(TopicFields.self, from: data)
            return .topic(room: body.room, topic: body.topic)
        case "list": return .list
        case "who": return .who(room: try decoder.decode(RoomField.self, from: data).room)
        case "ping": return .ping(try decoder.decode(PingField.self, from: data).t ?? .null)
        case "quit": return .quit(reason: try decoder.decode(ReasonField.self, from: data).reason)
        case "history": return .history(try decoder.decode(HistoryRequest.self, from: data))
        case "search": return .search(try decoder.decode(SearchRequest.self, from: data))
        case "away": return .away(reason: try decoder.decode(ReasonField.self, from: data).reason)
        case "whois": return .whois(nick: try decoder.decode(NickField.self, from: data).nick)
        case "dm_history": return .directHistory(try decoder.decode(DirectHistoryRequest.self, from: data))
        default: throw ProtocolError(.unknownType, "unknown message type \"\(type)\"")
        }
    }

    /// The rules for fields whose type alone does not bound them: a `cid` and a `since`.
    private func checkFields() throws(ProtocolError) {
        switch self {
        case .say(let say): try Self.checkCID(say.cid, type: type)
        case .dm(let dm): try Self.checkCID(dm.cid, type: type)
        case .join(let join):
            if let since = join.since, !(0...Self.maxID).contains(since) {
                throw ProtocolError(
                    .badRequest, "since must be a message id from 0 to \(Self.maxID), not \(since)", ref: type)
            }
        case .hello(let hello):
            if let secret = hello.secret {
                guard Self.isValidSecret(secret) else {
                    throw ProtocolError(
                        .badRequest,
                        "secret must be \(Self.secretLength.lowerBound) to \(Self.secretLength.upperBound) "
                            + "printable ASCII characters (64 random hex digits)", ref: type)
                }
            }
        case .history(let request): try Self.checkPage(before: request.before, limit: request.limit, type: type)
        case .directHistory(let request): try Self.checkPage(before: request.before, limit: request.limit, type: type)
        case .search(let request):
            if request.text.trimmingCharacters(in: .whitespaces).isEmpty
                || request.text.utf8.count > Self.maxSearchBytes
            {
                throw ProtocolError(
                    .badRequest, "text must be 1 to \(Self.maxSearchBytes) bytes, not only spaces", ref: type)
            }
            if let limit = request.limit, !(1...Self.maxSearchLimit).contains(limit) {
                throw ProtocolError(
                    .badRequest, "limit must be from 1 to \(Self.maxSearchLimit), not \(limit)", ref: type)
            }
        case .away(let reason?):
            if reason.trimmingCharacters(in: .whitespaces).isEmpty || reason.utf8.count > Self.maxAwayBytes {
                throw ProtocolError(
                    .badRequest,
                    "reason must be 1 to \(Self.maxAwayBytes) bytes, not only spaces; send away without a reason to be back",
                    ref: type)
            }
            do throws(ProtocolError) {
                try TextRules.rejectControlCharacters(reason)
            } catch {
                throw error.answering(type)
            }
        default: return
        }
    }

    private static func checkPage(before: Int64?, limit: Int?, type: String) throws(ProtocolError) {
        if let before, !(1...maxID).contains(before) {
            throw ProtocolError(.badRequest, "before must be a message id from 1 to \(maxID), not \(before)", ref: type)
        }
        if let limit, !(1...maxHistoryLimit).contains(limit) {
            throw ProtocolError(.badRequest, "limit must be from 1 to \(maxHistoryLimit), not \(limit)", ref: type)
        }
    }

    /// Whether `secret` may be said in `hello`: `secretLength` printable ASCII characters.
    public static func isValidSecret(_ secret: String) -> Bool {
        secretLength.contains(secret.utf8.count) && isPrintableASCII(secret)
    }

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    private static func checkCID(_ cid: String, type: String) throws(ProtocolError) {
        guard !cid.isEmpty, cid.utf8.count <= maxCIDLength, isPrintableASCII(cid) else {
            throw ProtocolError(
                .badRequest, "cid must be 1 to \(maxCIDLength) printable ASCII characters (a UUID)", ref: type)
        }
    }

    /// The frame's JSON text.
    public func encoded() -> String {
        switch self {
        case .hello(let body): WireFormat.encode(type: type, body)
        case .join(let body): WireFormat.encode(type: type, body)
        case .part(let room): WireFormat.encode(type: type, RoomField(room: room))
        case .say(let body): WireFormat.encode(type: type, body)
        case .dm(let body): WireFormat.encode(type: type, body)
        case .nick(let nick): WireFormat.encode(type: type, NickField(nick: nick))
        case .topic(let room, let topic): WireFormat.encode(type: type, TopicFields(room: room, topic: topic))
        case .list: WireFormat.encode(type: type, Empty())
        case .who(let room): WireFormat.encode(type: type, RoomField(room: room))
        case .ping(let t): WireFormat.encode(type: type, PingField(t: t))
        case .quit(let reason): WireFormat.encode(type: type, ReasonField(reason: reason))
        case .history(let body): WireFormat.encode(type: type, body)
        case .search(let body): WireFormat.encode(type: type, body)
        case .away(let reason): WireFormat.encode(type: type, ReasonField(reason: reason))
        case .whois(let nick): WireFormat.encode(type: type, NickField(nick: nick))
        case .directHistory(let body): WireFormat.encode(type: type, body)
        }
    }
}

private struct TypeTag: Decodable { var type: String }
private struct RoomField: Codable { var room: String }
private struct NickField: Codable { var nick: String }
private struct TopicFields: Codable {
    var room: String
    var topic: String
}
private struct ReasonField: Codable { var reason: String? }
private struct Empty: Codable {}

private struct PingField: Codable {
    var t: JSONValue?
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(t ?? .null, forKey: .t)
    }
}
