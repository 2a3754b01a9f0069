import Foundation
import Testing
import WSChatProtocol
import WSChatTestSupport

@Suite("wschat --plain, the line-mode front end", .timeLimit(.minutes(1)))
struct PlainModeTests {
    static func jsonObjects(_ process: ProductProcess) -> [[String: Any]] {
        process.outputLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    @Test func twoScriptsChatWithJSONOutputAndQuitWhenDelivered() async throws {
        let server = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", "0"])
        let url = "ws://127.0.0.1:\(try await server.port())/ws"
        let bob = try ProductProcess.launch("wschat", arguments: ["--plain", "--json", "--nick", "bob", url])
        try await bob.waitForOutput { $0.contains(#""type":"joined""#) }

        let alice = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--json", "--nick", "alice", "--room", "lobby", url])
        alice.writeLine("/join general")
        alice.writeLine("你好，bob 👋")
        alice.writeLine("/me waves")
        alice.writeLine("/msg bob psst")
        alice.closeInput()
        #expect(try await alice.waitForExit(timeout: .seconds(20)) == 0, "stderr: \(alice.standardError)")

        let objects = Self.jsonObjects(alice)
        #expect(objects.count == alice.outputLines.count, "every line is one JSON object")
        let states = objects.filter { $0["type"] as? String == "state" }.compactMap { $0["state"] as? String }
        #expect(states.first == "connecting" && states.contains("connected") && states.last == "offline")
        let texts = objects.filter { $0["type"] as? String == "message" }.compactMap { $0["text"] as? String }
        #expect(texts == ["你好，bob 👋", "waves"])
        #expect(objects.contains { $0["type"] as? String == "dm" && $0["text"] as? String == "psst" })

        try await bob.waitForOutput { $0.contains("psst") }
        let bobTexts = Self.jsonObjects(bob).filter { $0["type"] as? String == "message" }.compactMap {
            $0["text"] as? String
        }
        #expect(bobTexts == ["你好，bob 👋", "waves"])
        bob.closeInput()
        #expect(try await bob.waitForExit(timeout: .seconds(20)) == 0)
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: .seconds(5))
    }

    @Test func undeliveredMessagesAreNamedOnStderrWithAFailingStatus() async throws {
        // The server refuses to upgrade this path, so the message can never be delivered.
        let server = try await TestServer.start()
        let alice = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--drain-timeout", "1", "ws://127.0.0.1:\(server.port)/nowhere"])
        alice.writeLine("hello?")
        alice.closeInput()
        #expect(try await alice.waitForExit(timeout: .seconds(20)) == 1)
        #expect(alice.standardError.contains("1 message(s) were not delivered"))
        #expect(alice.standardError.contains("hello?"))
        try await server.stop()
    }

    /// More lines than the server's rate limit lets through in the drain: what is reported
    /// undelivered was never echoed, and everything echoed before the exit counts.
    @Test func aDrainThatRunsOutReportsOnlyWhatTheServerNeverAcknowledged() async throws {
        let server = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", "0"])
        let url = "ws://127.0.0.1:\(try await server.port())/ws"
        let bot = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--json", "--drain-timeout", "2", "--nick", "bot2", url])
        bot.writeLine("/join rust")
        for n in 1...40 { bot.writeLine("drain test \(n)") }
        bot.closeInput()
        let status = try await bot.waitForExit(timeout: .seconds(30))
        let objects = Self.jsonObjects(bot)
        let echoed = Set(objects.filter { $0["type"] as? String == "message" }.compactMap { $0["cid"] as? String })
        let undelivered = objects.filter { $0["type"] as? String == "undelivered" }.compactMap { $0["cid"] as? String }
        let typed = objects.filter { $0["type"] as? String == "pending" }.compactMap { $0["cid"] as? String }
        #expect(typed.count == 40)
        #expect(!undelivered.isEmpty, "40 lines take longer than 2 s at the default rate limit")
        #expect(echoed.isDisjoint(with: undelivered), "an acknowledged message is never called undelivered")
        #expect(Set(typed) == echoed.union(undelivered), "every line is either acknowledged or reported")
        #expect(status == 1)
        #expect(bot.standardError.contains("\(undelivered.count) message(s) were not delivered"))
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: .seconds(5))
    }

    @Test func neverConnectingIsAFailureThatSaysWhy() async throws {
        let port = try TestServer.unusedFixedPort()
        let alice = try ProductProcess.launch("wschat", arguments: ["--plain", "ws://127.0.0.1:\(port)/ws"])
        alice.closeInput()
        #expect(try await alice.waitForExit(timeout: .seconds(20)) == 1)
        #expect(
            alice.standardError.contains("never connected to ws://127.0.0.1:\(port)/ws: "), "\(alice.standardError)")
    }

    @Test func anInvalidNickIsExplainedWithAFailingStatus() async throws {
        let bad = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--nick", "bad nick", "ws://127.0.0.1:1/ws"])
        #expect(try await bad.waitForExit(timeout: .seconds(10)) != 0)
        #expect(bad.standardError.contains("--nick 'bad nick' is not a valid nick: a nick may not contain U+20"))
    }

    /// A login name with a dot is common; it becomes a nick, and the user is told.
    @Test func aLoginNameThatIsNoNickBecomesOne() async throws {
        let server = try await TestServer.start()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-\(UUID().uuidString)").path
        let john = try ProductProcess.launch(
            "wschat", arguments: ["--plain", server.url], environment: ["USER": "john.doe", "XDG_CONFIG_HOME": home])
        try await john.waitForOutput { $0.contains("-- welcome to") }
        #expect(john.outputLines.contains { $0.hasSuffix(", john_doe") }, "\(john.outputLines)")
        john.closeInput()
        #expect(try await john.waitForExit(timeout: .seconds(20)) == 0)
        #expect(john.standardError.contains("your login name john.doe is not a valid nick, so you are john_doe"))
        try await server.stop()
    }

    @Test func hostingOnAPortInUseSaysSo() async throws {
        let taken = try await TestServer.start()
        let host = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--host", "--bind", "127.0.0.1", "--port", String(taken.port)])
        host.closeInput()
        #expect(try await host.waitForExit(timeout: .seconds(20)) != 0)
        #expect(host.standardError.contains("port \(taken.port) is in use"), "\(host.standardError)")
        try await taken.stop()
    }

    /// A lax server's frame with a raw ESC in a field this client does not know, and text
    /// that would read backwards: line mode prints valid JSON and inert text.
    @Test func lineModeOutputIsAlwaysValidJSONAndInertText() async throws {
        let frame =
            "{\"type\":\"message\",\"room\":\"general\",\"id\":1,\"ts\":0,\"from\":\"mallory\",\"cid\":\"m\","
            + "\"text\":\"gnp.\u{202E}exe\",\"extra\":\"\u{1B}]0;owned\u{07}\"}"
        for json in [true, false] {
            let hostile = try await HostileServer.start(sending: [frame])
            let alice = try ProductProcess.launch(
                "wschat", arguments: ["--plain", "--nick", "alice"] + (json ? ["--json"] : []) + [hostile.url])
            try await alice.waitForOutput { $0.contains("mallory") }
            alice.closeInput()
            _ = try await alice.waitForExit(timeout: .seconds(20))
            #expect(!alice.standardOutput.unicodeScalars.contains { TerminalText.isInert($0) && $0 != "\n" })
            if json {
                #expect(Self.jsonObjects(alice).count == alice.outputLines.count, "\(alice.outputLines)")
            } else {
                #expect(alice.standardOutput.contains("<mallory> gnp.<U+202E>exe"))
            }
            try await hostile.stop()
        }
    }

    @Test func textModeShowsOneLinePerEvent() async throws {
        let server = try await TestServer.start()
        let mallory = try await server.user("mallory")
        try await mallory.join("general")
        let alice = try ProductProcess.launch("wschat", arguments: ["--plain", "--nick", "alice", server.url])
        try await alice.waitForOutput { $0.contains("joined #general") }
        try await mallory.send(.say(.init(room: "general", text: "multi\nline", cid: "m1")))
        try await alice.waitForOutput { $0.contains("<mallory> multi ↵ line") }
        alice.writeLine("/quit")
        #expect(try await alice.waitForExit(timeout: .seconds(20)) == 0)
        #expect(alice.outputLines.contains { $0.hasPrefix("-- connected") })
        try await server.stop()
    }

    @Test func badFlagsAreExplained() async throws {
        let wrong = try ProductProcess.launch("wschat", arguments: ["--plain", "http://example.invalid/ws"])
        #expect(try await wrong.waitForExit(timeout: .seconds(10)) != 0)
        #expect(wrong.standardError.contains("is not a WebSocket URL"))
        for (url, reason) in [("ws://", "names no host"), ("ws://host:99999/ws", "between 1 and 65535")] {
            let never = try ProductProcess.launch("wschat", arguments: ["--plain", url])
            #expect(try await never.waitForExit(timeout: .seconds(10)) == 64)
            #expect(never.standardError.contains(reason), "\(never.standardError)")
        }
    }
}
