import CompressNIO
import Foundation
import NIOCore
import Synchronization
import Testing
import WSChatProtocol
import WSChatTestSupport

/// Everything an attacker tried on a running server, each with the exact reaction it must get,
/// thrown at one real `wschat-server` (the release defaults: rate limits, caps, frame sizes)
/// while two witnesses chat in a room of their own. After every case the witnesses must have
/// seen every line, in order, with no error; after all of them the server's memory must be
/// back near where it started and `/healthz` must answer.
@Suite("Hostile input", .timeLimit(.minutes(5)))
struct HostileInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        /// The slowest echo the witnesses may see during the attack.
        let echoBound: Duration
        let attack: @Sendable (Arena) async throws -> Void
        init(
            _ description: String, echoWithin echoBound: Duration = .seconds(10),
            _ attack: @escaping @Sendable (Arena) async throws -> Void
        ) {
            self.description = description
            self.echoBound = echoBound
            self.attack = attack
        }
    }

    /// The server under attack, and the WebSocket clients one case opened (closed after it).
    final class Arena: Sendable {
        let server: ServerProcess
        private let clients = Mutex<[TestClient]>([])

        init(server: ServerProcess) { self.server = server }

        var port: Int { server.port }

        func connect(reading: Bool = true) async throws -> TestClient {
            let client = try await server.connect(reading: reading)
            clients.withLock { $0.append(client) }
            return client
        }

        func user(_ nick: String, secret: String? = nil) async throws -> TestClient {
            let client = try await connect()
            try await client.hello(nick, secret: secret)
            return client
        }

        /// Closes every client of the case and waits until the server has let them all go.
        func closeAll(leaving open: Int) async throws {
            for client in clients.withLock({ $0 }) { try? await client.close() }
            clients.withLock { $0.removeAll() }
            _ = try await eventually("\(open) open connection(s)") {
                try await metric("wschat_open_connections") == Double(open) ? true : nil
            }
        }

        /// Runs `attack` while sampling the server's resident memory every 50 ms; its peak may
        /// be at most 256 MiB above where it started.
        func withinMemoryBound(_ attack: () async throws -> Void) async throws {
            let start = try server.process.residentBytes
            let sampler = Task { [server] in
                var peak = start
                while !Task.isCancelled {
                    if let resident = try? server.process.residentBytes { peak = max(peak, resident) }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return peak
            }
            do {
                try await attack()
            } catch {
                sampler.cancel()
                throw error
            }
            sampler.cancel()
            let growth = await sampler.value - start
            #expect(growth < 256 << 20, "resident memory grew by \(growth >> 20) MiB during the attack")
        }

        /// The value of one of the server's metrics (without labels).
        func metric(_ name: String) async throws -> Double? {
            try await RawConnection.request(port: port, get("/metrics", port: port)).metric(name)
        }
    }

    @Test func theServerSurvivesEveryCaseAndTheWitnessesNeverNotice() async throws {
        let server = try await ServerProcess.start([
            "--memory", "--handshake-timeout", "5", "--ping-interval", "3",
        ])
        let witnesses = try await Witnesses.join(url: server.url, nicks: ("alice", "bob"))
        let memoryBefore = try server.process.residentBytes
        let arena = Arena(server: server)
        for hostile in Self.cases {
            let report = try await witnesses.chat {
                try await withTimeout(.seconds(60)) { try await hostile.attack(arena) }
            }
            try await arena.closeAll(leaving: 2)
            #expect(report.problems.isEmpty, "\(hostile): \(report.problems)")
            #expect(
                report.slowestEcho < hostile.echoBound,
                "\(hostile): an echo took \(report.slowestEcho) (at most \(hostile.echoBound))")
        }
        let health = try await RawConnection.request(port: server.port, Self.get("/healthz", port: server.port))
        #expect(health.status == 200)
        #expect(health.body == "ok")
        let memoryAfter = try server.process.residentBytes
        #expect(
            memoryAfter < memoryBefore + 64 << 20,
            "resident memory went from \(memoryBefore >> 20) MiB to \(memoryAfter >> 20) MiB")
        #expect(!server.process.standardError.contains(" error "), "no error lines: \(server.process.standardError)")
        try await server.stop()
    }

    static let cases: [Case] =
        httpCases + frameCases + jsonCases + nameAndTextCases + floodCases + withinTheLimitsCases
        + [directMessageWithAnotherSendersCID, directMessagesOfANicksEarlierHolder]

    // MARK: HTTP and the upgrade

    static let httpCases: [Case] = [
        Case("a plain HTTP request to /ws") { server in
            let answer = try await status(of: get("/ws", port: server.port), on: server)
            #expect(answer == 426)
        },
        Case("an upgrade without a key, with a malformed key, and with another version") { server in
            let port = server.port
            let noKey = upgrade(port: port, replacing: "Sec-WebSocket-Key", with: nil)
            let noKeyStatus = try await status(of: noKey, on: server)
            #expect(noKeyStatus == 400)
            let badKey = upgrade(port: port, replacing: "Sec-WebSocket-Key", with: "Sec-WebSocket-Key: bad")
            let answer = try await status(of: badKey, on: server)
            #expect(answer == 400)
            let oldVersion = upgrade(port: port, replacing: "Sec-WebSocket-Version", with: "Sec-WebSocket-Version: 8")
            let response = try await RawConnection.request(port: port, oldVersion)
            #expect(response.status == 426)
            #expect(response.head.lowercased().contains("sec-websocket-version: 13"))
        },
        Case("an upgrade to a path no endpoint takes, one without Connection: Upgrade, and one with a body") {
            server in
            let port = server.port
            let elsewhere = try await RawConnection.request(
                port: port,
                RawConnection.upgradeRequest(port: port, path: "/nowhere"))
            #expect(elsewhere.status == 400)
            #expect(elsewhere.body.contains("no WebSocket endpoint at /nowhere"), "\(elsewhere.body)")
            let noConnection = upgrade(port: port, replacing: "Connection", with: nil)
            let noConnectionStatus = try await status(of: noConnection, on: server)
            #expect(noConnectionStatus == 400)
            let withBody = RawConnection.upgradeRequest(port: port, extraHeaders: ["Content-Length: 5"]) + "hello"
            let withBodyStatus = try await status(of: withBody, on: server)
            #expect(withBodyStatus == 400)
        },
        Case("a hello in the same packet as the upgrade request") { server in
            let hello = RawWebSocket.frame(opcode: 0x1, Array(ClientMessage.hello(.init(nick: "eager")).encoded().utf8))
            let reply = try await withTimeout(.seconds(20)) {
                try await RawWebSocket.session(port: server.port, pipelined: [hello]) { try await $0.nextFrame() }
            }
            let text = reply.map { String(decoding: $0.payload, as: UTF8.self) } ?? "(the connection ended)"
            guard case .welcome = try? ServerMessage.decode(text) else {
                Issue.record("the hello sent with the upgrade request was answered with \(text)")
                return
            }
        },
        Case("100 KB of headers") { server in
            let headers = (0..<100).map { "X-Padding-\($0): \(String(repeating: "a", count: 1000))" }
            let request = RawConnection.upgradeRequest(port: server.port, extraHeaders: headers)
            let answer = try await status(of: request, on: server)
            #expect(answer == 431)
        },
        Case("Transfer-Encoding and Content-Length on one request") { server in
            let request =
                "POST /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
            let answer = try await status(of: request, on: server)
            #expect(answer == 400)
        },
        Case("a slowloris upgrade, and one announcing a body that never comes") { server in
            let elapsed = try await RawConnection.timeUntilServerCloses(
                port: server.port, sending: "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web", limit: .seconds(20))
            #expect(elapsed < .seconds(9), "closed after \(elapsed) (handshake timeout 5 s)")
            let withoutItsBody = try await RawConnection.timeUntilServerCloses(
                port: server.port,
                sending: RawConnection.upgradeRequest(port: server.port, extraHeaders: ["Content-Length: 100000"]),
                limit: .seconds(20))
            #expect(withoutItsBody < .seconds(9), "closed after \(withoutItsBody) (handshake timeout 5 s)")
        },
        Case("a foreign Origin") { server in
            let request = RawConnection.upgradeRequest(
                port: server.port, extraHeaders: ["Origin: https://evil.example"])
            let answer = try await status(of: request, on: server)
            #expect(answer == 403)
        },
    ]

    // MARK: Frames

    static let frameCases: [Case] = [
        Case("a binary frame") { server in
            let answer = try await closeCode(server) { try await $0.send(opcode: 0x2, [1, 2, 3]) }
            #expect(answer == 1003)
        },
        Case("invalid UTF-8 in a text frame") { server in
            let answer = try await closeCode(server) { try await $0.send(opcode: 0x1, [0x7B, 0xC3, 0x28, 0x7D]) }
            #expect(answer == 1007)
        },
        Case("an unmasked frame") { server in
            let hello = Array(ClientMessage.hello(.init(nick: "naked")).encoded().utf8)
            let answer = try await closeCode(server) { try await $0.send(opcode: 0x1, hello, masked: false) }
            #expect(answer == 1002)
        },
        Case("an RSV-flagged frame without an extension") { server in
            let answer = try await closeCode(server) { try await $0.send(opcode: 0x1, Array("{}".utf8), rsv1: true) }
            #expect(answer == 1002)
        },
        Case("an oversized frame") { server in
            let huge = [UInt8](repeating: 0x20, count: 70_000)
            let answer = try await closeCode(server) { try await $0.send(opcode: 0x1, huge) }
            #expect(answer == 1009)
        },
        Case("an oversized message in fragments") { server in
            let part = [UInt8](repeating: 0x20, count: 30_000)
            let code = try await closeCode(server) { socket in
                try await socket.send(opcode: 0x1, part, fin: false)
                try await socket.send(opcode: 0x0, part, fin: false)
                try await socket.send(opcode: 0x0, part, fin: true)
            }
            #expect(code == 1009)
        },
        Case("a compression bomb") { server in
            var spaces = ByteBuffer(repeating: 0x20, count: 4 << 20)
            var deflated = try spaces.compress(with: .deflate())
            let bomb = deflated.readBytes(length: deflated.readableBytes) ?? []
            #expect(bomb.count < 10_000)
            let code = try await closeCode(server, extensions: "permessage-deflate") {
                try await $0.send(opcode: 0x1, bomb, rsv1: true)
            }
            #expect(code == 1009)
        },
    ]

    // MARK: JSON

    static let jsonCases: [Case] = [
        Case("invalid JSON, wrong types, missing fields, an unknown type") { server in
            let mallory = try await server.user("mallory")
            #expect(try await code(mallory, "{\"type\": \"say\", ") == .badRequest)
            #expect(try await code(mallory, #"{"type":"join","room":7}"#) == .badRequest)
            #expect(try await code(mallory, #"{"type":"say","room":"witnesses"}"#) == .badRequest)
            #expect(try await code(mallory, #"{"type":"sudo"}"#) == .unknownType)
            #expect(try await code(mallory, #"[{"type":"say"}]"#) == .badRequest)
        },
        Case("10 000-deep nesting") { server in
            let mallory = try await server.user("mallory")
            let deep =
                #"{"type":"ping","t":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
                + "}"
            #expect(try await code(mallory, deep) == .badRequest)
            let deepObject = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
            #expect(try await code(mallory, deepObject) == .badRequest)
        },
        Case("extreme integers") { server in
            let mallory = try await server.user("mallory")
            for since in ["9223372036854775807", "-9223372036854775808", "-1", "1e400", "18446744073709551616"] {
                let frame = #"{"type":"join","room":"numbers","since":\#(since)}"#
                #expect(try await code(mallory, frame) == .badRequest, "since \(since)")
            }
            // The room still works, and so does the largest id a client may send.
            _ = try await mallory.join("numbers", since: ClientMessage.maxID)
        },
    ]

    // MARK: Names and text

    static let nameAndTextCases: [Case] = [
        Case("oversized text, names and cids") { server in
            let mallory = try await server.user("mallory")
            _ = try await mallory.join("mine")
            let long = String(repeating: "x", count: 5000)
            #expect(try await code(mallory, .say(.init(room: "mine", text: long, cid: "c1"))) == .tooLarge)
            let zalgo = "z" + String(repeating: "\u{0301}\u{0316}", count: 2000)
            #expect(try await code(mallory, .nick(zalgo)) == .badNick)
            #expect(try await code(mallory, .nick(String(repeating: "n", count: 33))) == .badNick)
            #expect(try await code(mallory, .join(.init(room: zalgo))) == .badRoom)
            let longCID = String(repeating: "c", count: 65)
            #expect(try await code(mallory, .say(.init(room: "mine", text: "hi", cid: longCID))) == .badRequest)
            #expect(try await code(mallory, .say(.init(room: "mine", text: "hi", cid: "ç\u{0301}"))) == .badRequest)
        },
        Case("control, bidi and invisible characters in text and names") { server in
            let mallory = try await server.user("mallory")
            _ = try await mallory.join("mine")
            let escape = ClientMessage.say(.init(room: "mine", text: "\u{1B}]0;owned\u{07}", cid: "c2"))
            #expect(try await code(mallory, escape) == .badText)
            // Bidi controls in text are delivered as sent: clients draw them inert.
            let bidi = "abc\u{202E}fed"
            #expect(try await mallory.say(bidi, in: "mine").text == bidi)
            for name in ["mal\u{202E}lory", "\u{3164}", "mal\u{200B}lory", "mallory\u{034F}"] {
                #expect(try await code(mallory, .nick(name)) == .badNick, "nick \(name.debugDescription)")
                #expect(try await code(mallory, .join(.init(room: name))) == .badRoom, "room \(name.debugDescription)")
            }
        },
        Case("nicks and rooms that look like ones in use") { server in
            for lookalike in ["аlice", "ａｌｉｃｅ", "𝐚𝐥𝐢𝐜𝐞", "ALICE", "AIice"] {
                let mallory = try await server.connect()
                try await mallory.send(.hello(.init(nick: lookalike)))
                guard case .error(let error) = try await mallory.next() else {
                    Issue.record("\(lookalike) was let in next to alice")
                    continue
                }
                #expect(error.code == .nickTaken, "\(lookalike): \(error.message)")
            }
            let mallory = try await server.user("mallory")
            #expect(try await code(mallory, .nick("bоb")) == .nickTaken)
            #expect(try await code(mallory, .join(.init(room: "wіtnesses"))) == .badRoom)
        },
        Case("say in a room not joined") { server in
            let mallory = try await server.user("mallory")
            #expect(try await code(mallory, .say(.init(room: "witnesses", text: "hi", cid: "c3"))) == .notJoined)
        },
    ]

    // MARK: Floods

    static let floodCases: [Case] = [
        Case("1000 joins") { server in
            let mallory = try await server.user("mallory")
            #expect(try await flood(mallory, (0..<1000).map { .join(.init(room: "room\($0)")) }) == 1008)
            try await roomsSettle(at: 1, on: server)
        },
        Case("a flood of 10 000 messages") { server in
            let mallory = try await server.user("mallory")
            _ = try await mallory.join("mine")
            let messages = (0..<10_000).map {
                ClientMessage.say(.init(room: "mine", text: "spam \($0)", cid: "s\($0)"))
            }
            #expect(try await flood(mallory, messages) == 1008)
        },
        Case("a ping flood") { server in
            let mallory = try await server.user("mallory")
            #expect(try await flood(mallory, (0..<2000).map { .ping(.number(Double($0))) }) == 1008)
        },
        Case("200 connections from one address") { server in
            var sockets: [any Channel] = []
            for _ in 0..<200 { sockets.append(try await RawConnection.silent(port: server.port)) }
            let refused = try await RawConnection.request(
                port: server.port, RawConnection.upgradeRequest(port: server.port))
            #expect(refused.status == 503)
            #expect(refused.head.lowercased().contains("retry-after"))
            for socket in sockets { try? await socket.close() }
            _ = try await eventually("a free slot") {
                try await RawConnection.request(port: server.port, get("/healthz", port: server.port)).status == 200
                    ? true : nil
            }
        },
        Case("a client that never reads") { server in
            let sloth = try await server.connect(reading: false)
            try await sloth.send(.hello(.init(nick: "sloth")))
            try await sloth.send(.join(.init(room: "sloths")))
            let watcher = try await server.user("watcher")
            _ = try await watcher.join("sloths")
            // It answers no ping: gone within two ping periods (3 s each), however little it costs.
            let left = try await watcher.next(timeout: .seconds(20)) { message -> ServerMessage.Presence? in
                if case .presence(let p) = message, p.nick == "sloth", p.event == .quit { p } else { nil }
            }
            #expect(left.reason == "connection lost")
        },
    ]

    // MARK: Attacks that stay inside every limit (issue #11)

    /// Each is one client's worth of connections (the per-address cap, with the witnesses')
    /// doing only what the limits allow. The witnesses chat in another room and must not
    /// notice: their echoes stay prompt (issue #11 asks for p99 50 ms; alone on the 2-core
    /// machine the slowest echo was 25 ms with the pullers and 330 ms with the pingers, and a
    /// CI machine running other suites meanwhile gets 2 s) and the server's memory stays
    /// within 256 MiB of where it was. The suite's end checks that the memory came back.
    static let withinTheLimitsCases: [Case] = [
        Case("18 connections pulling a 4 MB history every 110 ms", echoWithin: .seconds(2)) { server in
            var pullers: [TestClient] = []
            for n in 0..<18 { pullers.append(try await server.user("puller\(n)")) }
            // 1008 messages of 4 KB, each puller saying its share below the rate limit.
            let text = String(repeating: "h", count: 4000)
            try await withThrowingTaskGroup { group in
                for (n, puller) in pullers.enumerated() {
                    group.addTask {
                        try await puller.join("big")
                        for line in 0..<56 {
                            try await puller.say("\(n).\(line) \(text)", in: "big")
                            try await Task.sleep(for: .milliseconds(110))
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await server.withinMemoryBound {
                try await withThrowingTaskGroup { group in
                    for puller in pullers {
                        group.addTask {
                            for _ in 0..<40 {
                                let joined = try await puller.join("big", since: 0)
                                #expect(!joined.history.isEmpty)
                                try await Task.sleep(for: .milliseconds(110))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        },
        Case("18 connections that never read, sending 1100 pings each", echoWithin: .seconds(2)) { server in
            let t = String(repeating: "p", count: 400)
            try await server.withinMemoryBound {
                try await withThrowingTaskGroup { group in
                    for n in 0..<18 {
                        let sloth = try await server.connect(reading: false)
                        try await sloth.send(.hello(.init(nick: "pinger\(n)")))
                        group.addTask {
                            for _ in 0..<1100 {
                                do { try await sloth.send(.ping(.string(t))) } catch { break }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                // Past the ping rate the server answers rate_limited, then closes each with
                // 1008; a client that never reads sees no close frame, so the server's count
                // of open connections is what shows they are gone.
                _ = try await eventually(within: .seconds(30), "the pingers closed") {
                    try await server.metric("wschat_open_connections") == 2 ? true : nil
                }
            }
        },
    ]

    // MARK: Direct messages

    static let directMessageWithAnotherSendersCID = Case("a DM and a say with another sender's cid") { server in
        let carol = try await server.user("carol")
        let dave = try await server.user("dave")
        let secret = "the launch code is 0000"
        try await carol.send(.dm(.init(to: "dave", text: secret, cid: "secret-1")))
        _ = try await dave.next { if case .dm(let dm) = $0, dm.text == secret { dm } else { nil } }
        _ = try await carol.join("club")
        _ = try await carol.say("members only", in: "club", cid: "club-1")

        let mallory = try await server.user("mallory")
        let stolen = try await mallory.error(after: .dm(.init(to: "dave", text: "give", cid: "secret-1")))
        #expect(stolen.code == .badRequest)
        #expect(stolen.ref == "secret-1")
        _ = try await mallory.join("club")
        let replayed = try await mallory.error(after: .say(.init(room: "club", text: "me too", cid: "club-1")))
        #expect(replayed.code == .badRequest)
        try await mallory.expectSilence()
    }

    static let directMessagesOfANicksEarlierHolder = Case("reading back an earlier holder's DMs") { server in
        let carol = try await server.user("carol", secret: String(repeating: "c", count: 64))
        let dave = try await server.user("dave", secret: String(repeating: "d", count: 64))
        try await carol.send(.dm(.init(to: "dave", text: "the launch code is 0000", cid: "held-1")))
        _ = try await dave.next { if case .dm(let dm) = $0 { dm } else { nil } }
        try await carol.close()

        // Taking the nick, with a secret of one's own, without one, or with a malformed one.
        let mallory = try await eventually("carol's nick freed") {
            try? await server.user("carol", secret: String(repeating: "m", count: 64))
        }
        try await mallory.send(.directHistory(.init(with: "dave")))
        let page = try await mallory.next { if case .directHistory(let page) = $0 { page } else { nil } }
        #expect(page.messages.isEmpty && !page.more)
        try await mallory.close()
        let bare = try await eventually("carol's nick freed again") { try? await server.user("carol") }
        #expect(try await code(bare, .directHistory(.init(with: "dave"))) == .badRequest)
        let guesser = try await server.connect()
        #expect(try await code(guesser, .hello(.init(nick: "erin", secret: "c"))) == .badRequest)
        for before in ["0", "-1", "9223372036854775807", "1e400"] {
            let frame = #"{"type":"dm_history","with":"dave","before":\#(before)}"#
            #expect(try await code(bare, frame) == .badRequest, "before \(before)")
        }
        try await bare.expectSilence()
    }

    // MARK: Helpers

    static func get(_ path: String, port: Int) -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
    }

    /// The standard upgrade request with one header line replaced (or removed, with nil).
    static func upgrade(port: Int, replacing name: String, with line: String?) -> String {
        RawConnection.upgradeRequest(port: port).components(separatedBy: "\r\n")
            .compactMap { $0.hasPrefix(name + ":") ? line : $0 }
            .joined(separator: "\r\n")
    }

    static func status(of request: String, on server: Arena) async throws -> Int {
        try await RawConnection.request(port: server.port, request).status
    }

    /// Upgrades a raw socket, does `send`, and returns the close code the server answers with.
    static func closeCode(
        _ server: Arena, extensions: String? = nil,
        _ send: @escaping @Sendable (inout RawWebSocket) async throws -> Void
    ) async throws -> UInt16? {
        try await withTimeout(.seconds(20)) {
            try await RawWebSocket.session(port: server.port, extensions: extensions) { socket in
                try await send(&socket)
                return try await socket.closeCode()
            }
        }
    }

    /// The error code `frame` is answered with.
    static func code(_ client: TestClient, _ frame: String) async throws -> ErrorCode {
        try await client.sendText(frame)
        guard case .error(let error) = try await client.next() else { throw TestFailure("no error for \(frame)") }
        return error.code
    }

    static func code(_ client: TestClient, _ message: ClientMessage) async throws -> ErrorCode {
        try await client.error(after: message).code
    }

    /// Sends every frame without waiting (writes fail once the server has closed), then
    /// returns the close code.
    static func flood(_ client: TestClient, _ messages: [ClientMessage]) async throws -> UInt16? {
        for message in messages {
            do { try await client.send(message) } catch { break }
        }
        return try await client.closed(timeout: .seconds(30)).code
    }

    /// Waits until `/metrics` shows `rooms` rooms with members.
    static func roomsSettle(at rooms: Int, on server: Arena) async throws {
        _ = try await eventually("\(rooms) room(s) in use") {
            try await server.metric("wschat_rooms") == Double(rooms) ? true : nil
        }
    }
}
