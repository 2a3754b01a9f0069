import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

/// Two `wschat-server` nodes sharing one PostgreSQL database act as one server.
@Suite("Several nodes on PostgreSQL", .timeLimit(.minutes(3)))
struct ClusterTests {
    static func node(_ database: String, port: Int = 0, _ flags: [String] = []) async throws -> ServerProcess {
        try await ServerProcess.start(
            ["--database", database, "--rate", "0", "--send-queue-bytes", "100000000"] + flags, port: port)
    }

    static func messages(_ count: Int, from client: TestClient) async throws -> [ChatMessage] {
        var messages: [ChatMessage] = []
        while messages.count < count {
            if case .message(let message) = try await client.next() { messages.append(message) }
        }
        return messages
    }

    @Test func messagesCrossNodesInOneOrderAndPresenceTopicsAndNicksAgree() async throws {
        let database = try await TestPostgres.freshDatabase()
        let a = try await Self.node(database)
        let b = try await Self.node(database)

        let ada = try await a.user("ada")
        try await ada.join("general")
        let bob = try await b.user("bob")
        let joined = try await bob.join("general")
        #expect(Set(joined.members) == ["ada", "bob"])
        let presence = try await ada.next { if case .presence(let p) = $0 { p } else { nil } }
        #expect(presence == .init(room: "general", nick: "bob", event: .join))

        // Nick uniqueness holds across nodes, in hello and in nick.
        let other = try await TestClient.connect(
            url: b.url, subprotocol: "wschat.v1", compression: false, reading: true)
        #expect(try await other.error(after: .hello(.init(nick: "ADA", password: nil, client: nil))).code == .nickTaken)
        #expect(try await bob.error(after: .nick("ada")).code == .nickTaken)
        // And so does refusing a nick that looks like one in use on the other node.
        #expect(try await other.error(after: .hello(.init(nick: "аda", password: nil, client: nil))).code == .nickTaken)
        #expect(try await bob.error(after: .nick("ａｄａ")).code == .nickTaken)

        // Both say at once; everyone sees the same sequence.
        let perUser = 60
        for (client, nick) in [(ada, "ada"), (bob, "bob")] {
            Task {
                for n in 0..<perUser {
                    try? await client.send(.say(.init(room: "general", text: "\(nick) \(n)", cid: "\(nick)-\(n)")))
                }
            }
        }
        let seenByAda = try await Self.messages(2 * perUser, from: ada)
        let seenByBob = try await Self.messages(2 * perUser, from: bob)
        #expect(seenByAda == seenByBob)
        #expect(seenByAda.map(\.id) == Array(1...Int64(2 * perUser)))

        // Topics, member lists, room lists and direct messages, from either node.
        try await ada.send(.topic(room: "general", topic: "one server"))
        let topic = try await bob.next { if case .topic(let t) = $0 { t } else { nil } }
        #expect(topic == .init(room: "general", topic: "one server", by: "ada"))
        try await bob.send(.who(room: "general"))
        let members = try await bob.next { if case .members(_, let m, _) = $0 { m } else { nil } }
        #expect(Set(members) == ["ada", "bob"])
        try await ada.send(.list)
        let rooms = try await ada.next { if case .rooms(let r) = $0 { r } else { nil } }
        #expect(rooms == [.init(room: "general", members: 2, topic: "one server")])
        try await bob.send(.dm(.init(to: "ada", text: "across nodes", cid: "dm-1")))
        let dm = try await ada.next { if case .dm(let d) = $0 { d } else { nil } }
        #expect(dm.from == "bob" && dm.text == "across nodes")

        // Renames: a new spelling keeps the claim; a new nick frees the old one on every node.
        try await ada.send(.nick("Ada"))
        _ = try await ada.next { if case .nick = $0 { true } else { nil } }
        let respelled = try await bob.next { if case .nick(let old, let new) = $0 { [old, new] } else { nil } }
        #expect(respelled == ["ada", "Ada"])
        #expect(try await other.error(after: .hello(.init(nick: "ada", password: nil, client: nil))).code == .nickTaken)
        try await bob.send(.nick("robert"))
        let renamed = try await ada.next { if case .nick(let old, let new) = $0 { [old, new] } else { nil } }
        #expect(renamed == ["bob", "robert"])
        try await other.hello("bob")

        // Leaving is seen on the other node.
        try await bob.send(.part(room: "general"))
        let part = try await ada.next { if case .presence(let p) = $0 { p } else { nil } }
        #expect(part == .init(room: "general", nick: "robert", event: .part))
        try await a.stop()
        try await b.stop()
    }

    /// A direct message between users on two nodes is stored under both their secrets (the
    /// recipient's comes with their nick's claim), so each reads it back from their own node.
    @Test func directMessagesAcrossNodesAreReadBackByBothSides() async throws {
        let database = try await TestPostgres.freshDatabase()
        let a = try await Self.node(database)
        let b = try await Self.node(database)
        let (adaSecret, bobSecret) = (String(repeating: "a1", count: 32), String(repeating: "b2", count: 32))
        let ada = try await a.user("ada", secret: adaSecret)
        let bob = try await b.user("bob", secret: bobSecret)
        try await ada.send(.dm(.init(to: "bob", text: "across nodes", cid: "x1")))
        _ = try await bob.next { if case .dm(let d) = $0 { d } else { nil } }
        try await bob.send(.dm(.init(to: "ada", text: "and back", cid: "x2")))
        _ = try await ada.next { if case .dm(let d) = $0, d.cid == "x2" { d } else { nil } }

        for (client, peer) in [(ada, "bob"), (bob, "ada")] {
            try await client.send(.directHistory(.init(with: peer)))
            let page = try await client.next { if case .directHistory(let page) = $0 { page } else { nil } }
            #expect(page.messages.map(\.text) == ["across nodes", "and back"] && !page.more)
        }
        // Whoever takes bob's nick next, on either node, reads none of it.
        try await bob.close()
        let taker = try await TestClient.connect(
            url: a.url, subprotocol: "wschat.v1", compression: false, reading: true)
        _ = try await eventually("bob's nick freed in the cluster") {
            try? await taker.hello("bob", secret: String(repeating: "c3", count: 32))
        }
        try await taker.send(.directHistory(.init(with: "ada")))
        let none = try await taker.next { if case .directHistory(let page) = $0 { page } else { nil } }
        #expect(none.messages.isEmpty && !none.more)
        try await a.stop()
        try await b.stop()
    }

    /// The nodes' LISTEN connections are cut; what is said before they are back reaches the
    /// other node's users anyway, read from the table by id once the node listens again.
    @Test func aNodeThatMissedNotificationsCatchesUpFromTheTable() async throws {
        let database = try await TestPostgres.freshDatabase()
        let a = try await Self.node(database)
        let b = try await Self.node(database)
        let ada = try await a.user("ada")
        try await ada.join("general")
        let bob = try await b.user("bob")
        try await bob.join("general")
        _ = try await ada.next { if case .presence = $0 { true } else { nil } }

        try await TestPostgres.execute(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND query ILIKE 'LISTEN%'
            """, in: database)
        var said: [ChatMessage] = []
        for n in 1...5 { said.append(try await bob.say("while nobody listens \(n)", in: "general")) }
        #expect(try await Self.messages(5, from: ada) == said)
        // And live delivery works again afterwards.
        let later = try await bob.say("after", in: "general")
        #expect(try await Self.messages(1, from: ada) == [later])
        try await a.stop()
        try await b.stop()
    }

    /// NOTIFY payloads stop at 8000 bytes: a longer message or direct message is announced
    /// by reference and read from the table by the node that delivers it.
    @Test func messagesTooLargeForANotifyCrossByReference() async throws {
        let database = try await TestPostgres.freshDatabase()
        let limits = ["--max-message-bytes", "20000"]
        let a = try await Self.node(database, limits)
        let b = try await Self.node(database, limits)
        let ada = try await a.user("ada")
        try await ada.join("general")
        let bob = try await b.user("bob")
        try await bob.join("general")
        _ = try await ada.next { if case .presence = $0 { true } else { nil } }

        let long = String(repeating: "长", count: 4000)  // 12 000 bytes of UTF-8
        let said = try await bob.say(long, in: "general")
        let short = try await bob.say("and a short one after it", in: "general")
        #expect(try await Self.messages(2, from: ada) == [said, short])
        try await bob.send(.dm(.init(to: "ada", text: long, cid: "long-dm")))
        let dm = try await ada.next { if case .dm(let d) = $0 { d } else { nil } }
        #expect(dm.from == "bob" && dm.text == long && dm.cid == "long-dm")
        try await a.stop()
        try await b.stop()
    }

    @Test func aKilledNodesUsersQuitEverywhereAndLoseNothingWhenItComesBack() async throws {
        let database = try await TestPostgres.freshDatabase()
        let port = try TestServer.unusedFixedPort()
        var a = try await Self.node(database, port: port)
        let b = try await Self.node(database)
        let ada = try await a.user("ada")
        let epoch = try await ada.join("general").epoch
        let bob = try await b.user("bob")
        try await bob.join("general")
        _ = try await ada.next { if case .presence = $0 { true } else { nil } }
        var seen: [ChatMessage] = []
        for n in 1...3 { seen.append(try await ada.say("before \(n)", in: "general")) }
        _ = try await Self.messages(3, from: bob)

        let killed = ContinuousClock.now
        try await a.kill()
        // The dead node's user leaves the shared view within 30 s (heartbeats stop).
        let quit = try await bob.next(timeout: .seconds(60)) { if case .presence(let p) = $0 { p } else { nil } }
        let noticedAfter = ContinuousClock.now - killed
        #expect(quit.nick == "ada" && quit.event == .quit)
        #expect(noticedAfter < .seconds(30), "ada quit \(noticedAfter) after her node died")
        try await bob.send(.who(room: "general"))
        #expect(try await bob.next { if case .members(_, let m, _) = $0 { m } else { nil } } == ["bob"])
        var missed: [ChatMessage] = []
        for n in 1...5 { missed.append(try await bob.say("while a is down \(n)", in: "general")) }

        a = try await Self.node(database, port: port)
        let back = try await a.user("ada")
        let resumed = try await back.join("general", since: seen.last!.id, epoch: epoch)
        #expect(resumed.history == missed)
        #expect(resumed.reset == nil)
        let echoed = try await back.say("back", in: "general")
        #expect(echoed.id == missed.last!.id + 1)
        let relayed = try await bob.next { if case .message(let m) = $0 { m } else { nil } }
        #expect(relayed == echoed)
        try await a.stop()
        try await b.stop()
    }
}
