import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

/// History in the default SQLite store outlives the server process, even `kill -9`.
@Suite("Durable history", .timeLimit(.minutes(3)))
struct DurableHistoryTests {
    static func dataDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("wschat-durable-\(UUID())").path
    }

    @Test func aRestartKeepsHistoryIDsEpochsTopicsAndDedupe() async throws {
        let data = Self.dataDirectory()
        let first = try await ServerProcess.start(["--data-dir", data])
        let ada = try await first.user("ada")
        let epoch = try await ada.join("general").epoch
        var said: [ChatMessage] = []
        for n in 1...3 { said.append(try await ada.say("before \(n)", in: "general", cid: "c\(n)")) }
        try await ada.send(.topic(room: "general", topic: "kept across restarts"))
        _ = try await ada.next { if case .topic = $0 { true } else { nil } }
        try await first.stop()

        let second = try await ServerProcess.start(["--data-dir", data])
        let back = try await second.user("ada")
        let joined = try await back.join("general", since: 0, epoch: epoch)
        #expect(joined.epoch == epoch)
        #expect(joined.history == said)
        #expect(joined.topic == "kept across restarts")
        #expect(joined.reset == nil)
        // A resend from before the restart is recognised: the original comes back.
        #expect(try await back.say("before 2, resent", in: "general", cid: "c2") == said[1])
        #expect(try await back.say("after", in: "general").id == 4)
        try await second.stop()
    }

    /// Direct messages are read back after a restart, by each side's secret, from SQLite.
    @Test func directMessagesAreReadBackAfterARestartBySecret() async throws {
        let data = Self.dataDirectory()
        let (adaSecret, bobSecret) = (String(repeating: "a", count: 64), String(repeating: "b", count: 64))
        let first = try await ServerProcess.start(["--data-dir", data])
        let ada = try await first.user("ada", secret: adaSecret)
        let bob = try await first.user("bob", secret: bobSecret)
        try await ada.send(.dm(.init(to: "bob", text: "kept? 保存された?", cid: "k1")))
        _ = try await bob.next { if case .dm(let dm) = $0 { dm } else { nil } }
        try await first.stop()

        let second = try await ServerProcess.start(["--data-dir", data])
        for (nick, secret, peer) in [("ada", adaSecret, "bob"), ("bob", bobSecret, "ada")] {
            let client = try await second.user(nick, secret: secret)
            try await client.send(.directHistory(.init(with: peer)))
            let page = try await client.next { if case .directHistory(let page) = $0 { page } else { nil } }
            #expect(page.messages.map(\.text) == ["kept? 保存された?"] && page.messages.first?.id == 1)
            try await client.close()
        }
        let other = try await eventually("ada's nick freed") {
            try? await second.user("ada", secret: String(repeating: "z", count: 64))
        }
        try await other.send(.directHistory(.init(with: "bob")))
        let none = try await other.next { if case .directHistory(let page) = $0 { page } else { nil } }
        #expect(none.messages.isEmpty)
        try await second.stop()
    }

    /// Three clients send as fast as they can; the server is killed mid-stream and restarted.
    /// Every acknowledged message survives with its id, no id repeats, and clients that
    /// resend what was not acknowledged (same cids) and resume with `since` end up with every
    /// message exactly once.
    @Test func killDashNineWhileClientsSendLosesNothingAcknowledged() async throws {
        let data = Self.dataDirectory()
        let flags = ["--data-dir", data, "--rate", "0", "--send-queue-bytes", "100000000"]
        let server = try await ServerProcess.start(flags)
        let nicks = ["ann", "ben", "cat"]
        var clients: [TestClient] = []
        var epoch = ""
        for nick in nicks {
            let client = try await server.user(nick)
            epoch = try await client.join("general").epoch
            clients.append(client)
        }
        let perClient = 400
        let senders = clients.enumerated().map { index, client in
            Task {
                for n in 0..<perClient {
                    try? await client.send(
                        .say(.init(room: "general", text: "\(nicks[index]) \(n)", cid: "\(nicks[index])-\(n)")))
                }
            }
        }
        // Kill once some messages are acknowledged but (very likely) not all.
        var seenBeforeKill: [[ChatMessage]] = Array(repeating: [], count: clients.count)
        while seenBeforeKill[0].count < 150 {
            if case .message(let message) = try await clients[0].next() { seenBeforeKill[0].append(message) }
        }
        try await server.kill()
        for task in senders { await task.value }
        for (index, client) in clients.enumerated() {
            seenBeforeKill[index] += try await Self.messagesUntilClosed(client)
        }
        let acknowledged = seenBeforeKill.flatMap { $0 }
        #expect(acknowledged.count < clients.count * perClient * clients.count, "the kill came after everything")

        let restarted = try await ServerProcess.start(flags)
        for (index, nick) in nicks.enumerated() {
            let client = try await restarted.user(nick)
            let lastSeen = seenBeforeKill[index].last?.id ?? 0
            let resumed = try await client.join("general", since: lastSeen, epoch: epoch)
            #expect(resumed.reset == nil)
            var seen = seenBeforeKill[index] + resumed.history
            // Resend everything this client did not see acknowledged, as the engine's outbox does.
            let acked = Set(seen.filter { $0.from == nick }.map(\.cid))
            let unacked = (0..<perClient).map { "\(nick)-\($0)" }.filter { !acked.contains($0) }
            for cid in unacked {
                try await client.send(.say(.init(room: "general", text: "resent \(cid)", cid: cid)))
            }
            var echoed = Set<String>()
            while echoed.count < unacked.count {
                if case .message(let message) = try await client.next(), message.from == nick {
                    echoed.insert(message.cid)
                    if message.id > (seen.last?.id ?? 0) { seen.append(message) }
                }
            }
            #expect(seen.map(\.id) == Array(1...Int64(seen.count)), "\(nick) saw a gap or a repeat")
            try await client.close()
        }

        let auditor = try await restarted.user("auditor")
        var history: [ChatMessage] = []
        var since: Int64 = 0
        while true {
            let page = try await auditor.join("general", since: since, epoch: epoch)
            history += page.history
            since = history.last?.id ?? since
            if !page.more { break }
        }
        #expect(history.count == nicks.count * perClient, "every message exactly once")
        #expect(history.map(\.id) == Array(1...Int64(history.count)))
        #expect(Set(history.map(\.cid)).count == history.count)
        let stored = Dictionary(uniqueKeysWithValues: history.map { ($0.id, $0) })
        for message in acknowledged {
            #expect(stored[message.id] == message, "acknowledged message \(message.id) changed or vanished")
        }
        try await restarted.stop()
    }

    /// Retention runs in the background from the start: messages past `--history-days` (30 by
    /// default) go, then all but the newest `--history-per-room`; ids are never reused.
    @Test func retentionPrunesOldHistoryAtStartAndKeepsIDsIncreasing() async throws {
        let data = Self.dataDirectory()
        let first = try await ServerProcess.start(["--data-dir", data, "--rate", "0"])
        let ada = try await first.user("ada")
        let epoch = try await ada.join("general").epoch
        for n in 1...10 { try await ada.say("m\(n)", in: "general") }
        try await first.stop()
        let fortyDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 40 * 86_400_000
        try await TestSQLite.execute(
            "UPDATE messages SET ts = \(fortyDaysAgo) WHERE id <= 4", in: data + "/history.sqlite3")

        let byAge = try await ServerProcess.start(["--data-dir", data])
        #expect(try await Self.settledHistory(byAge, epoch: epoch, expecting: Array(5...10)) == Array(5...10))
        try await byAge.stop()

        let byCount = try await ServerProcess.start(["--data-dir", data, "--history-per-room", "3"])
        #expect(try await Self.settledHistory(byCount, epoch: epoch, expecting: [8, 9, 10]) == [8, 9, 10])
        let bob = try await byCount.user("bob")
        try await bob.join("general", since: 10, epoch: epoch)
        #expect(try await bob.say("after pruning", in: "general").id == 11)
        try await byCount.stop()
    }

    /// Storage the server cannot use (or that another server uses) stops it at start, with one
    /// line on stderr saying why.
    @Test func unusableStorageIsReportedAtStart() async throws {
        let newer = Self.dataDirectory()
        try await ServerProcess.start(["--data-dir", newer]).stop()
        try await TestSQLite.execute("PRAGMA user_version = 99", in: newer + "/history.sqlite3")
        let notAFolder = Self.dataDirectory()
        try Data("a file".utf8).write(to: URL(fileURLWithPath: notAFolder))
        let inUse = Self.dataDirectory()
        let running = try await ServerProcess.start(["--data-dir", inUse])
        let refusals = [
            (["--data-dir", newer], "has schema version 99, newer than this wschat-server knows"),
            (["--data-dir", inUse], "another wschat-server is using it"),
            (["--data-dir", notAFolder], "cannot create the data directory \(notAFolder)"),
            (
                ["--database", "postgres://wschat:secret@127.0.0.1:1/chat?sslmode=disable"],
                "cannot prepare the database postgres://wschat:***@127.0.0.1:1/chat"
            ),
        ]
        for (flags, explanation) in refusals {
            let server = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", "0"] + flags)
            #expect(try await server.waitForExit(timeout: .seconds(30)) != 0, "\(flags) started")
            // Standard error is read asynchronously: its last lines can land just after the exit.
            let deadline = ContinuousClock.now + .seconds(5)
            while !server.standardError.contains(explanation), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.standardError.contains(explanation), "\(flags): \(server.standardError)")
            #expect(!server.standardError.contains("secret"), "the password was printed")
        }
        try await running.stop()
    }

    /// The ids of `general`'s history from the start, once they are `expected` or after 20 s
    /// (pruning runs in the background, so the first look may come before it).
    static func settledHistory(_ server: ServerProcess, epoch: String, expecting expected: [Int64]) async throws
        -> [Int64]
    {
        let reader = try await server.user("reader")
        let deadline = ContinuousClock.now + .seconds(20)
        var ids: [Int64] = []
        repeat {
            ids = try await reader.join("general", since: 0, epoch: epoch).history.map(\.id)
            if ids == expected { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        try await reader.close()
        return ids
    }

    static func messagesUntilClosed(_ client: TestClient) async throws -> [ChatMessage] {
        var messages: [ChatMessage] = []
        while true {
            do {
                if case .message(let message) = try await client.next() { messages.append(message) }
            } catch {
                return messages
            }
        }
    }
}
