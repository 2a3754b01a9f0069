import Testing
import WSChatProtocol
import WSChatTestSupport

@Suite("History and resume", .timeLimit(.minutes(1)))
struct HistoryResumeTests {
    @Test func joinWithSinceReturnsExactlyTheMissedMessagesInOrder() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let bob = try await server.user("bob")
        try await alice.join("general")
        let joined = try await bob.join("general")
        _ = try await alice.next()
        for n in 1...3 { try await alice.say("before \(n)", in: "general") }
        for _ in 1...3 { _ = try await bob.next() }

        try await bob.close()
        _ = try await alice.next()  // bob's quit
        var missed: [ChatMessage] = []
        for n in 1...5 { missed.append(try await alice.say("while away \(n)", in: "general")) }

        let back = try await server.user("bob")
        let resumed = try await back.join("general", since: 3, epoch: joined.epoch)
        #expect(resumed.history == missed)
        #expect(!resumed.more && resumed.reset == nil)
        #expect(resumed.epoch == joined.epoch)
        try await server.stop()
    }

    /// A `since` past the room's newest id (a confused or hostile client) gets an empty
    /// history and still every message said afterwards.
    @Test func aSinceBeyondTheNewestMessageStillGetsLiveMessages() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        let epoch = try await alice.join("general").epoch
        try await alice.say("one", in: "general")
        let bob = try await server.user("bob")
        let joined = try await bob.join("general", since: 1_000, epoch: epoch)
        #expect(joined.history.isEmpty && !joined.more)
        _ = try await alice.next()  // bob's join
        let two = try await alice.say("two", in: "general")
        #expect(try await bob.next { if case .message(let m) = $0 { m } else { nil } } == two)
        try await server.stop()
    }

    @Test func joinWithoutSinceGetsTheLast50() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        try await alice.join("general")
        for n in 1...60 { try await alice.say("m\(n)", in: "general") }
        let bob = try await server.user("bob")
        let joined = try await bob.join("general")
        #expect(joined.history.map(\.id) == Array(11...60))
        #expect(joined.more, "older messages were left out")
        try await server.stop()
    }

    @Test func longAbsencesArePagedWithMoreAndNoLiveMessagesSlipIntoTheGap() async throws {
        let server = try await TestServer.start { $0.historyPage = 4 }
        let alice = try await server.user("alice")
        let epoch = try await alice.join("general").epoch
        for n in 1...10 { try await alice.say("m\(n)", in: "general") }

        let bob = try await server.user("bob")
        let page1 = try await bob.join("general", since: 0, epoch: epoch)
        #expect(page1.history.map(\.id) == [1, 2, 3, 4] && page1.more)
        _ = try await alice.next()  // presence
        try await alice.say("m11", in: "general")
        try await bob.expectSilence()

        let page2 = try await bob.join("general", since: 4, epoch: epoch)
        #expect(page2.history.map(\.id) == [5, 6, 7, 8] && page2.more)
        let page3 = try await bob.join("general", since: 8, epoch: epoch)
        #expect(page3.history.map(\.id) == [9, 10, 11] && !page3.more)

        try await alice.say("m12", in: "general")
        guard case .message(let live) = try await bob.next() else { throw TestFailure("expected a live message") }
        #expect(live.id == 12, "live delivery resumes once caught up")
        try await server.stop()
    }

    @Test func anUnknownEpochGetsTheLast50WithReset() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        try await alice.join("general")
        for n in 1...3 { try await alice.say("m\(n)", in: "general") }
        let bob = try await server.user("bob")
        let joined = try await bob.join("general", since: 2, epoch: "an-epoch-from-a-previous-life")
        #expect(joined.reset == true)
        #expect(joined.history.map(\.id) == [1, 2, 3])
        try await server.stop()
    }

    @Test func sinceWithoutEpochIsTreatedAsTheCurrentEpoch() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        try await alice.join("general")
        for n in 1...3 { try await alice.say("m\(n)", in: "general") }
        let bob = try await server.user("bob")
        let joined = try await bob.join("general", since: 1)
        #expect(joined.history.map(\.id) == [2, 3])
        #expect(joined.reset == nil)
        try await server.stop()
    }

    @Test func aRestartedMemoryServerHasANewEpoch() async throws {
        let first = try await TestServer.start()
        let alice = try await first.user("alice")
        let before = try await alice.join("general").epoch
        try await first.stop()
        let second = try await TestServer.start()
        let again = try await second.user("alice")
        let after = try await again.join("general", since: 5, epoch: before)
        #expect(after.epoch != before)
        #expect(after.reset == true)
        try await second.stop()
    }

    /// However large the history, no `joined` outgrows its byte budget: a resume pages
    /// forward through every message, a first join shows the newest that fit.
    @Test func historyPagesAreBoundedInBytes() async throws {
        let server = try await TestServer.start { $0.historyPageBytes = 20_000 }
        let alice = try await server.user("alice")
        let epoch = try await alice.join("archive").epoch
        let text = String(repeating: "x", count: 4000)
        for n in 1...30 { try await alice.say("\(n) \(text)", in: "archive") }

        let bob = try await server.user("bob")
        var seen: [Int64] = []
        var since: Int64 = 0
        while true {
            let page = try await bob.join("archive", since: since, epoch: epoch)
            let bytes = page.history.reduce(0) { $0 + $1.text.utf8.count }
            #expect(bytes <= 20_000, "a page of \(bytes) bytes")
            #expect(!page.history.isEmpty)
            seen += page.history.map(\.id)
            since = page.history.last?.id ?? since
            if !page.more { break }
        }
        #expect(seen == Array(1...30), "every message once, in order")

        let carol = try await server.user("carol")
        let first = try await carol.join("archive")
        #expect(first.more)
        #expect(first.history.map(\.id) == Array(Int64(31 - first.history.count)...30), "the newest that fit")
        #expect(first.history.count < 30 && first.history.count >= 3)
        try await server.stop()
    }
}
