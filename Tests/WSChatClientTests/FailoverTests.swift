import Foundation
import Testing
import WSChatClient
import WSChatProtocol
import WSChatTestSupport

/// Two `wschat-server` nodes share one PostgreSQL database; a client is given both URLs.
@Suite("Failover between the nodes of a cluster", .timeLimit(.minutes(3)))
struct FailoverTests {
    /// Node A is killed with `kill -9`. Its user's engine moves on to node B, rejoins with
    /// `since`, and ends up with the whole conversation once, in order: what was said on B
    /// while it moved, and what it typed meanwhile (resent from its outbox).
    @Test func aClientWhoseNodeDiesResumesOnTheNextURLWithoutLossOrDuplicates() async throws {
        let database = try await TestPostgres.freshDatabase()
        let flags = ["--database", database, "--rate", "0"]
        let a = try await ServerProcess.start(flags)
        let b = try await ServerProcess.start(flags)
        let bob = try await b.user("bob")
        try await bob.join("general")

        var configuration = RecordedEngine.configuration(url: a.url, nick: "alice")
        configuration.urls = [a.url, b.url]
        let alice = RecordedEngine(configuration)
        try await alice.waitUntil("joined on a") {
            $0.contains { if case .server(.joined, _) = $0 { true } else { false } }
        }
        var typed: [String] = []
        for n in 1...3 {
            alice.say("alice on a \(n)")
            typed.append("alice on a \(n)")
        }
        try await alice.waitUntil("echoes") { RecordedEngine.conversation(in: $0).count == 3 }

        try await a.kill()
        try await alice.waitUntil("reconnecting") { $0.contains(where: RecordedEngine.isReconnecting) }
        alice.say("alice typed while moving")
        typed.append("alice typed while moving")
        for n in 1...3 {
            // Sent without waiting for the echo, so bob's own view below stays whole.
            try await bob.send(.say(.init(room: "general", text: "bob on b \(n)", cid: "bob-\(n)")))
            typed.append("bob on b \(n)")
        }

        let everything = Set(typed)
        try await alice.waitUntil("the whole conversation", timeout: .seconds(40)) { events in
            Set(RecordedEngine.conversation(in: events).map(\.text)) == everything
        }
        let conversation = await alice.conversation
        #expect(conversation.map(\.id) == Array(1...Int64(typed.count)), "every message once, in order")
        #expect(RecordedEngine.everythingTypedWasAcknowledged(await alice.events))

        // Bob, on the surviving node, saw the same conversation, each message once.
        var seenByBob: [ChatMessage] = []
        while seenByBob.count < typed.count {
            if case .message(let message) = try await bob.next() { seenByBob.append(message) }
        }
        #expect(seenByBob.map(\.id) == conversation.map(\.id))
        #expect(seenByBob.map(\.text) == conversation.map(\.text))
        try await b.stop()
    }
}
