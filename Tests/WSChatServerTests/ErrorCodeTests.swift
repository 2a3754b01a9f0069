import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

@Suite("Every error code is reached, and none closes the connection", .timeLimit(.minutes(1)))
struct ErrorCodeTests {
    @Test func recoverableErrorsKeepTheConnectionOpen() async throws {
        let server = try await TestServer.start { $0.maxMessageBytes = 100 }
        let client = try await server.connect()

        #expect(
            try await client.error(after: .join(.init(room: "general"))).code == .badRequest, "hello must come first")
        #expect(try await client.error(after: .hello(.init(nick: "has space"))).code == .badNick)
        try await client.hello("alice")
        let bob = try await server.user("bob")
        #expect(try await bob.error(after: .hello(.init(nick: "carol"))).code == .badRequest, "hello only once")
        let other = try await server.connect()
        #expect(try await other.error(after: .hello(.init(nick: "ALICE"))).code == .nickTaken)

        try await client.sendText("{not json")
        guard case .error(let malformed) = try await client.next() else { throw TestFailure("expected error") }
        #expect(malformed.code == .badRequest)
        #expect(try await client.error(after: .nick("bob")).code == .nickTaken)
        #expect(try await client.error(after: .nick("")).code == .badNick)

        try await client.sendText(#"{"type":"teleport"}"#)
        #expect(
            try await client.next()
                == .error(ProtocolError(.unknownType, "unknown message type \"teleport\"", ref: "teleport")))

        let notJoined = try await client.error(after: .say(.init(room: "general", text: "hi", cid: "c1")))
        #expect(notJoined.code == .notJoined && notJoined.ref == "c1")
        #expect(try await client.error(after: .part(room: "general")).code == .notJoined)
        #expect(try await client.error(after: .topic(room: "general", topic: "x")).code == .notJoined)
        #expect(try await client.error(after: .join(.init(room: "no spaces allowed"))).code == .badRoom)
        #expect(try await client.error(after: .who(room: "")).code == .badRoom)

        try await client.join("general")
        let badText = try await client.error(
            after: .say(.init(room: "general", text: "\u{1B}]0;owned\u{07}", cid: "c2")))
        #expect(badText.code == .badText && badText.ref == "c2")
        #expect(try await client.error(after: .say(.init(room: "general", text: "", cid: "c3"))).code == .badText)
        let large = try await client.error(
            after: .say(.init(room: "general", text: String(repeating: "字", count: 34), cid: "c4")))
        #expect(large.code == .tooLarge, "34 CJK characters are 102 bytes")
        #expect(
            try await client.error(after: .topic(room: "general", topic: String(repeating: "t", count: 513))).code
                == .tooLarge)
        #expect(try await client.error(after: .dm(.init(to: "nobody", text: "hi", cid: "c5"))).code == .noSuchNick)

        try await client.say("still connected", in: "general")
        try await server.stop()
    }

    @Test func rateLimitedAfterTheBurstThenFloodingCloses() async throws {
        let server = try await TestServer.start {
            $0.rate = 0.1  // one token per 10 s: none comes back during the test
            $0.burst = 3
            $0.floodTolerance = 5
        }
        let client = try await server.user("alice")  // hello took one token
        try await client.join("general")  // and join another
        try await client.say("one", in: "general")
        let limited = try await client.error(after: .say(.init(room: "general", text: "two", cid: "c-over")))
        #expect(limited.code == .rateLimited && limited.ref == "c-over")
        try await client.send(.ping(.number(1)))
        #expect(try await client.next() == .pong(.number(1)), "pings are free")

        for n in 0..<10 { try await client.send(.say(.init(room: "general", text: "flood", cid: "f\(n)"))) }
        let close = try await client.closed()
        #expect(close.code == 1008)
        try await server.stop()
    }

    @Test func rateIsAnnouncedInWelcome() async throws {
        let server = try await TestServer.start {
            $0.rate = 2.5
            $0.burst = 7
            $0.maxMessageBytes = 1000
        }
        let client = try await server.connect()
        let welcome = try await client.hello("alice")
        #expect(welcome.limits == Limits(maxMessageBytes: 1000, rate: 2.5, burst: 7))
        #expect(welcome.server == "wschat-server")
        let other = try await server.connect().hello("bob")
        #expect(!welcome.session.isEmpty && welcome.session != other.session, "a session id is each connection's own")
        try await server.stop()
    }

    @Test func authenticationFailureCloses4001() async throws {
        let server = try await TestServer.start { $0.password = "open sesame" }
        let wrong = try await server.connect()
        let error = try await wrong.error(after: .hello(.init(nick: "mallory", password: "guess")))
        #expect(error.code == .authFailed)
        #expect(try await wrong.closed().code == 4001)
        let missing = try await server.connect()
        #expect(try await missing.error(after: .hello(.init(nick: "mallory"))).code == .authFailed)
        let right = try await server.connect()
        try await right.hello("alice", password: "open sesame")
        try await server.stop()
    }

    @Test func aFullServerSaysServerFullAndCloses1013() async throws {
        let server = try await TestServer.start { $0.maxUsers = 2 }
        _ = try await server.user("alice")
        _ = try await server.user("bob")
        let third = try await server.connect()
        #expect(try await third.error(after: .hello(.init(nick: "carol"))).code == .serverFull)
        #expect(try await third.closed().code == 1013)
        try await server.stop()
    }

    @Test func errorsAreCountedByCodeInMetrics() async throws {
        let server = try await TestServer.start()
        let client = try await server.user("alice")
        _ = try await client.error(after: .part(room: "nowhere"))
        _ = try await client.error(after: .part(room: "nowhere"))
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains(#"wschat_errors_total{code="not_joined"} 2"#))
        try await server.stop()
    }
}

@Suite("Nothing a client sends reaches others with control characters", .timeLimit(.minutes(1)))
struct RelayedTextTests {
    @Test func aQuitReasonWithControlCharactersIsDropped() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let mallory = try await server.user("mallory")
        try await alice.join("general")
        try await mallory.join("general")
        _ = try await alice.next()
        try await mallory.send(.quit(reason: "\u{1B}]0;owned\u{07}"))
        #expect(try await alice.next() == .presence(.init(room: "general", nick: "mallory", event: .quit)))
        try await server.stop()
    }
}
