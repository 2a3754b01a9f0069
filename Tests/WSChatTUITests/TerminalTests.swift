import Foundation
import Testing
import WSChatTestSupport

/// wschat in a real terminal: tmux sessions of a fixed size, typed into and read back.
@Suite("wschat in a real terminal (tmux)", .timeLimit(.minutes(2)))
struct TerminalTests {
    static let themes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes").path

    static let binary = ProductProcess.productsDirectory.appendingPathComponent("wschat").path

    /// wschat with its own config, state and data folders (under `home`).
    static func wschat(_ arguments: [String], width: Int = 100, height: Int = 30, home: String = newHome()) throws
        -> TmuxSession
    {
        try session([binary] + arguments, width: width, height: height, home: home)
    }

    static func newHome() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("wschat-home-\(UUID().uuidString)").path
    }

    /// A command in a terminal, with wschat's config, state and data folders of its own.
    static func session(_ command: [String], width: Int = 100, height: Int = 30, home: String = newHome()) throws
        -> TmuxSession
    {
        try TmuxSession.start(
            command, width: width, height: height,
            environment: [
                "HOME": home, "XDG_CONFIG_HOME": home + "/config", "XDG_STATE_HOME": home + "/state",
                "XDG_DATA_HOME": home + "/data", "WSCHAT_THEMES": themes,
            ])
    }

    static func server(_ extra: [String] = []) async throws -> (ProductProcess, String) {
        let process = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", "0"] + extra)
        return (process, "ws://127.0.0.1:\(try await process.port())/ws")
    }

    /// The screen's rows (capture-pane ends the last one with a newline).
    static func rows(_ screen: String) -> [String] {
        var rows = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if rows.last == "" { rows.removeLast() }
        return rows
    }

    /// The status bar: the second to last row.
    static func statusBar(_ screen: String) -> String {
        let rows = rows(screen)
        return rows.count >= 2 ? rows[rows.count - 2] : ""
    }

    /// Waits until the program in the pane has ended (its terminal closed). The exit status
    /// is not read here: tmux 3.3a does not always report it (the line-mode tests check it).
    static func waitForExit(_ session: TmuxSession) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try session.display("#{pane_dead}") != "1" {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("wschat did not exit. Screen:\n\(try session.screen())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func twoUsersChatBothWaysInChinese() async throws {
        let (server, url) = try await Self.server()
        let aliceHome = Self.newHome()
        let alice = try Self.wschat(["--nick", "alice", url], home: aliceHome)
        let bob = try Self.wschat(["--nick", "bob", url])
        for session in [alice, bob] {
            try await session.waitUntil("connected and in #general") {
                Self.statusBar($0).contains("connected") && $0.contains("#general›")
            }
        }
        try alice.type("你好，鲍勃！今天怎么样？🎉")
        try alice.press("Enter")
        let seen = try await bob.waitFor("alice 你好，鲍勃！今天怎么样？🎉")
        #expect(seen.contains("#general (2)"), "the status bar counts both members")
        try bob.type("很好，谢谢！日本語も大丈夫")
        try bob.press("Enter")
        let aliceScreen = try await alice.waitFor("bob 很好，谢谢！日本語も大丈夫")
        // Every buffer is logged, one line per message, times in ISO 8601.
        let port = try #require(URLComponents(string: url)?.port)
        let log = try String(
            contentsOfFile: aliceHome + "/data/wschat/logs/127.0.0.1_\(port)/general.log", encoding: .utf8)
        #expect(log.contains("Z <alice> 你好，鲍勃！今天怎么样？🎉\n"), "\(log)")
        #expect(log.contains("Z <bob> 很好，谢谢！日本語も大丈夫\n"))
        // Wide characters never push the pane border out of line.
        for row in Self.rows(aliceScreen).dropFirst().dropLast(2) {
            #expect(Array(row).count > 19 && Array(row)[19] == "│" || !row.contains("│"), "\(row)")
        }
        server.signal(SIGTERM)
    }

    @Test func directMessagesAndUnreadMarksShowInTheChannelList() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", "--room", "general", "--room", "random", url])
        let bob = try Self.wschat(["--nick", "bob", "--room", "random", url])
        try await alice.waitFor("#random")
        try await bob.waitUntil("bob in #random") {
            Self.statusBar($0).contains("connected") && $0.contains("#random›")
        }
        try bob.type("anyone in random?")
        try bob.press("Enter")
        try bob.type("alice: are you there?")
        try bob.press("Enter")
        let marked = try await alice.waitUntil("#random marked with two unread, one a mention") { screen in
            Self.rows(screen).contains { $0.contains("#random") && $0.contains("!2│") }
        }
        #expect(marked.contains("2 #general"), "alice still reads #general")
        try bob.press("F7")
        try await bob.waitUntil("F7 shows the nick list, bob's own nick first") { screen in
            let rows = Self.rows(screen)
            return rows.contains { $0.hasSuffix("│2 nicks") }
                && rows.firstIndex { $0.hasSuffix("│bob") } ?? .max < rows.firstIndex { $0.hasSuffix("│alice") } ?? 0
        }

        try bob.type("/msg alice a secret 🤫")
        try bob.press("Enter")
        try await bob.waitFor("@alice")
        try await alice.waitUntil("a highlighted DM buffer") { screen in
            Self.rows(screen).contains { $0.contains("@bob") && $0.contains("!1│") }
        }
        try alice.press("M-4")
        let dm = try await alice.waitFor("bob a secret 🤫")
        #expect(dm.contains("bob (direct messages)"))
        try alice.type("got it")
        try alice.press("Enter")
        try await bob.waitFor("alice got it")
        server.signal(SIGTERM)
    }

    /// A conversation is read back when its buffer opens again after a restart of the client
    /// (the same data folder, so the same secret); someone else who takes the nick reads none.
    @Test func directMessagesAreReadBackAfterARestartAndNotByTheNextHolderOfTheNick() async throws {
        let (server, url) = try await Self.server()
        let bob = try await TestClient.connect(url: url, subprotocol: nil, compression: false, reading: true)
        _ = try await bob.hello("bob", secret: String(repeating: "b0", count: 32))
        let home = Self.newHome()
        let alice = try Self.wschat(["--nick", "alice", url], home: home)
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try alice.type("/msg bob hello bob")
        try alice.press("Enter")
        _ = try await bob.next { if case .dm(let dm) = $0 { dm } else { nil } }
        try await bob.send(.dm(.init(to: "alice", text: "hi alice, 你好", cid: "b1")))
        try await alice.waitFor("bob hi alice, 你好")
        try alice.type("/quit")
        try alice.press("Enter")
        try await Self.waitForExit(alice)

        let again = try Self.wschat(["--nick", "alice", url], home: home)
        try await again.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try again.type("/msg bob back again")
        try again.press("Enter")
        // The line typed shows at once, as sending; the conversation read back comes from the server.
        let lines = [
            "beginning of your direct messages with bob", "alice hello bob", "bob hi alice, 你好", "alice back again",
        ]
        let back = try await again.waitUntil("the conversation read back, and the new line sent") { screen in
            let rows = Self.rows(screen)
            return !screen.contains("sending…") && lines.allSatisfy { line in rows.contains { $0.contains(line) } }
        }
        let rows = Self.rows(back)
        let order = lines.map { text in rows.firstIndex { $0.contains(text) } ?? -1 }
        #expect(order == order.sorted(), "\(back)")

        try again.type("/quit")
        try again.press("Enter")
        try await Self.waitForExit(again)
        let impostor = try Self.wschat(["--nick", "alice", url])
        try await impostor.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try impostor.type("/msg bob it's me")
        try impostor.press("Enter")
        let theirs = try await impostor.waitUntil("the impostor's own message under the beginning line") {
            $0.contains("alice it's me") && $0.contains("beginning of your direct messages with bob")
        }
        #expect(!theirs.contains("hello bob") && !theirs.contains("你好"), "\(theirs)")
        server.signal(SIGTERM)
    }

    /// A late joiner scrolls back through a room's whole history, page by page from the
    /// server, to "beginning of #room", and searches it, with the server's default SQLite store.
    @Test func scrollingUpReadsTheRoomBackToItsFirstMessage() async throws {
        let (server, url) = try await Self.server(["--rate", "0"])
        let writer = try await TestClient.connect(url: url, subprotocol: nil, compression: false, reading: true)
        _ = try await writer.hello("writer")
        _ = try await writer.join("general")
        for index in 1...260 { _ = try await writer.say("line \(index) 日本語", in: "general") }
        let alice = try Self.wschat(["--nick", "alice", url], height: 20)
        try await alice.waitFor("line 260 日本語")
        var screen = try alice.screen()
        var presses = 0
        while !screen.contains("beginning of #general"), presses < 100 {
            try alice.press("PageUp")
            presses += 1
            // Each press scrolls, or shows the loading line and then the page it loads.
            let previous = screen
            screen = try await alice.waitUntil("the screen after a PageUp") {
                $0 != previous && !$0.contains("loading older messages…")
            }
        }
        let top = try await alice.waitFor("beginning of #general")
        #expect(top.contains("line 1 日本語"), "the first message is right under the beginning line")
        #expect(presses > 10, "the 50 messages of the join were not all there was")
        try alice.press("PageDown")
        try await alice.waitUntil("PageDown scrolls back down") {
            !$0.contains("beginning of #general") && $0.contains("more below")
        }

        try alice.type("/search line 17 日本")
        try alice.press("Enter")
        let found = try await alice.waitFor("search \"line 17 日本\" in #general: 1 found")
        #expect(found.contains("#general writer line 17 日本語"), "the match shows its room and nick")

        // A fresh client holds only the join's newest messages: /goto fetches back to the match.
        let bob = try Self.wschat(["--nick", "bob", url], height: 20)
        try await bob.waitFor("line 260 日本語")
        try bob.type("/search line 17 日本")
        try bob.press("Enter")
        try await bob.waitFor("[1] ")
        try bob.type("/goto 1")
        try bob.press("Enter")
        let there = try await bob.waitUntil("match 1 shown where it was said, with its neighbours") {
            $0.contains("writer line 16 日本語") && $0.contains("writer line 18 日本語") && $0.contains("more below")
        }
        #expect(!there.contains("line 260 日本語"))
        server.signal(SIGTERM)
    }

    /// The layout follows every resize at once, with nothing else happening (no keepalive
    /// for ten minutes): the resize alone repaints.
    @Test func resizingReflowsDownToFortyByTen() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", "--ping-interval", "600", url], width: 120, height: 35)
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try alice.type(String(repeating: "漢字かな ", count: 30))
        try alice.press("Enter")
        try await alice.waitFor("漢字かな 漢字かな")
        try alice.resize(width: 40, height: 10)
        // Title on top, status bar and input line at the bottom.
        try await alice.waitUntil("a 40×10 layout") { screen in
            let rows = Self.rows(screen)
            return rows.count == 10 && rows[0].hasPrefix(" #general") && Self.statusBar(screen).hasPrefix(" [alice]")
                && rows[9].hasPrefix("#general›")
        }
        try alice.resize(width: 120, height: 35)
        try await alice.waitUntil("a 120×35 layout") { Self.rows($0).count == 35 }
        try alice.type("still here")
        try alice.press("Enter")
        try await alice.waitFor("alice still here")
        server.signal(SIGTERM)
    }

    /// Mistakes found at start are said on the terminal with a failing status, before any
    /// full-screen mode: a port in use, a nick that is not one.
    @Test func startupMistakesAreExplainedOnTheTerminal() async throws {
        let (server, url) = try await Self.server()
        let port = try #require(URLComponents(string: url)?.port)
        let script =
            "'\(Self.binary)' --host --port \(port); echo \"host exited $?\"; '\(Self.binary)' --nick 'bad nick' '\(url)'; "
            + "echo \"nick exited $?\"; '\(Self.binary)' --theme nosuch '\(url)'; echo \"theme exited $?\"; sleep 600"
        let shell = try Self.session(["bash", "-c", script])
        let screen = try await shell.waitFor("theme exited")
        #expect(screen.contains("--theme: no theme \"nosuch\": the themes are default, light, mono, solarized-dark"))
        #expect(screen.contains("theme exited 64"))
        #expect(screen.contains("port \(port) is in use"))
        #expect(screen.contains("host exited 64"))
        #expect(screen.contains("'bad nick' is not a valid nick"))
        #expect(screen.contains("nick exited 64"))
        server.signal(SIGTERM)
    }

    /// /theme with a name that is no theme says so in the buffer the user is looking at,
    /// naming the themes there are (and no build folder).
    @Test func aThemeErrorShowsWhereTheUserIsLooking() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        try await alice.waitUntil("in #general") { Self.rows($0).last?.hasPrefix("#general›") == true }
        try alice.type("/theme nosuch")
        try alice.press("Enter")
        let screen = try await alice.waitFor("no theme \"nosuch\"")
        #expect(screen.contains("the themes are default, light"))
        #expect(!screen.contains(".build"))
        #expect(Self.rows(screen).last?.hasPrefix("#general›") == true, "shown in #general, where alice is")
        server.signal(SIGTERM)
    }

    /// The background of every cell of a captured screen (nil: the terminal's own), read
    /// from the SGR sequences tmux writes before the cells they colour.
    static func backgrounds(_ captured: String) -> [[Int?]] {
        rows(captured).map { row in
            var cells: [Int?] = []
            var background: Int?
            var scalars = row.unicodeScalars[...]
            while let scalar = scalars.popFirst() {
                guard scalar == "\u{1B}" else {
                    cells.append(background)
                    continue
                }
                guard scalars.popFirst() == "[" else { continue }
                var body = ""
                while let next = scalars.popFirst(), next != "m" { body.unicodeScalars.append(next) }
                var parameters = body.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }[...]
                if parameters.isEmpty { background = nil }
                while let parameter = parameters.popFirst() {
                    switch parameter {
                    case 0, 49: background = nil
                    case 40...47: background = parameter - 40
                    case 100...107: background = parameter - 92
                    case 48:
                        if parameters.popFirst() == 5 { background = parameters.popFirst() }
                    case 38:
                        if parameters.popFirst() == 5 { _ = parameters.popFirst() }
                    default: break
                    }
                }
            }
            return cells
        }
    }

    /// The light theme paints the whole screen, not only the cells with text in them.
    @Test func aThemePaintsTheWholeScreen() async throws {
        let (server, url) = try await Self.server()
        let alice = try TmuxSession.start(
            [Self.binary, "--nick", "alice", "--theme", "light", url], width: 80, height: 12,
            environment: ["NO_COLOR": "", "WSCHAT_THEMES": Self.themes, "HOME": NSTemporaryDirectory()])
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try alice.type("hello")
        try alice.press("Enter")
        try await alice.waitFor("alice hello")
        let cells = Self.backgrounds(try alice.screenWithColours())
        #expect(cells.count == 12)
        for (y, row) in cells.enumerated() {
            #expect(!row.contains(nil), "row \(y) shows the terminal's background: \(row)")
        }
        server.signal(SIGTERM)
    }

    /// Emoji sequences reach the terminal whole (ncurses alone would cut them to their first
    /// character): the line shows as this terminal shows it when a plain program prints it,
    /// and no row is pushed out of line, then or after the next repaint.
    @Test func emojiSequencesReachTheTerminalWhole() async throws {
        let line = "👨‍👩‍👧‍👦 🇨🇳 👍🏽 🧑🏻‍💻 🏳️‍🌈 ❤️ end"
        let plain = try TmuxSession.start(["bash", "-c", "printf '%s\\n' \"$0\"; sleep 600", line])
        let reference = try await plain.waitFor("end").split(separator: "\n").first.map(String.init) ?? ""
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        let bob = try Self.wschat(["--nick", "bob", url])
        for session in [alice, bob] {
            try await session.waitUntil("in #general") { Self.rows($0).last?.hasPrefix("#general›") == true }
        }
        try alice.type(line)
        try await alice.waitUntil("typed whole") { Self.rows($0).last == "#general› " + reference }
        try alice.press("Enter")
        func aligned(_ screen: String) -> Bool {
            Self.rows(screen).dropFirst().dropLast(2).allSatisfy { Array($0).count > 19 && Array($0)[19] == "│" }
        }
        for session in [alice, bob] {
            let screen = try await session.waitFor("alice " + reference)
            #expect(aligned(screen), "\(screen)")
        }
        try bob.type("after 之后")
        try bob.press("Enter")
        let after = try await alice.waitFor("bob after 之后")
        #expect(after.contains("alice " + reference), "still whole after a repaint")
        #expect(aligned(after), "\(after)")
        server.signal(SIGTERM)
    }

    /// Home and End however the terminal encodes them (tmux sends ESC[1~ and ESC[4~).
    @Test func homeAndEndWorkInEveryCommonEncoding() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        try alice.type("hello")
        try alice.press("Home")
        try alice.type("<")
        try alice.press("End")
        try alice.type(">")
        try await alice.waitUntil("tmux's own Home and End") { Self.rows($0).last?.hasSuffix("› <hello>") == true }
        let encodings = [
            ("\u{1B}[1~", "\u{1B}[4~"), ("\u{1B}[H", "\u{1B}[F"), ("\u{1B}OH", "\u{1B}OF"), ("\u{1B}[7~", "\u{1B}[8~"),
        ]
        for (n, (home, end)) in encodings.enumerated() {
            try alice.type(home)
            try alice.type("\(n)")
            try alice.type(end)
            try alice.type("\(n)")
            let expected = (0...n).reversed().map(String.init).joined() + "<hello>" + (0...n).map(String.init).joined()
            try await alice.waitUntil("Home and End as \(home.debugDescription)") {
                Self.rows($0).last?.hasSuffix("› \(expected)") == true
            }
        }
        server.signal(SIGTERM)
    }

    /// Started in the background with terminal reads failing (EIO), wschat ends instead of
    /// spinning, and leaves the terminal as it was.
    @Test func aTerminalThatCannotBeReadEndsTheUI() async throws {
        let (server, url) = try await Self.server()
        let script =
            "set -m; trap '' TTIN TTOU; '\(Self.binary)' --nick alice '\(url)' & wait $!; echo \"wschat exited $?\""
        let shell = try Self.session(["bash", "-c", script + "; sleep 600"])
        try await shell.waitUntil("wschat on screen") { $0.contains("#general›") || $0.contains("wschat exited") }
        // A key makes the terminal readable; reading it fails with EIO.
        try shell.type("x")
        let screen = try await shell.waitFor("wschat exited", timeout: .seconds(30))
        #expect(screen.contains("wschat exited 0"), "\(screen)")
        #expect(try shell.display("#{alternate_on}") == "0")
        server.signal(SIGTERM)
    }

    /// /quit with a message still sending waits for it; asking again quits at once and
    /// names what was not delivered, with a failing status.
    @Test func quittingNeverLosesAMessageInSilence() async throws {
        let port = try TestServer.unusedFixedPort()
        let server = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", String(port)])
        let url = "ws://127.0.0.1:\(try await server.port())/ws"
        let script = "'\(Self.binary)' --nick alice '\(url)'; echo \"wschat exited $?\""
        let alice = try Self.session(["bash", "-c", script + "; sleep 600"])
        try await alice.waitUntil("connected, in #general") {
            Self.statusBar($0).contains("connected") && Self.rows($0).last?.hasPrefix("#general›") == true
        }
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: .seconds(5))
        try await alice.waitUntil("offline") { !Self.statusBar($0).contains("connected") }
        try alice.type("not lost 不会丢")
        try alice.press("Enter")
        try await alice.waitFor("(sending…)")
        try alice.type("/quit")
        try alice.press("Enter")
        try await alice.waitFor("1 message is still sending")
        #expect(try alice.display("#{alternate_on}") == "1", "still running, waiting for the message")
        try alice.press("C-c")
        let after = try await alice.waitFor("wschat exited")
        #expect(after.contains("1 message(s) were not delivered"))
        #expect(after.contains("not lost 不会丢"))
        #expect(after.contains("wschat exited 1"))
    }

    @Test func aServerRestartIsShownInTheStatusBarAndRecovered() async throws {
        let port = try TestServer.unusedFixedPort()
        let server = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", String(port)])
        let url = "ws://127.0.0.1:\(try await server.port())/ws"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wschat-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let alice = try Self.wschat(["--nick", "alice", "--backoff-cap", "2", "--log-file", log, url])
        // In #general before the server goes: a line typed before the first join is refused.
        try await alice.waitUntil("connected, in #general") {
            Self.statusBar($0).contains("connected") && Self.rows($0).last?.hasPrefix("#general›") == true
        }
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: .seconds(5))
        try await alice.waitUntil("reconnecting in the status bar") { Self.statusBar($0).contains("reconnecting in") }
        try alice.type("typed while the server was down")
        try alice.press("Enter")
        try await alice.waitFor("(sending…)")
        // The port just given up can take a moment to be free again: retry a few times.
        var again = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", String(port)])
        for _ in 0..<20 {
            if (try? await again.port()) != nil { break }
            try await Task.sleep(for: .milliseconds(200))
            again = try ProductProcess.launch(arguments: ["--host", "127.0.0.1", "--port", String(port)])
        }
        let recovered = try await alice.waitUntil("delivered after the restart", timeout: .seconds(30)) { screen in
            Self.statusBar(screen).contains("connected") && screen.contains("alice typed while the server was down")
                && !screen.contains("(sending…)")
        }
        #expect(!recovered.contains("offline"))
        // The log says what happened at info, and nothing of what anyone wrote.
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("info wschat.engine: connecting url=\(url)"), "\(logged)")
        #expect(logged.contains("disconnected; retrying"))
        #expect(logged.components(separatedBy: "info wschat.engine: connected").count >= 3, "connected twice")
        #expect(!logged.contains("typed while the server was down"))
        again.signal(SIGTERM)
    }

    @Test func escapeSequencesFromTheNetworkAreShownInert() async throws {
        let hostile = try await HostileServer.start(sending: [
            #"{"type":"message","room":"general","id":1,"ts":0,"from":"mallory","cid":"m","text":"\u001b]0;owned\u0007\u001b[2J\u001b[31mred\u0007"}"#
        ])
        let alice = try Self.wschat(["--nick", "alice", hostile.url])
        let screen = try await alice.waitFor("mallory ^[]0;owned^G^[[2J^[[31mred^G")
        #expect(Self.statusBar(screen).contains("connected"), "the screen was not cleared")
        #expect(try alice.display("#{pane_title}") != "owned", "the title was not changed")
        try await hostile.stop()
    }

    @Test func quitRestoresTheTerminal() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        #expect(try alice.display("#{alternate_on}") == "1")
        try alice.type("/quit see you")
        try alice.press("Enter")
        try await Self.waitForExit(alice)
        #expect(try alice.display("#{alternate_on}") == "0", "the alternate screen was left")
        #expect(
            try alice.display("#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}") == "000",
            "mouse reporting is off")
        server.signal(SIGTERM)
    }

    @Test func aMultiLinePasteIsOneMessage() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        let bob = try Self.wschat(["--nick", "bob", url])
        for session in [alice, bob] {
            try await session.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        }
        try alice.paste("first line\nsecond line 第二行")
        let typed = try await alice.waitFor("first line↵second line 第二行")
        #expect(
            Self.rows(typed).last?.hasPrefix("#general› first line↵second") == true, "the paste waits in the input line"
        )
        try alice.press("Enter")
        let seen = try await bob.waitFor("second line 第二行")
        let rows = Self.rows(seen)
        let first = try #require(rows.firstIndex { $0.contains("alice first line") })
        #expect(rows[first + 1].contains("second line 第二行"), "one message on two rows")
        #expect(!rows[first + 1].contains("alice"))
        server.signal(SIGTERM)
    }

    @Test func aCrashStillRestoresTheTerminal() async throws {
        let (server, url) = try await Self.server()
        let alice = try Self.wschat(["--nick", "alice", url])
        try await alice.waitUntil("connected") { Self.statusBar($0).contains("connected") }
        #expect(try alice.display("#{alternate_on}") == "1")
        kill(pid_t(try alice.display("#{pane_pid}"))!, SIGSEGV)
        try await Self.waitForExit(alice)
        #expect(try alice.display("#{alternate_on}") == "0", "the crash handler left the alternate screen")
        #expect(try alice.display("#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}") == "000")
        server.signal(SIGTERM)
    }

    @Test func hostStartsTheServerInsideTheClient() async throws {
        let port = try TestServer.unusedFixedPort()
        let host = try Self.wschat(["--nick", "host", "--host", "--port", String(port)])
        try await host.waitUntil("connected to its own server") { Self.statusBar($0).contains("connected") }
        let guest = try ProductProcess.launch(
            "wschat", arguments: ["--plain", "--nick", "guest", "ws://127.0.0.1:\(port)/ws"])
        guest.writeLine("hello host")
        try await host.waitFor("guest hello host")
        guest.closeInput()
        _ = try await guest.waitForExit(timeout: .seconds(20))
        try host.type("/quit")
        try host.press("Enter")
        try await Self.waitForExit(host)
        #expect(try host.display("#{alternate_on}") == "0", "the terminal is restored")
    }
}
