import Foundation
import Testing
import WSChatClient
import WSChatProtocol
import WSChatServer
import WSChatTestSupport

@Suite("Reconnect and resume against a real server", .timeLimit(.minutes(2)))
struct ReconnectTests {
    /// Waits until both clients have been shown exactly `texts` (in any order so far).
    static func bothHaveSeen(_ texts: Set<String>, _ clients: [RecordedEngine]) async throws {
        for client in clients {
            try await client.waitUntil("\(texts.count) messages") { events in
                Set(RecordedEngine.conversation(in: events).map(\.text)) == texts
            }
        }
    }

    @Test func aServerRestartOnTheSamePortLosesNothingAndDoublesNothing() async throws {
        let store = MemoryHistoryStore()  // survives the restart, as a database would
        let port = try TestServer.unusedFixedPort()
        let first = try await TestServer.start(store: store) { $0.port = port }
        let alice = RecordedEngine(RecordedEngine.configuration(url: first.url, nick: "alice"))
        let bob = RecordedEngine(RecordedEngine.configuration(url: first.url, nick: "bob"))
        for client in [alice, bob] {
            try await client.waitUntil("joined") {
                $0.contains { if case .server(.joined, _) = $0 { true } else { false } }
            }
        }

        var typed: Set<String> = []
        for n in 1...3 {
            alice.say("alice \(n) 你好")
            bob.say("bob \(n)")
            typed.formUnion(["alice \(n) 你好", "bob \(n)"])
        }
        try await Self.bothHaveSeen(typed, [alice, bob])

        try await first.stop()
        for client in [alice, bob] {
            try await client.waitUntil("reconnecting") { $0.contains(where: RecordedEngine.isReconnecting) }
        }
        for text in ["alice typed offline 1", "alice typed offline 2"] { alice.say(text) }
        bob.say("bob typed offline")
        typed.formUnion(["alice typed offline 1", "alice typed offline 2", "bob typed offline"])
        try await Task.sleep(for: .milliseconds(1500))

        let second = try await TestServer.start(store: store) { $0.port = port }
        try await Self.bothHaveSeen(typed, [alice, bob])
        alice.say("alice after")
        bob.say("bob after")
        typed.formUnion(["alice after", "bob after"])
        try await Self.bothHaveSeen(typed, [alice, bob])

        let aliceSaw = await alice.conversation
        let bobSaw = await bob.conversation
        #expect(aliceSaw.map(\.id) == Array(1...Int64(typed.count)), "every message once, in order")
        #expect(aliceSaw == bobSaw, "the same conversation for both")
        #expect(RecordedEngine.everythingTypedWasAcknowledged(await alice.events))
        try await second.stop()
    }

    @Test func aRestartedMemoryServerIsReportedAsLostHistory() async throws {
        let port = try TestServer.unusedFixedPort()
        let first = try await TestServer.start { $0.port = port }
        let alice = RecordedEngine(RecordedEngine.configuration(url: first.url, nick: "alice"))
        try await alice.waitUntil("joined") { $0.contains { if case .server(.joined, _) = $0 { true } else { false } } }
        alice.say("before")
        try await alice.waitUntil("echo") { RecordedEngine.conversation(in: $0).count == 1 }
        try await first.stop()
        try await alice.waitUntil("reconnecting") { $0.contains(where: RecordedEngine.isReconnecting) }
        alice.say("during")
        let second = try await TestServer.start { $0.port = port }
        try await alice.waitUntil("reset notice") { events in
            events.contains {
                if case .notice(let text) = $0 { text.contains("lost the earlier history") } else { false }
            }
        }
        try await alice.waitUntil("resent") { RecordedEngine.conversation(in: $0).map(\.text) == ["before", "during"] }
        try await second.stop()
    }

    @Test func aBlackholedConnectionIsNoticedByKeepaliveAndRecovered() async throws {
        let server = try await TestServer.start()
        let proxy = try await TCPProxy.start(forwardingTo: server.port)
        let bob = try await server.user("bob")
        try await bob.join("general")
        var configuration = RecordedEngine.configuration(url: "ws://127.0.0.1:\(proxy.port)/ws", nick: "alice")
        configuration.keepalive = KeepalivePolicy(interval: .seconds(1), timeout: .seconds(1))
        let alice = RecordedEngine(configuration)
        try await alice.waitUntil("connected") { $0.contains(where: RecordedEngine.isConnected) }
        _ = try await bob.next { if case .presence(let p) = $0, p.nick == "alice" { p } else { nil } }

        proxy.blackhole()
        let start = ContinuousClock.now
        try await alice.waitUntil("dead peer noticed") { $0.contains(where: RecordedEngine.isReconnecting) }
        let noticed = ContinuousClock.now - start
        // interval + timeout is 2 s; a loaded CI machine gets generous slack.
        #expect(noticed < .seconds(6), "noticed after \(noticed)")
        let reason = await alice.events.compactMap { event -> String? in
            if case .state(.reconnecting(_, _, let error)) = event { error } else { nil }
        }.first
        #expect(reason?.contains("no answer to ping") == true)

        alice.say("typed while the line was dead")
        try await Task.sleep(for: .seconds(2))
        proxy.restore()
        let delivered = try await bob.next(timeout: .seconds(20)) { message -> ChatMessage? in
            if case .message(let m) = message { m } else { nil }
        }
        #expect(delivered.text == "typed while the line was dead" && delivered.from.hasPrefix("alice"))
        try await alice.waitUntil("echoed") {
            RecordedEngine.conversation(in: $0).map(\.text) == ["typed while the line was dead"]
        }
        try await server.stop()
    }
}
