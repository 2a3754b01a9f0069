import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

@testable import WSChatServer

@Suite("Starting, serving HTTP and shutting down", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test func healthMetricsAndThePageShareThePort() async throws {
        let server = try await TestServer.start { $0.serverName = "Test <Server>" }
        let health = try await server.get("/healthz")
        #expect(health.status == 200 && health.body == "ok")
        // Every answer says when and who, as an HTTP server must.
        let head = health.head.lowercased()
        #expect(head.contains("server: test <server>"))
        #expect(
            head.contains(
                try Regex(#"\r\ndate: (mon|tue|wed|thu|fri|sat|sun), \d\d [a-z]{3} \d{4} \d\d:\d\d:\d\d gmt\r\n"#)))
        #expect(try await server.get("/nothing-here").status == 404)
        let probe = try await RawConnection.request(
            port: server.port, "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(probe.status == 200 && probe.body.isEmpty)
        #expect(probe.head.lowercased().contains("content-length: 2"))

        let alice = try await server.user("alice")
        try await alice.join("general")
        try await alice.say("hi", in: "general")
        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.head.lowercased().contains("content-type: text/plain; version=0.0.4"))
        for line in [
            "wschat_open_connections 1", "wschat_users 1", "wschat_rooms 1", "wschat_chat_messages_total 1",
            "wschat_slow_consumers_dropped_total 0",
        ] {
            #expect(metrics.body.contains(line), "metrics lack \(line)")
        }
        #expect(metrics.body.contains("wschat_frames_in_total 3"))
        #expect(metrics.body.contains("wschat_frames_out_total 3"))

        // The browser page, with the server's name escaped, its own script, and a policy that
        // runs nothing else.
        let page = try await server.get("/")
        #expect(page.status == 200)
        #expect(page.body.contains(#"<h1 id="title">Test &lt;Server&gt;</h1>"#))
        #expect(page.body.contains(#"<script src="/app.js" defer></script>"#))
        #expect(page.head.lowercased().contains("content-security-policy: default-src 'none'; script-src 'self'"))
        #expect(page.head.lowercased().contains("etag: \""))

        let plain = try await server.get("/ws")
        #expect(plain.status == 426)
        try await server.stop()
    }

    @Test func theSubprotocolIsSelectedWhenOfferedAndOptionalOtherwise() async throws {
        let server = try await TestServer.start()
        let offered = try await RawConnection.request(
            port: server.port,
            RawConnection.upgradeRequest(port: server.port, extraHeaders: ["Sec-WebSocket-Protocol: other, wschat.v1"]))
        #expect(offered.status == 101)
        #expect(offered.head.lowercased().contains("sec-websocket-protocol: wschat.v1"))
        let none = try await server.connect(subprotocol: nil)
        try await none.hello("script")
        try await server.stop()
    }

    /// A conformance suite sends a valid frame and an invalid one together: the echo of the
    /// first must leave before the close the second brings.
    @Test func theEchoEndpointAnswersAFrameBeforeClosingForTheInvalidOneAfterIt() async throws {
        let server = try await TestServer.start { $0.echoEndpoint = true }
        let valid = RawWebSocket.frame(opcode: 0x1, Array("first".utf8))
        let flagged = RawWebSocket.frame(opcode: 0x1, Array("second".utf8), rsv1: true)
        let frames = try await withTimeout(.seconds(20)) {
            try await RawWebSocket.session(port: server.port, path: "/echo", pipelined: [valid, flagged]) { socket in
                var frames: [RawWebSocket.Frame] = []
                while let frame = try await socket.nextFrame() {
                    frames.append(frame)
                    if frame.closeCode != nil { break }
                }
                return frames
            }
        }
        #expect(frames.map(\.opcode) == [0x1, 0x8])
        #expect(frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == "first")
        #expect(frames.last?.closeCode == 1002)
        try await server.stop()
    }

    @Test func gracefulShutdownClosesEveryClientWith1001() async throws {
        let server = try await TestServer.start()
        let alice = try await server.user("alice")
        try await alice.join("general")
        // Connected, but not a WebSocket yet: it must not hold the shutdown up for the
        // handshake timeout (10 s). Accepted before `unnamed`, which the server has upgraded.
        let silent = try await RawConnection.silent(port: server.port)
        let unnamed = try await server.connect()
        let start = ContinuousClock.now
        try await server.stop()
        #expect(try await alice.closed().code == 1001)
        #expect(try await unnamed.closed().code == 1001)
        #expect(ContinuousClock.now - start < .seconds(2))
        try await silent.closeFuture.get()
    }

    @Test func aServerBinaryCopiedAloneServesThePage() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("wschat-server")
        // Copied by cp, not in this process: a file this process held open for writing would
        // be inherited by a child another test spawns meanwhile, and exec would then fail with
        // "text file busy".
        let cp = try Process.run(
            URL(fileURLWithPath: "/bin/cp"),
            arguments: [ProductProcess.productsDirectory.appendingPathComponent("wschat-server").path, copy.path])
        cp.waitUntilExit()
        #expect(cp.terminationStatus == 0)
        let process = try ProductProcess.launch(
            arguments: ["--host", "127.0.0.1", "--port", "0", "--memory"], executable: copy)
        let port = try await process.port()
        let page = try await RawConnection.request(
            port: port, "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
        #expect(page.status == 200 && page.body.contains("wschat"))
        process.signal(SIGTERM)
        #expect(try await process.waitForExit(timeout: .seconds(5)) == 0)
    }

    @Test func sigtermStopsTheServerProcessWithin2Seconds() async throws {
        let process = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", "0"])
        let port = try await process.port()
        let client = try await TestClient.connect(
            url: "ws://127.0.0.1:\(port)/ws", subprotocol: "wschat.v1", compression: false, reading: true)
        try await client.hello("alice")
        let start = ContinuousClock.now
        process.signal(SIGTERM)
        let close = try await client.closed()
        #expect(close.code == 1001)
        let status = try await process.waitForExit(timeout: .seconds(5))
        #expect(status == 0)
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func badFlagsAreExplainedOnStderr() async throws {
        let process = try ProductProcess.launch(arguments: ["--port", "99999"])
        let status = try await process.waitForExit(timeout: .seconds(10))
        #expect(status != 0)
        #expect(process.standardError.contains("--port must be between 0 and 65535"))

        let missing = try ProductProcess.launch(arguments: ["--password-file", "/nonexistent/password"])
        #expect(try await missing.waitForExit(timeout: .seconds(10)) != 0)
        #expect(missing.standardError.contains("cannot read --password-file /nonexistent/password"))
    }

    @Test func thePasswordFileIsHonoured() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-password-\(UUID().uuidString)")
        try "swordfish\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = try ProductProcess.launch(arguments: [
            "--host", "127.0.0.1", "--port", "0", "--password-file", file.path,
        ])
        let port = try await process.port()
        let client = try await TestClient.connect(
            url: "ws://127.0.0.1:\(port)/ws", subprotocol: nil, compression: false, reading: true)
        try await client.hello("alice", password: "swordfish")
        process.signal(SIGTERM)
        _ = try await process.waitForExit(timeout: .seconds(5))
    }
}

@Suite("Sizing the event loops")
struct ServerThreadsTests {
    @Test func theAffinityMaskIsCountedFromProcStatus() {
        let status = "Name:\twschat-server\nCpus_allowed:\t00000000,00000002\nCpus_allowed_list:\t1\n"
        #expect(ServerThreads.allowedCPUs(inStatus: status) == 1)
        #expect(ServerThreads.allowedCPUs(inStatus: "Cpus_allowed:\tff,0000000f\n") == 12)
        #expect(ServerThreads.allowedCPUs(inStatus: "Name:\tx\n") == nil)
        #expect(ServerThreads.allowedCPUs(inStatus: "Cpus_allowed:\t0\n") == nil)
        #expect(ServerThreads.allowedCPUs.map { $0 >= 1 } ?? true)
    }
}
