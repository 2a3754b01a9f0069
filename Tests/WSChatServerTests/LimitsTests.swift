import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

@Suite("Limits that protect the server", .timeLimit(.minutes(2)))
struct LimitsTests {
    @Test func aFrameOverTheSizeLimitCloses1009() async throws {
        let server = try await TestServer.start { $0.maxFrameSize = 8 * 1024 }
        let client = try await server.user("alice")
        let huge = ClientMessage.say(.init(room: "general", text: String(repeating: "x", count: 9000), cid: "big"))
        try await client.send(huge)
        #expect(try await client.closed().code == 1009)
        try await server.stop()
    }

    @Test func aBinaryFrameCloses1003() async throws {
        let server = try await TestServer.start()
        let client = try await server.user("alice")
        try await client.sendBinary([0xde, 0xad, 0xbe, 0xef])
        #expect(try await client.closed().code == 1003)
        try await server.stop()
    }

    @Test func aClientThatNeverSaysHelloIsClosed() async throws {
        let server = try await TestServer.start { $0.handshakeTimeout = .seconds(1) }
        let silent = try await server.connect()
        let close = try await silent.closed(timeout: .seconds(10))
        #expect(close.code == 1008)
        try await server.stop()
    }

    @Test func aConnectionThatNeverFinishesTheUpgradeIsClosed() async throws {
        let server = try await TestServer.start { $0.handshakeTimeout = .seconds(1) }
        let elapsed = try await RawConnection.timeUntilServerCloses(
            port: server.port, sending: "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n", limit: .seconds(10))
        #expect(elapsed < .seconds(5))
        let silentElapsed = try await RawConnection.timeUntilServerCloses(port: server.port, limit: .seconds(10))
        #expect(silentElapsed < .seconds(5))
        try await server.stop()
    }

    @Test func aForeignOriginIsRefusedWith403() async throws {
        let server = try await TestServer.start { $0.allowedOrigins = ["https://friend.example"] }
        let foreign = try await RawConnection.request(
            port: server.port,
            RawConnection.upgradeRequest(port: server.port, extraHeaders: ["Origin: https://evil.example"]))
        #expect(foreign.status == 403)
        #expect(foreign.body.contains("evil.example"))
        let own = try await RawConnection.request(
            port: server.port,
            RawConnection.upgradeRequest(port: server.port, extraHeaders: ["Origin: http://127.0.0.1:\(server.port)"])
        ).status
        #expect(own == 101)
        let friend = try await RawConnection.request(
            port: server.port,
            RawConnection.upgradeRequest(port: server.port, extraHeaders: ["Origin: https://friend.example"])
        ).status
        #expect(friend == 101)
        try await server.stop()
    }

    @Test func tooManyConnectionsAreRefusedWith503() async throws {
        let server = try await TestServer.start { $0.maxConnectionsPerAddress = 2 }
        let first = try await server.connect()
        let second = try await server.connect()
        let refused = try await RawConnection.request(
            port: server.port, RawConnection.upgradeRequest(port: server.port))
        #expect(refused.status == 503)
        try await first.close()
        _ = try await first.closed()
        // The slot is freed once the server has seen the close, a moment after the client has.
        let third = try await eventually("a slot freed by the close") { try? await server.connect() }
        try await third.hello("carol")
        _ = second
        try await server.stop()

        // Every accepted socket counts, upgraded or not: one that never sends a byte holds a slot.
        let capped = try await TestServer.start { $0.maxConnections = 1 }
        var silent = try await RawConnection.silent(port: capped.port)
        // The server sets connections up on several event loops, so an upgrade sent right
        // after may be counted first (and pass); then the silent socket is the one over the cap,
        // and the server drops it a second later: open another. Once a silent socket holds the
        // slot, the upgrade is refused.
        let over = try await eventually("the silent socket counted") {
            if !silent.isActive { silent = try await RawConnection.silent(port: capped.port) }
            let response = try await RawConnection.request(
                port: capped.port, RawConnection.upgradeRequest(port: capped.port))
            return response.status == 503 ? response : nil
        }
        #expect(over.head.lowercased().contains("retry-after: 10"))
        // On a busy machine the server may have dropped the silent socket already (it never
        // sent a request); either way its slot comes free, which is what the next step waits for.
        try? await silent.close()
        let metrics = try await eventually("a free slot") {
            let response = try await capped.get("/metrics")
            return response.status == 200 ? response : nil
        }
        // At least the upgrade above; a /metrics request that came before the slot was free
        // was refused too.
        #expect((metrics.metric("wschat_refused_connections_total") ?? 0) >= 1, "\(metrics.body)")
        try await capped.stop()
    }

    @Test func aClientThatStopsReadingIsDroppedWhileTheOthersKeepUp() async throws {
        // The default byte bound (1 MiB): the stalled client overflows it many times over, while
        // a reading client on a machine busy with the other suites has room to fall behind.
        let server = try await TestServer.start()
        let sender = try await server.user("sender")
        let reader = try await server.user("reader")
        try await sender.join("firehose")
        try await reader.join("firehose")
        let quiet = try await server.connect(reading: false)
        try await quiet.send(.hello(.init(nick: "quiet")))
        try await quiet.send(.join(.init(room: "firehose")))
        _ = try await sender.next { if case .presence(let p) = $0, p.nick == "quiet" { p } else { nil } }
        _ = try await reader.next { if case .presence(let p) = $0, p.nick == "quiet" { p } else { nil } }

        // Enough bytes to fill the kernel's socket buffers towards the stalled client and then its
        // queue, sent in batches that the two reading clients keep up with.
        let batches = 30
        let batch = 200
        let text = String(repeating: "x", count: 3900)
        var received = 0
        var sawQuietLeave = false
        for b in 0..<batches {
            for n in 1...batch {
                try await sender.send(.say(.init(room: "firehose", text: text, cid: "m\(b)-\(n)")))
            }
            while received < (b + 1) * batch {
                switch try await reader.next(timeout: .seconds(30)) {
                case .message(let message):
                    received += 1
                    #expect(message.id == Int64(received))
                case .presence(let presence) where presence.nick == "quiet" && presence.event == .quit:
                    sawQuietLeave = true
                default: break
                }
            }
            _ = try await sender.next(timeout: .seconds(30)) { message -> ChatMessage? in
                if case .message(let m) = message, m.cid == "m\(b)-\(batch)" { m } else { nil }
            }
        }
        #expect(received == batches * batch)
        #expect(sawQuietLeave, "the stalled reader was dropped and its room told")
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains("wschat_slow_consumers_dropped_total 1"))
        try await server.stop()
    }

    /// Replies count against the same byte bound as broadcasts: a client that asks for large
    /// history pages without reading them is dropped, and the others never notice.
    @Test func aClientThatAsksWithoutReadingIsDroppedByItsByteBound() async throws {
        let server = try await TestServer.start { $0.sendQueueBytes = 256 * 1024 }
        let alice = try await server.user("alice")
        try await alice.join("archive")
        let text = String(repeating: "y", count: 4000)
        for n in 1...60 { try await alice.say("\(n) \(text)", in: "archive") }
        let witnesses = try await Witnesses.join(url: server.url, nicks: ("wanda", "walt"))

        let hoarder = try await server.connect(reading: false)
        try await hoarder.send(.hello(.init(nick: "hoarder")))
        let report = try await witnesses.chat {
            // 300 pages of about 128 KiB: far more than the socket buffers and the bound hold.
            for _ in 0..<300 {
                do { try await hoarder.send(.join(.init(room: "archive", since: 0))) } catch { break }
            }
            _ = try await eventually("the hoarder dropped") {
                try await server.get("/metrics").body.contains("wschat_slow_consumers_dropped_total 1") ? true : nil
            }
        }
        #expect(report.problems.isEmpty, "\(report.problems)")
        try await server.stop()
    }

    @Test func aVanishedClientIsDroppedByTheServersPing() async throws {
        let server = try await TestServer.start { $0.pingInterval = .seconds(2) }
        let alice = try await server.user("alice")
        try await alice.join("general")
        let ghost = try await server.connect(reading: false)
        try await ghost.send(.hello(.init(nick: "ghost")))
        try await ghost.send(.join(.init(room: "general")))
        _ = try await alice.next { if case .presence(let p) = $0, p.event == .join { p } else { nil } }
        let start = ContinuousClock.now
        let left = try await alice.next(timeout: .seconds(20)) { message -> ServerMessage.Presence? in
            if case .presence(let p) = message, p.nick == "ghost", p.event == .quit { p } else { nil }
        }
        #expect(left.reason == "connection lost")
        #expect(ContinuousClock.now - start < .seconds(15), "two ping periods, with room for a loaded machine")
        try await server.stop()
    }
}
