import Foundation
import Testing

@testable import WSChatProtocol

@Suite("Every message type survives encoding and decoding")
struct MessageRoundTripTests {
    static let clientMessages: [ClientMessage] = [
        .hello(.init(nick: "alice", password: "s3cret", client: "wschat/1")),
        .hello(.init(nick: "李雷")),
        .join(.init(room: "general")),
        .join(.init(room: "general", since: 41, epoch: "e1")),
        .part(room: "general"),
        .say(.init(room: "general", text: "hello 👋🏽\nsecond line", cid: "c-1")),
        .say(.init(room: "general", text: "waves", cid: "c-2", action: true)),
        .dm(.init(to: "bob", text: "psst", cid: "c-3")),
        .nick("alice2"),
        .topic(room: "general", topic: "今日の話題"),
        .topic(room: "general", topic: ""),
        .list,
        .who(room: "general"),
        .ping(.object(["sent": .number(12.5), "tags": .array([.string("a"), .bool(true), .null])])),
        .ping(.null),
        .quit(reason: "lunch"),
        .quit(reason: nil),
        .history(.init(room: "general")),
        .history(.init(room: "general", before: 120, limit: 500)),
        .search(.init(text: "日本")),
        .search(.init(text: "hello", room: "general", limit: 100)),
        .away(reason: "lunch 🍜"),
        .away(reason: nil),
        .whois(nick: "bob"),
        .hello(.init(nick: "ada", secret: String(repeating: "0f", count: 32))),
        .directHistory(.init(with: "bob")),
        .directHistory(.init(with: "李雷", before: 7, limit: 20)),
    ]

    @Test("client message round trip", arguments: clientMessages)
    func clientMessageRoundTrip(_ message: ClientMessage) throws {
        let frame = message.encoded()
        #expect(try ClientMessage.decode(frame) == message)
        let object = try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == message.type)
    }

    static let message = ChatMessage(
        room: "general", id: 7, ts: 1_700_000_000_123, from: "alice", text: "hi", cid: "c-7")

    static let serverMessages: [ServerMessage] = [
        .welcome(.init(nick: "alice", session: "s-1", server: "wschat-server", motd: "be kind", limits: Limits())),
        .welcome(.init(nick: "alice", session: "s-1", server: "wschat-server", limits: Limits(rate: 0.5))),
        .joined(
            .init(room: "general", epoch: "e", topic: "", members: ["alice", "bob"], history: [message], more: true)),
        .joined(.init(room: "general", epoch: "e", topic: "t", members: [], history: [], more: false, reset: true)),
        .parted(room: "general"),
        .message(message),
        .message(ChatMessage(room: "r", id: 1, ts: 2, from: "a", text: "dances", cid: "c", action: true)),
        .dm(DirectMessage(id: 3, ts: 4, from: "alice", to: "bob", text: "psst", cid: "c-9")),
        .presence(.init(room: "general", nick: "bob", event: .join)),
        .presence(.init(room: "general", nick: "bob", event: .quit, reason: "connection lost")),
        .nick(old: "alice", new: "alicia"),
        .topic(.init(room: "general", topic: "new topic", by: "alice")),
        .rooms([.init(room: "general", members: 2, topic: "t"), .init(room: "random", members: 1, topic: "")]),
        .members(room: "general", members: ["alice", "bob"]),
        .pong(.string("x")),
        .pong(.null),
        .error(ProtocolError(.notJoined, "join first", ref: "c-1")),
        .error(ProtocolError(.badRequest, "no type")),
        .history(.init(room: "general", before: 8, messages: [message], more: true)),
        .history(.init(room: "general", before: nil, messages: [], more: false)),
        .found(.init(text: "hi", room: nil, matches: [message], more: true)),
        .found(.init(text: "hi", room: "general", matches: [], more: false)),
        .members(room: "general", members: ["alice", "bob"], away: ["bob"]),
        .joined(
            .init(room: "g", epoch: "e", topic: "", members: ["a", "b"], history: [], more: false, away: ["b"])),
        .away(.init(nick: "bob", reason: "lunch")),
        .away(.init(nick: "bob", reason: nil)),
        .whois(.init(nick: "bob", rooms: ["general"], away: nil, since: 1_700_000_000_000, idle: 42)),
        .directHistory(
            .init(
                with: "bob", before: 9,
                messages: [.init(id: 8, ts: 1_700_000_000_000, from: "ada", to: "bob", text: "psst", cid: "d8")],
                more: true)),
        .directHistory(.init(with: "bob", before: nil, messages: [], more: false)),
    ]

    @Test("server message round trip", arguments: serverMessages)
    func serverMessageRoundTrip(_ message: ServerMessage) throws {
        let frame = message.encoded()
        #expect(try ServerMessage.decode(frame) == message)
        let object = try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == message.type)
    }

    @Test func optionalFieldsAreLeftOutWhenAbsent() throws {
        let frame = ServerMessage.message(Self.message).encoded()
        #expect(!frame.contains("action"))
        let joined = ServerMessage.joined(
            .init(room: "r", epoch: "e", topic: "", members: [], history: [], more: false)
        ).encoded()
        #expect(!joined.contains("reset"))
        #expect(joined.contains("\"more\":false"))
    }

    @Test func pongEchoesNullWhenPingHadNoT() throws {
        #expect(try ClientMessage.decode(#"{"type":"ping"}"#) == .ping(.null))
        #expect(ServerMessage.pong(.null).encoded().contains(#""t":null"#))
    }

    @Test func unknownFieldsAreIgnoredForForwardCompatibility() throws {
        let frame = #"{"type":"say","room":"r","text":"hi","cid":"c","future":{"x":1}}"#
        #expect(try ClientMessage.decode(frame) == .say(.init(room: "r", text: "hi", cid: "c")))
    }

    @Test func unknownServerTypesAreReportedNotMisread() {
        #expect(throws: UnknownServerMessage(type: "reaction")) {
            try ServerMessage.decode(#"{"type":"reaction","emoji":"👍"}"#)
        }
    }
}

@Suite("Malformed frames get the error code the protocol names")
struct DecodingErrorTests {
    static let cases: [(frame: String, code: ErrorCode, ref: String?)] = [
        ("not json", .badRequest, nil),
        ("[1,2]", .badRequest, nil),
        (#"{"room":"general"}"#, .badRequest, nil),
        (#"{"type":42}"#, .badRequest, nil),
        (#"{"type":"dance"}"#, .unknownType, "dance"),
        (#"{"type":"join"}"#, .badRequest, "join"),
        (#"{"type":"join","room":7}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":"yesterday"}"#, .badRequest, "join"),
        (#"{"type":"say","room":"r","text":"hi"}"#, .badRequest, "say"),
        (#"{"type":"say","room":"r","text":"hi","cid":""}"#, .badRequest, "say"),
        (#"{"type":"dm","to":"b","text":"hi","cid":"\#(String(repeating: "x", count: 65))"}"#, .badRequest, "dm"),
        (#"{"type":"say","room":"r","text":"\ud800","cid":"c"}"#, .badText, "say"),
        (#"{"type":"say","room":"r","text":"a\udc00b","cid":"c"}"#, .badText, "say"),
        (#"{"type":"say","room":"r","text":"\ud83d","cid":"c"}"#, .badText, "say"),
        // Integers a client sends are range-checked before anything computes with them.
        (#"{"type":"join","room":"r","since":9223372036854775807}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":-9223372036854775808}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":-1}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":9007199254740992}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":1e300}"#, .badRequest, "join"),
        (#"{"type":"join","room":"r","since":1.5}"#, .badRequest, "join"),
        (#"{"type":"history","room":"r","before":0}"#, .badRequest, "history"),
        (#"{"type":"history","room":"r","before":9007199254740992}"#, .badRequest, "history"),
        (#"{"type":"history","room":"r","limit":0}"#, .badRequest, "history"),
        (#"{"type":"history","room":"r","limit":501}"#, .badRequest, "history"),
        (#"{"type":"history","before":5}"#, .badRequest, "history"),
        (#"{"type":"away","reason":"  "}"#, .badRequest, "away"),
        (#"{"type":"away","reason":"\#(String(repeating: "x", count: 201))"}"#, .badRequest, "away"),
        (#"{"type":"away","reason":"a\u001b[2J"}"#, .badText, "away"),
        (#"{"type":"whois"}"#, .badRequest, "whois"),
        (#"{"type":"dm_history"}"#, .badRequest, "dm_history"),
        (#"{"type":"dm_history","with":"bob","before":0}"#, .badRequest, "dm_history"),
        (#"{"type":"dm_history","with":"bob","limit":501}"#, .badRequest, "dm_history"),
        // A hello's secret is 16 to 128 printable ASCII characters.
        (#"{"type":"hello","nick":"ada","secret":"short"}"#, .badRequest, "hello"),
        (#"{"type":"hello","nick":"ada","secret":"\#(String(repeating: "x", count: 129))"}"#, .badRequest, "hello"),
        (#"{"type":"hello","nick":"ada","secret":"sixteen chars but spaced"}"#, .badRequest, "hello"),
        (#"{"type":"search","text":"   "}"#, .badRequest, "search"),
        (#"{"type":"search","text":"\#(String(repeating: "x", count: 257))"}"#, .badRequest, "search"),
        (#"{"type":"search","text":"x","limit":101}"#, .badRequest, "search"),
        // A cid is printable ASCII, at most 64 bytes.
        (#"{"type":"say","room":"r","text":"hi","cid":"has space"}"#, .badRequest, "say"),
        (#"{"type":"say","room":"r","text":"hi","cid":"é́́"}"#, .badRequest, "say"),
        (#"{"type":"dm","to":"b","text":"hi","cid":"\#(String(repeating: "é", count: 40))"}"#, .badRequest, "dm"),
        (#"{"type":"dm","to":"b","text":"hi","cid":"tab\u0009cid"}"#, .badRequest, "dm"),
        // A ping is a small probe, not a payload.
        (#"{"type":"ping","t":"\#(String(repeating: "p", count: 600))"}"#, .badRequest, "ping"),
        // Structure the decoder refuses.
        (String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), .badRequest, nil),
        (#"{"type":"ping","t":"# + String(repeating: "[", count: 10_000) + "}", .badRequest, nil),
    ]

    @Test("decoding errors", arguments: cases)
    func decodingError(_ example: (frame: String, code: ErrorCode, ref: String?)) {
        do {
            _ = try ClientMessage.decode(example.frame)
            Issue.record("\(example.frame) decoded without an error")
        } catch {
            #expect(error.code == example.code, "\(example.frame): \(error.message)")
            #expect(error.ref == example.ref)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func theLargestSafeIDAndAUUIDAreAccepted() throws {
        let join = try ClientMessage.decode(#"{"type":"join","room":"r","since":9007199254740991}"#)
        #expect(join == .join(.init(room: "r", since: ClientMessage.maxID)))
        let uuid = "0F4C6A39-2D7B-4E55-9E0B-4C1A6B1E8D2F"
        let say = try ClientMessage.decode(#"{"type":"say","room":"r","text":"hi","cid":"\#(uuid)"}"#)
        #expect(say == .say(.init(room: "r", text: "hi", cid: uuid)))
        #expect(try ClientMessage.decode(#"{"type":"ping","t":1733040000123}"#) == .ping(.number(1_733_040_000_123)))
    }

    @Test func aProperSurrogatePairIsText() throws {
        let decoded = try ClientMessage.decode(#"{"type":"say","room":"r","text":"\ud83d\ude00 \\ud800","cid":"c"}"#)
        #expect(decoded == .say(.init(room: "r", text: "😀 \\ud800", cid: "c")))
    }
}
