import Testing
import WSChatProtocol
import WSChatTestSupport

@Suite("A conversation between real clients", .timeLimit(.minutes(1)))
struct ConversationTests {
    @Test func joinAndPartAreSeenByTheOtherMembers() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("bob")

        let first = try await alice.join("#General")
        #expect(first.room == "General")
        #expect(first.members == ["alice"])
        #expect(first.history.isEmpty && !first.more)

        let second = try await bob.join("general")
        #expect(second.room == "General", "the creator's spelling is kept")
        #expect(second.members == ["alice", "bob"])
        #expect(try await alice.next() == .presence(.init(room: "General", nick: "bob", event: .join)))

        let again = try await bob.join("GENERAL")
        #expect(again.members == ["alice", "bob"])
        try await alice.expectSilence()

        try await bob.send(.part(room: "general"))
        #expect(try await bob.next() == .parted(room: "General"))
        #expect(try await alice.next() == .presence(.init(room: "General", nick: "bob", event: .part)))
        try await server.stop()
    }

    @Test func sayReachesEveryMemberAndTheSameCIDIsPostedOnce() async throws {
        let server = try await TestServer.start()
        let users = try await server.users("alice", "bob", in: "general")
        let (alice, bob) = (users[0], users[1])

        let sent = try await alice.say("你好，世界 🌏", in: "general", cid: "cid-1")
        #expect(sent.id == 1 && sent.from == "alice" && sent.room == "general")
        #expect(try await bob.next() == .message(sent))

        try await alice.send(.say(.init(room: "general", text: "你好，世界 🌏", cid: "cid-1")))
        #expect(try await alice.next() == .message(sent), "the sender gets the original back")
        try await bob.expectSilence()

        let action = ClientMessage.say(.init(room: "general", text: "waves", cid: "cid-2", action: true))
        try await bob.send(action)
        let echoed = try await bob.next()
        guard case .message(let message) = echoed else { throw TestFailure("expected message, got \(echoed)") }
        #expect(message.id == 2 && message.action == true)
        #expect(try await alice.next() == echoed)
        try await server.stop()
    }

    @Test func aRoomsMessagesFollowItsMembersAsTheyComeAndGo() async throws {
        let server = try await TestServer.start()
        let users = try await server.users("alice", "bob", in: "general")
        let (alice, bob) = (users[0], users[1])
        let first = try await alice.say("first", in: "general")
        #expect(try await bob.next() == .message(first))

        let carol = try await server.user("carol")
        try await carol.join("general")
        for member in [alice, bob] { _ = try await member.next() }  // carol's join
        let second = try await alice.say("second", in: "general")
        #expect(try await bob.next() == .message(second))
        #expect(try await carol.next() == .message(second), "a new member gets the next message")

        try await bob.close()
        for member in [alice, carol] {
            let presence = try await member.next()
            guard case .presence(let left) = presence, left.nick == "bob" else {
                throw TestFailure("expected bob's quit, got \(presence)")
            }
        }
        let third = try await carol.say("third", in: "general")
        #expect(try await alice.next() == .message(third), "the members left still get every message")
        try await alice.send(.part(room: "general"))
        #expect(try await alice.next() == .parted(room: "general"))
        _ = try await carol.next()  // alice's part
        let fourth = try await carol.say("fourth", in: "general")
        #expect(fourth.id == 4)
        try await alice.expectSilence()
        try await server.stop()
    }

    @Test func messagesKeepOneOrderForEveryMember() async throws {
        let server = try await TestServer.start()
        let users = [try await server.user("u1"), try await server.user("u2"), try await server.user("u3")]
        for user in users { try await user.join("race") }
        for (index, user) in users.enumerated() {
            for _ in index + 1..<users.count { _ = try await user.next() }  // later joins' presence
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, user) in users.enumerated() {
                group.addTask {
                    for n in 0..<30 {
                        try await user.send(.say(.init(room: "race", text: "\(index)-\(n)", cid: "\(index)-\(n)")))
                    }
                }
            }
            try await group.waitForAll()
        }
        var orders: [[Int64]] = []
        for user in users {
            var ids: [Int64] = []
            var texts: [String] = []
            while ids.count < 90 {
                if case .message(let m) = try await user.next() {
                    ids.append(m.id)
                    texts.append(m.text)
                }
            }
            #expect(ids == Array(1...90))
            orders.append(ids)
        }
        #expect(Set(orders.map { $0 }).count == 1)
        try await server.stop()
    }

    @Test func directMessagesReachTheRecipientAndTheSender() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("Bob")
        try await alice.send(.dm(.init(to: "bob", text: "秘密だよ", cid: "d-1")))
        let received = try await bob.next()
        guard case .dm(let dm) = received else { throw TestFailure("expected dm, got \(received)") }
        #expect(dm.from == "alice" && dm.to == "Bob" && dm.text == "秘密だよ" && dm.id == 1)
        #expect(try await alice.next() == received)

        try await bob.send(.dm(.init(to: "ALICE", text: "got it", cid: "d-2")))
        guard case .dm(let reply) = try await alice.next() else { throw TestFailure("expected the reply") }
        #expect(reply.id == 2, "ids count per pair of nicks")
        _ = try await bob.next()

        try await alice.send(.dm(.init(to: "bob", text: "秘密だよ", cid: "d-1")))
        #expect(try await alice.next() == received, "a resent cid returns the original")
        try await bob.expectSilence()
        try await server.stop()
    }

    @Test func nickChangeIsSeenByRoomMatesAndFreesTheOldNick() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("bob")
        let carol = try await server.user("carol")
        try await alice.join("general")
        try await bob.join("general")
        _ = try await alice.next()

        try await alice.send(.nick("Alicia"))
        #expect(try await alice.next() == .nick(old: "alice", new: "Alicia"))
        #expect(try await bob.next() == .nick(old: "alice", new: "Alicia"))
        try await carol.expectSilence()

        #expect(try await carol.error(after: .nick("ALICIA")).code == .nickTaken)
        try await carol.send(.nick("alice"))
        #expect(try await carol.next() == .nick(old: "carol", new: "alice"))

        try await alice.send(.nick("ALICIA"))
        #expect(try await alice.next() == .nick(old: "Alicia", new: "ALICIA"), "changing only the case is allowed")
        try await server.stop()
    }

    @Test func topicIsSetForEveryMemberAndShownOnJoin() async throws {
        let server = try await TestServer.start()
        let users = try await server.users("alice", "bob", in: "general")
        let (alice, bob) = (users[0], users[1])

        try await bob.send(.topic(room: "general", topic: "今日は金曜日 🎉"))
        let change = ServerMessage.topic(.init(room: "general", topic: "今日は金曜日 🎉", by: "bob"))
        #expect(try await bob.next() == change)
        #expect(try await alice.next() == change)

        let carol = try await server.user("carol")
        #expect(try await carol.join("general").topic == "今日は金曜日 🎉")
        #expect(try await alice.next() == .presence(.init(room: "general", nick: "carol", event: .join)))

        try await alice.send(.topic(room: "general", topic: ""))
        #expect(try await alice.next() == .topic(.init(room: "general", topic: "", by: "alice")))
        try await server.stop()
    }

    /// Over real sockets: away is heard by a room's members, shown in who and whois, and
    /// back clears it; an unknown nick is named in the error.
    @Test func awayAndWhoisOverTheWire() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("bob")
        try await alice.join("general")
        try await bob.join("general")
        _ = try await alice.next()

        try await alice.send(.away(reason: "lunch 🍜"))
        #expect(try await bob.next() == .away(.init(nick: "alice", reason: "lunch 🍜")))
        #expect(try await alice.next() == .away(.init(nick: "alice", reason: "lunch 🍜")))
        try await bob.send(.who(room: "general"))
        #expect(try await bob.next() == .members(room: "general", members: ["alice", "bob"], away: ["alice"]))
        try await bob.send(.whois(nick: "Alice"))
        guard case .whois(let whois) = try await bob.next() else { throw TestFailure("no whois") }
        #expect(whois.nick == "alice" && whois.rooms == ["general"] && whois.away == "lunch 🍜")
        #expect(whois.idle >= 0 && whois.since > 1_700_000_000_000)
        try await bob.send(.whois(nick: "nobody"))
        guard case .error(let error) = try await bob.next() else { throw TestFailure("no error") }
        #expect(error.code == .noSuchNick && error.ref == "nobody")

        try await alice.send(.away(reason: nil))
        #expect(try await bob.next() == .away(.init(nick: "alice", reason: nil)))
    }

    @Test func listAndWhoDescribeRoomsWithMembers() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("bob")
        try await alice.join("zebra")
        try await alice.join("Alpha")
        try await bob.join("alpha")
        _ = try await alice.next()
        try await alice.send(.topic(room: "alpha", topic: "first"))
        _ = try await alice.next()
        _ = try await bob.next()

        try await bob.send(.list)
        #expect(
            try await bob.next()
                == .rooms([
                    .init(room: "Alpha", members: 2, topic: "first"), .init(room: "zebra", members: 1, topic: ""),
                ]))
        try await bob.send(.who(room: "#ALPHA"))
        #expect(try await bob.next() == .members(room: "Alpha", members: ["alice", "bob"]))
        try await bob.send(.who(room: "empty"))
        #expect(try await bob.next() == .members(room: "empty", members: []))

        try await alice.send(.part(room: "zebra"))
        _ = try await alice.next()
        try await bob.send(.list)
        #expect(
            try await bob.next() == .rooms([.init(room: "Alpha", members: 2, topic: "first")]),
            "empty rooms are not listed")
        try await server.stop()
    }

    @Test func pingIsAnsweredWithTheSameT() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        try await alice.send(.ping(.object(["n": .number(42)])))
        #expect(try await alice.next() == .pong(.object(["n": .number(42)])))
        try await alice.sendText(#"{"type":"ping"}"#)
        #expect(try await alice.next() == .pong(.null))
        try await server.stop()
    }

    @Test func quitTellsTheRoomAndClosesWith1000() async throws {
        let server = try await TestServer.start()
        let users = try await server.users("alice", "bob", in: "general")
        let (alice, bob) = (users[0], users[1])
        try await bob.send(.quit(reason: "lunch"))
        #expect(try await alice.next() == .presence(.init(room: "general", nick: "bob", event: .quit, reason: "lunch")))
        #expect(try await bob.closed().code == 1000)
        let again = try await server.user("bob")
        try await again.send(.who(room: "general"))
        #expect(try await again.next() == .members(room: "general", members: ["alice"]), "the nick is free again")
        try await server.stop()
    }

    @Test func aDroppedConnectionIsAQuitWithConnectionLost() async throws {
        let server = try await TestServer.start()
        let users = try await server.users("alice", "bob", in: "general")
        let (alice, bob) = (users[0], users[1])
        try await bob.close(.goingAway)
        #expect(
            try await alice.next()
                == .presence(.init(room: "general", nick: "bob", event: .quit, reason: "connection lost")))
        try await server.stop()
    }

    @Test func compressedConnectionsChatToo() async throws {
        let server = try await TestServer.start()
        let alice = try await server.connect(compression: true)
        try await alice.hello("alice")
        try await alice.join("general")
        let long = String(repeating: "compress me please ", count: 150)
        let message = try await alice.say(long, in: "general")
        #expect(message.text == long)
        try await server.stop()
    }
}
