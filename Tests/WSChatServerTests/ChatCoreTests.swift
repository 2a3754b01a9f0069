import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

@testable import WSChatServer

/// The hub's decisions, driven without a socket: events in, actions out. I/O actions wait in
/// `desk.io` until the test completes them, against a real in-memory store (`settle`) or by
/// hand, in whatever order the interleaving under test needs.
@Suite struct ChatCoreTests {
    /// The core and what it asked for so far.
    struct Desk {
        var core: ChatCore
        let store: any HistoryStore = MemoryHistoryStore()
        /// I/O actions not completed yet, oldest first.
        var io: [ChatCore.IO] = []
        /// What each connection was sent, in order.
        var received: [ConnectionID: [ServerMessage]] = [:]
        var closes: [ConnectionID: CloseCode] = [:]
        var posts: [ClusterChange] = []
        var hellos: [ConnectionID: ChatCore.HelloOutcome] = [:]
        var forgets: [String] = []

        init(clustered: Bool = false, _ configure: (inout ChatServerConfiguration) -> Void = { _ in }) {
            var configuration = ChatServerConfiguration()
            configure(&configuration)
            core = ChatCore(configuration: configuration, clustered: clustered)
        }

        mutating func feed(_ event: ChatCore.Event) {
            for action in core.handle(event) {
                switch action {
                case .send(let message, let id): received[id, default: []].append(message)
                case .broadcast(let message, let ids, _): for id in ids { received[id, default: []].append(message) }
                case .close(let id, let code, _): closes[id] = code
                case .helloSettled(let id, let outcome): hellos[id] = outcome
                case .post(let change): posts.append(change)
                case .forgetRoom(let name): forgets.append(name.key)
                case .log: break
                case .io(let request): io.append(request)
                }
            }
        }

        /// Carries out every waiting I/O action against the memory store until none is left.
        mutating func settle() async throws {
            while !io.isEmpty {
                let completion = try await complete(io.removeFirst())
                feed(.completed(completion))
            }
        }

        /// The store's answer to one I/O action (the cluster's: nobody on other nodes).
        func complete(_ io: ChatCore.IO) async throws -> ChatCore.Completion {
            let configuration = core.configuration
            switch io {
            case .openRoom(let request): return .roomOpened(request, try await store.openRoom(request.name))
            case .readJoinHistory(let request, _):
                let page =
                    if let since = request.resumeFrom {
                        try await store.messages(in: request.name, after: since, limit: configuration.historyPage)
                    } else {
                        try await store.messages(
                            in: request.name, before: .max, limit: configuration.recentHistory,
                            textBytes: core.historyPageBudget)
                    }
                return .joinHistoryRead(request, page, remoteMembers: [])
            case .append(let request): return .appended(request, try await store.append(request.message))
            case .appendDirect(let request, let to):
                return .directAppended(
                    request,
                    try await store.appendDirect(
                        NewDirectMessage(
                            from: request.from.nick, to: to.nick, text: request.text, cid: request.cid, ts: 0,
                            fromOwner: request.from.owner, toOwner: to.owner)))
            case .storeTopic(let request):
                try await store.setTopic(request.topic, in: request.name)
                return .topicStored(request)
            case .claimNick(let claim): return .nickClaimed(claim, true)
            case .findRemoteRecipient(let request): return .remoteRecipientFound(request, nil)
            case .readRemoteRooms(let id): return .remoteRoomsRead(id, [])
            case .readRemoteMembers(let id, let name): return .remoteMembersRead(id, name, [])
            case .catchUp(let key, let name, let after):
                return .caughtUpPage(roomKey: key, try await store.messages(in: name, after: after, limit: 100))
            case .readOlderHistory(let request):
                let page = try await store.messages(
                    in: request.name, before: request.before ?? .max, limit: request.limit,
                    textBytes: core.historyPageBudget)
                return .olderHistoryRead(request, page)
            case .search(let request):
                return .searched(request, try await store.search(request.text, in: request.room, limit: request.limit))
            case .readConversation(let request):
                let page = try await store.directMessages(
                    between: request.nick, and: request.other, owner: request.owner, before: request.before ?? .max,
                    limit: request.limit, textBytes: core.historyPageBudget)
                return .conversationRead(request, page)
            }
        }

        /// A connection past `hello`, saying `secret` if given.
        mutating func user(_ nick: String, secret: String? = nil) async throws -> ConnectionID {
            let id = ConnectionID()
            feed(.connected(id))
            feed(.hello(.init(nick: nick, secret: secret), from: id, now: 500))
            try await settle()
            let welcome = take(id)
            guard welcome.map(\.type) == ["welcome"] else { throw TestFailure("\(nick) got \(welcome)") }
            return id
        }

        mutating func send(_ message: ClientMessage, from id: ConnectionID) async throws {
            feed(.message(message, from: id, now: 1000))
            try await settle()
        }

        /// Takes what `id` was sent since the last look.
        mutating func take(_ id: ConnectionID) -> [ServerMessage] {
            received.removeValue(forKey: id) ?? []
        }
    }

    static func texts(_ messages: [ServerMessage]) -> [String] {
        messages.compactMap { if case .message(let m) = $0 { m.text } else { nil } }
    }

    /// `away` is heard once by everyone who shares a room with the user (and the user), shown
    /// in `who`, in a late joiner's `joined` and in `whois`; `away` without a reason is back.
    @Test func awayIsHeardOnceAndShownInWhoJoinedAndWhois() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        let carol = try await desk.user("carol")
        for room in ["one", "two"] {
            try await desk.send(.join(.init(room: room)), from: alice)
            try await desk.send(.join(.init(room: room)), from: bob)
        }
        _ = (desk.take(alice), desk.take(bob))

        try await desk.send(.away(reason: "lunch"), from: alice)
        let notice = ServerMessage.away(.init(nick: "alice", reason: "lunch"))
        #expect(desk.take(bob) == [notice], "once, though they share two rooms")
        #expect(desk.take(alice) == [notice], "the user's confirmation")
        #expect(desk.take(carol).isEmpty, "no shared room")

        try await desk.send(.who(room: "one"), from: carol)
        #expect(desk.take(carol) == [.members(room: "one", members: ["alice", "bob"], away: ["alice"])])
        try await desk.send(.join(.init(room: "two")), from: carol)
        guard case .joined(let joined) = desk.take(carol).first else { throw TestFailure("carol did not join") }
        #expect(joined.away == ["alice"])

        desk.feed(.message(.say(.init(room: "one", text: "hi", cid: "b1")), from: bob, now: 61_000))
        try await desk.settle()
        desk.feed(.message(.whois(nick: "ALICE"), from: carol, now: 301_000))
        desk.feed(.message(.whois(nick: "bob"), from: carol, now: 301_000))
        #expect(
            desk.take(carol).filter { $0.type == "whois" } == [
                .whois(.init(nick: "alice", rooms: ["one", "two"], away: "lunch", since: 500, idle: 300)),
                .whois(.init(nick: "bob", rooms: ["one", "two"], away: nil, since: 500, idle: 240)),
            ])
        try await desk.send(.whois(nick: "nobody"), from: carol)
        guard case .error(let unknown)? = desk.take(carol).first else { throw TestFailure("no error for nobody") }
        #expect(unknown.code == .noSuchNick && unknown.message == "nobody is not connected")

        _ = desk.take(bob)
        try await desk.send(.away(reason: nil), from: alice)
        #expect(desk.take(bob) == [.away(.init(nick: "alice", reason: nil))])
        #expect(desk.take(carol) == [.away(.init(nick: "alice", reason: nil))], "carol shares #two now")
        try await desk.send(.away(reason: nil), from: alice)
        #expect(desk.take(bob).isEmpty, "back twice is said once")
        try await desk.send(.who(room: "one"), from: carol)
        #expect(desk.take(carol) == [.members(room: "one", members: ["alice", "bob"])])
    }

    @Test func aWholeConversation() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        #expect(desk.hellos[alice] == .welcomed && desk.hellos[bob] == .welcomed)

        try await desk.send(.join(.init(room: "general")), from: alice)
        #expect(desk.take(alice).map(\.type) == ["joined"])
        try await desk.send(.join(.init(room: "general")), from: bob)
        #expect(desk.take(alice) == [.presence(.init(room: "general", nick: "bob", event: .join))])
        guard case .joined(let joined) = desk.take(bob).first else { throw TestFailure("bob did not join") }
        #expect(joined.members == ["alice", "bob"])

        try await desk.send(.say(.init(room: "general", text: "你好 👋", cid: "c1")), from: alice)
        #expect(Self.texts(desk.take(alice)) == ["你好 👋"])
        #expect(Self.texts(desk.take(bob)) == ["你好 👋"])

        try await desk.send(.dm(.init(to: "bob", text: "psst", cid: "d1")), from: alice)
        #expect(desk.take(bob).map(\.type) == ["dm"])
        #expect(desk.take(alice).map(\.type) == ["dm"])

        try await desk.send(.nick("bobby"), from: bob)
        #expect(desk.take(alice) == [.nick(old: "bob", new: "bobby")])
        #expect(desk.take(bob) == [.nick(old: "bob", new: "bobby")])

        try await desk.send(.topic(room: "general", topic: "tea"), from: bob)
        #expect(desk.take(alice) == [.topic(.init(room: "general", topic: "tea", by: "bobby"))])
        _ = desk.take(bob)

        try await desk.send(.quit(reason: "off to bed"), from: bob)
        #expect(desk.closes[bob] == .normal)
        #expect(
            desk.take(alice) == [.presence(.init(room: "general", nick: "bobby", event: .quit, reason: "off to bed"))])
        desk.feed(.disconnected(bob, reason: "connection lost"))
        #expect(desk.take(alice).isEmpty, "a quit is told once")
        #expect(desk.core.userCount == 1 && desk.core.sessions[bob] == nil)
    }

    /// Direct messages are read back by whoever says the secret they were sent or received
    /// under: after a reconnect (a new connection, the same secret), but not by the next holder
    /// of the nick, nor by a client that says no secret.
    @Test func directMessagesAreReadBackUnderTheirSecretOnly() async throws {
        var desk = Desk { $0.historyPageBytes = 1_000 }
        let adaSecret = String(repeating: "a", count: 64)
        let bobSecret = String(repeating: "b", count: 64)
        var ada = try await desk.user("ada", secret: adaSecret)
        let bob = try await desk.user("bob", secret: bobSecret)
        for index in 1...12 {
            let (from, to) = index.isMultiple(of: 2) ? (bob, "ada") : (ada, "bob")
            try await desk.send(
                .dm(.init(to: to, text: String(repeating: "x", count: 150) + "\(index)", cid: "d\(index)")), from: from)
        }
        _ = desk.take(bob)
        try await desk.send(.quit(reason: nil), from: ada)
        desk.feed(.disconnected(ada, reason: "gone"))

        // Someone else takes the nick ada: nothing of ada's is theirs, and what they say is theirs.
        let eve = try await desk.user("ada", secret: String(repeating: "e", count: 64))
        try await desk.send(.directHistory(.init(with: "bob")), from: eve)
        #expect(desk.take(eve) == [.directHistory(.init(with: "bob", before: nil, messages: [], more: false))])
        try await desk.send(.dm(.init(to: "bob", text: "it's me, honest", cid: "e1")), from: eve)
        _ = desk.take(eve)
        try await desk.send(.quit(reason: nil), from: eve)
        desk.feed(.disconnected(eve, reason: "gone"))

        // ada comes back with her secret and reads it all back, page by page within the budget.
        ada = try await desk.user("ada", secret: adaSecret)
        var read: [Int64] = []
        var before: Int64? = nil
        while true {
            try await desk.send(.directHistory(.init(with: "BOB", before: before, limit: 50)), from: ada)
            guard case .directHistory(let page) = desk.take(ada).first else { throw TestFailure("no page") }
            #expect(page.with == "BOB" && page.before == before)
            #expect(page.messages.reduce(0) { $0 + $1.wireBytes } <= 1_000)
            read = page.messages.map(\.id) + read
            guard page.more, let first = page.messages.first else { break }
            before = first.id
        }
        #expect(read == Array(1...12), "eve's message (13) is not ada's")

        // bob was party to all of it.
        #expect(desk.take(bob).map(\.type) == ["dm"], "eve's message, live")
        try await desk.send(.directHistory(.init(with: "ada", limit: 3)), from: bob)
        guard case .directHistory(let bobs) = desk.take(bob).first else { throw TestFailure("no page for bob") }
        #expect(bobs.messages.map(\.text).last == "it's me, honest" && bobs.more)

        // Without a secret there is nothing to read back under.
        let anonymous = try await desk.user("carol")
        try await desk.send(.directHistory(.init(with: "bob")), from: anonymous)
        guard case .error(let error) = desk.take(anonymous).first else { throw TestFailure("no error") }
        #expect(error.code == .badRequest && error.ref == "dm_history")
        try await desk.send(.directHistory(.init(with: "not a nick!")), from: ada)
        guard case .error(let bad) = desk.take(ada).first else { throw TestFailure("no error") }
        #expect(bad.code == .noSuchNick && bad.ref == "dm_history")
    }

    /// A member scrolling back reads the room page by page down to its first message; each
    /// page fits the byte budget, and a non-member is told to join first.
    @Test func aMemberReadsTheRoomBackToItsFirstMessage() async throws {
        var desk = Desk { $0.historyPageBytes = 2_000 }
        let alice = try await desk.user("alice")
        try await desk.send(.join(.init(room: "general")), from: alice)
        for index in 1...30 {
            try await desk.send(
                .say(.init(room: "general", text: String(repeating: "x", count: 100) + "\(index)", cid: "c\(index)")),
                from: alice)
        }
        _ = desk.take(alice)
        var read: [Int64] = []
        var before: Int64? = nil
        var pages = 0
        while true {
            try await desk.send(.history(.init(room: "general", before: before, limit: 20)), from: alice)
            guard case .history(let page) = desk.take(alice).first else { throw TestFailure("no history page") }
            pages += 1
            #expect(page.room == "general" && page.before == before)
            #expect(page.messages.reduce(0) { $0 + $1.wireBytes } <= 2_000)
            read = page.messages.map(\.id) + read
            guard page.more, let first = page.messages.first else { break }
            before = first.id
        }
        #expect(read == Array(1...30))
        #expect(pages >= 3, "pages are cut to the byte budget, not only to the limit")

        let bob = try await desk.user("bob")
        try await desk.send(.history(.init(room: "general")), from: bob)
        guard case .error(let error) = desk.take(bob).first else { throw TestFailure("no error") }
        #expect(error.code == .notJoined && error.ref == "history")
    }

    @Test func liveMessagesWaitForTheJoinersHistoryAndComeOnce() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        try await desk.send(.join(.init(room: "general")), from: alice)
        try await desk.send(.say(.init(room: "general", text: "one", cid: "c1")), from: alice)

        desk.feed(.message(.join(.init(room: "general", since: 0)), from: bob, now: 0))
        // Bob's history is read while alice speaks again; her message is held for bob.
        let history = desk.io.removeFirst()
        try await desk.send(.say(.init(room: "general", text: "two", cid: "c2")), from: alice)
        #expect(desk.take(bob).isEmpty)
        desk.feed(.completed(try await desk.complete(history)))
        let toBob = desk.take(bob)
        guard case .joined(let joined) = toBob.first else { throw TestFailure("no joined: \(toBob)") }
        let everything = joined.history.map(\.text) + Self.texts(Array(toBob.dropFirst()))
        #expect(everything == ["one", "two"], "each message once, in order")
    }

    @Test func aJoinerThatLeavesWhileItsHistoryIsReadGetsNothing() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        try await desk.send(.join(.init(room: "general")), from: alice)
        desk.feed(.message(.join(.init(room: "general")), from: bob, now: 0))
        let history = desk.io.removeFirst()
        desk.feed(.disconnected(bob, reason: "connection lost"))
        _ = desk.take(alice)
        desk.feed(.completed(try await desk.complete(history)))
        #expect(desk.take(bob).isEmpty)
        #expect(desk.take(alice).isEmpty)
    }

    @Test func aRecordReadWhileTheRoomWasForgottenIsReadAgain() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        // Both ask for the record of a room nobody is in.
        desk.feed(.message(.join(.init(room: "tmp")), from: alice, now: 0))
        desk.feed(.message(.join(.init(room: "tmp")), from: bob, now: 0))
        let bobsOpen = desk.io.removeLast()
        try await desk.settle()
        // Alice leaves the room empty and unused: its record is being deleted.
        try await desk.send(.part(room: "tmp"), from: alice)
        #expect(desk.forgets == ["tmp"])
        desk.feed(.completed(try await desk.complete(bobsOpen)))
        guard case .openRoom = desk.io.first else { throw TestFailure("the record was not read again: \(desk.io)") }
        try await desk.settle()
        #expect(desk.take(bob).contains { $0.type == "joined" })
    }

    @Test func aCIDOfAnotherSendersMessageShowsNothingOfIt() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let mallory = try await desk.user("mallory")
        try await desk.send(.join(.init(room: "general")), from: alice)
        try await desk.send(.join(.init(room: "general")), from: mallory)
        try await desk.send(.say(.init(room: "general", text: "secret", cid: "c1")), from: alice)
        _ = desk.take(mallory)
        try await desk.send(.say(.init(room: "general", text: "x", cid: "c1")), from: mallory)
        let answer = desk.take(mallory)
        #expect(answer.map(\.type) == ["error"])
        #expect(Self.texts(answer).isEmpty)
        // Her own resend after a nick change is recognised.
        try await desk.send(.nick("alicia"), from: alice)
        _ = desk.take(alice)
        try await desk.send(.say(.init(room: "general", text: "secret", cid: "c1")), from: alice)
        #expect(Self.texts(desk.take(alice)) == ["secret"])
        // And after another, both for what she said as alice and as alicia.
        try await desk.send(.say(.init(room: "general", text: "as alicia", cid: "c2")), from: alice)
        try await desk.send(.nick("ali"), from: alice)
        _ = desk.take(alice)
        for cid in ["c1", "c2"] {
            try await desk.send(.say(.init(room: "general", text: "resent", cid: cid)), from: alice)
        }
        #expect(Self.texts(desk.take(alice)) == ["secret", "as alicia"])
    }

    @Test func aNickRefusedByTheClusterIsFreedAgain() async throws {
        var desk = Desk(clustered: true)
        let dave = ConnectionID()
        desk.feed(.connected(dave))
        desk.feed(.hello(.init(nick: "victim"), from: dave, now: 500))
        guard case .claimNick(let claim) = desk.io.removeFirst() else { throw TestFailure("no claim") }
        desk.feed(.completed(.nickClaimed(claim, false)))
        #expect(desk.hellos[dave] == .refused)
        #expect(desk.take(dave).map(\.type) == ["error"])
        #expect(desk.core.userCount == 0)

        // Granted after the connection went: the cluster is told to let it go.
        let eve = ConnectionID()
        desk.feed(.connected(eve))
        desk.feed(.hello(.init(nick: "eve"), from: eve, now: 500))
        guard case .claimNick(let eves) = desk.io.removeFirst() else { throw TestFailure("no claim") }
        desk.feed(.disconnected(eve, reason: "connection lost"))
        desk.feed(.completed(.nickClaimed(eves, true)))
        #expect(desk.hellos[eve] == .closed)
        guard case .released(let released)? = desk.posts.last else { throw TestFailure("\(desk.posts)") }
        #expect(released.name == "eve")
    }

    @Test func aStoreFailureClosesOnlyTheConnectionThatAsked() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        let bob = try await desk.user("bob")
        desk.feed(.message(.join(.init(room: "general")), from: alice, now: 0))
        desk.io.removeAll()
        desk.feed(.completed(.failed(.request(alice, type: "join"), error: "disk full")))
        #expect(desk.closes == [alice: .internalError])
        _ = bob
    }

    @Test func catchUpsOfOneRoomCoalesce() async throws {
        var desk = Desk(clustered: true)
        let alice = try await desk.user("alice")
        try await desk.send(.join(.init(room: "general")), from: alice)
        _ = desk.take(alice)
        desk.feed(.cluster(.resynchronize))
        #expect(desk.io.count == 1)
        // A notice without its message while the read runs: one more read afterwards, not two now.
        desk.feed(.cluster(.notice(.message(roomKey: "general", id: 1, message: nil))))
        #expect(desk.io.count == 1)
        let name = try RoomName(validating: "general")
        _ = try await desk.store.append(
            NewMessage(room: name, from: "bob", text: "from the other node", cid: "r1", action: nil, ts: 0))
        desk.feed(.completed(try await desk.complete(desk.io.removeFirst())))
        #expect(desk.io.count == 1, "read once more")
        try await desk.settle()
        #expect(Self.texts(desk.take(alice)) == ["from the other node"])
        #expect(desk.core.catchingUp.isEmpty)
    }

    @Test func theServerStoppingClosesEveryoneAndEveryLateComer() async throws {
        var desk = Desk()
        let alice = try await desk.user("alice")
        desk.feed(.shutdown)
        #expect(desk.closes[alice] == .goingAway)
        let late = ConnectionID()
        desk.feed(.connected(late))
        #expect(desk.closes[late] == .goingAway)
    }
}
