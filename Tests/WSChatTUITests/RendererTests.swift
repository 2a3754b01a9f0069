import Foundation
import Testing
import WSChatClient
import WSChatProtocol

@testable import WSChatTUI

@Suite("The renderer, on an in-memory grid")
struct RendererTests {
    static let utc = TimeZone(identifier: "UTC")!

    /// A model in #general with the given messages from bob (ts 0 is 00:00 UTC).
    static func model(width: Int = 80, height: Int = 12, messages: [String] = [], nick: String = "alice") -> ChatModel {
        var model = ChatModel(nick: nick, server: "test", width: width, height: height)
        _ = model.handle(
            .engine(
                .server(
                    .joined(
                        .init(
                            room: "general", epoch: "e", topic: "the topic", members: ["alice", "bob"], history: [],
                            more: false)), raw: "")))
        for (index, text) in messages.enumerated() {
            let message = ChatMessage(
                room: "general", id: Int64(index + 1), ts: 0, from: "bob", text: text, cid: "c\(index)")
            _ = model.handle(.engine(.server(.message(message), raw: "")))
        }
        return model
    }

    static func render(_ model: ChatModel) -> Renderer.Frame {
        Renderer.render(model, now: .now, timeZone: utc)
    }

    @Test func unverifiedTLSStaysInTheStatusBar() {
        var model = Self.model()
        #expect(!Self.render(model).grid.row(10).contains("TLS"))
        model.tlsUnverified = true
        for state in [ConnectionState.connecting(attempt: 0), .connected(latency: nil)] {
            model.connection = state
            #expect(Self.render(model).grid.row(10).contains("[alice] test · ⚠ TLS unverified · "))
        }
    }

    @Test func theLayoutHasTitleChannelsMessagesStatusAndInput() {
        let frame = Self.render(Self.model(messages: ["hello"]))
        let grid = frame.grid
        #expect(grid.row(0).hasPrefix(" #general — the topic"))
        #expect(grid.row(1).hasPrefix("1 test"))
        #expect(grid.row(2).hasPrefix("2 #general"))
        #expect(grid.row(1).contains("│ 00:00 bob hello"))
        #expect(grid.row(10).contains("[alice] test"))
        #expect(grid.row(11).hasPrefix("#general› "))
        #expect(frame.cursorY == 11 && frame.cursorX == 10)
    }

    @Test(arguments: [
        "你好 bob，这是中文 🎉 and a long line that should wrap around the message pane nicely when it is long enough to need it",
        String(repeating: "漢", count: 200),
        String(repeating: "🧑‍🤝‍🧑🇯🇵❤️", count: 40),
        String(repeating: "e\u{0301}", count: 150),
        "word " + String(repeating: "x", count: 300),
    ])
    func wideTextWrapsByCellsAndNeverStraddlesTheEdge(_ text: String) {
        for width in [40, 41, 57, 80, 121] {
            let frame = Self.render(Self.model(width: width, height: 30, messages: [text]))
            let grid = frame.grid
            for y in 0..<grid.height {
                // A continuation cell always follows a wide character: nothing straddles.
                for x in 0..<grid.width where grid[x, y].isContinuation {
                    #expect(x > 0 && TextWidth.of(Character(grid[x - 1, y].text)) == 2)
                }
            }
            let shown = (1..<grid.height - 2).map { grid.row($0) }.joined()
            let visible = text.filter { $0 != " " }
            #expect(visible.allSatisfy { shown.contains($0) }, "width \(width)")
        }
    }

    @Test func wideCharactersTakeTwoCells() {
        #expect(TextWidth.of("漢字") == 4)
        #expect(TextWidth.of("ｱ") == 1)  // halfwidth katakana
        #expect(TextWidth.of("Ａ") == 2)  // fullwidth A
        #expect(TextWidth.of("🎉") == 2)
        #expect(TextWidth.of("🧑‍🤝‍🧑") == 2, "a ZWJ sequence is one cluster")
        #expect(TextWidth.of("🇯🇵") == 2, "a flag is one cluster")
        #expect(TextWidth.of("❤️") == 2, "VS16 makes a text symbol an emoji")
        #expect(TextWidth.of("👍🏽") == 2 && TextWidth.of("1️⃣") == 2 && TextWidth.of("🏳️‍🌈") == 2)
        #expect(TextWidth.of("क्‍ष") == 1, "a joiner in Devanagari is no emoji sequence")
        #expect(TextWidth.of("e\u{0301}") == 1, "a combining mark adds no width")
        #expect(TextWidth.of("\u{200B}") == 0)
    }

    /// The widths known without property lookups are the widths the properties give.
    @Test func theFastWidthsAgreeWithTheUnicodeProperties() {
        var checked = 0
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value), let fast = TextWidth.commonWidth(value) else { continue }
            #expect(fast == TextWidth.propertyWidth(scalar), "U+\(String(value, radix: 16))")
            checked += 1
        }
        #expect(checked > 30_000)
    }

    /// F7 (or /nicklist) shows the room's members right of the messages, yours first, and
    /// the messages wrap before it; what does not fit is counted; DM buffers have none.
    @Test func theNickListSitsRightOfTheMessages() {
        var model = Self.model(width: 80, height: 8, messages: [String(repeating: "word ", count: 20)])
        _ = model.handle(.key(.function(7)))
        let x = model.layout.nickListX
        #expect(x == 80 - 13)
        let wrapped = Self.render(model).grid.text.split(separator: "\n").map(String.init)
        #expect(
            wrapped[1...3].filter { $0.prefix(x).contains("word word") }.count == 3, "wrapped in three rows: \(wrapped)"
        )
        #expect(wrapped[1...5].allSatisfy { !$0.dropFirst(x).contains("word") }, "and never under the list")

        for nick in ["zed", "Carol", "dave", "erin", "frank", "gus"] {
            _ = model.handle(.engine(.server(.presence(.init(room: "general", nick: nick, event: .join)), raw: "")))
        }
        let pane = Self.render(model).grid.text.split(separator: "\n")[1...5].map { String($0.dropFirst(x)) }
        #expect(pane[0].hasPrefix("│8 nicks"), "\(pane)")
        #expect(pane[1].hasPrefix("│alice") && pane[2].hasPrefix("│bob") && pane[3].hasPrefix("│Carol"), "\(pane)")
        #expect(pane[4].hasPrefix("│+5 more"), "\(pane)")

        ModelTests.enter(&model, "/nicklist")
        #expect(model.layout.nickListWidth == 0 && !Self.render(model).grid.text.contains("8 nicks"))
    }

    @Test(arguments: [
        ("see https://example.com/a?b=c.", ["https://example.com/a?b=c"]),
        ("(docs: http://x.org/wiki/Foo_(bar)) and HTTPS://Y.org!", ["http://x.org/wiki/Foo_(bar)", "HTTPS://Y.org"]),
        ("日本語https://例え.jp/パス。次", ["https://例え.jp/パス"]),
        ("xhttps://no.example and https:// and mailto:a@b", []),
        ("<https://in.brackets/x>", ["https://in.brackets/x"]),
    ])
    func linksAreFoundAsAReaderWouldClickThem(_ example: (String, [String])) {
        #expect(Links.urls(in: example.0) == example.1)
    }

    /// A link is drawn in the link style and reported with its cells for OSC 8; one longer
    /// than the text column flows from the pane's edge instead of being cut by indentation.
    @Test func linksAreStyledReportedAndNeverIndented() throws {
        let long = "https://example.com/" + String(repeating: "abcdefghij", count: 8)
        let model = Self.model(width: 80, height: 8, messages: ["read https://a.example/x now", long])
        let frame = Self.render(model)
        let edge = Renderer.messageText(model.layout).x
        let first = try #require(frame.links.first)
        #expect(first == Renderer.Link(x: edge + 15, y: 1, text: "https://a.example/x", url: "https://a.example/x"))
        #expect(frame.grid.row(1).dropFirst(edge).hasPrefix("00:00 bob read https://a.example/x now"))
        #expect(frame.grid[first.x, 1].style == .link("https://a.example/x"))
        let pieces = frame.links.dropFirst()
        #expect(pieces.map(\.text).joined() == long && pieces.allSatisfy { $0.url == long })
        #expect(pieces.dropFirst().allSatisfy { $0.x == edge }, "continuation rows start at the pane's edge: \(pieces)")
        #expect(Links.terminalTarget("https://例.jp/a b") == "https://%E4%BE%8B.jp/a%20b")
    }

    @Test func timesFollowTheConfiguredFormatAndKeepTheirColumn() throws {
        var model = Self.model(messages: ["hello"])
        model.timeFormat = try TimeFormat("%I:%M:%S %p")
        _ = model.handle(.engine(.server(.presence(.init(room: "general", nick: "carol", event: .join)), raw: "")))
        let rows = Self.render(model).grid.text.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.contains("│ 12:00:00 AM bob hello") }, "\(rows)")
        #expect(
            rows.contains { $0.contains("│ " + String(repeating: " ", count: 11) + " -- carol joined") },
            "an event lines up under the times: \(rows)")
    }

    /// A terminal that joins ZWJ sequences but not skin tones, and ignores VS16 (tmux 3.3):
    /// each sequence is as wide as it draws it.
    @Test func emojiSequencesAreAsWideAsTheTerminalDrawsThem() {
        let tmux = EmojiRendering(joinsZWJSequences: true, joinsModifiers: false, widensWithVS16: false)
        func width(_ text: Character, _ rendering: EmojiRendering) -> Int {
            TextWidth.emojiSequenceWidth(text.unicodeScalars, rendering)
        }
        #expect(width("👨‍👩‍👧‍👦", tmux) == 2)
        #expect(width("👍🏽", tmux) == 4)
        #expect(width("🧑🏻‍💻", tmux) == 4)
        #expect(width("🏳️‍🌈", tmux) == 1)
        #expect(width("❤️", tmux) == 1)
        let none = EmojiRendering(joinsZWJSequences: false, joinsModifiers: false, widensWithVS16: false)
        #expect(width("👨‍👩‍👧‍👦", none) == 8)
        #expect(width("👨‍👩‍👧‍👦", .unicode) == 2 && width("🧑🏻‍💻", .unicode) == 2 && width("🏳️‍🌈", .unicode) == 2)
    }

    @Test func controlCharactersAreDrawnInert() {
        let frame = Self.render(Self.model(messages: ["\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}x"]))
        let row = frame.grid.row(1)
        #expect(row.contains("^[[2J^[]0;owned^G<U+009B>x"))
        let caret = row.range(of: "^[")!
        let x = row.distance(from: row.startIndex, to: caret.lowerBound)
        #expect(frame.grid[x, 1].style == .key(.chatControl))
        #expect(
            !(0..<frame.grid.height).map(frame.grid.row).joined().unicodeScalars.contains {
                $0.value < 0x20 || (0x7F...0x9F).contains($0.value)
            })
    }

    @Test func everyPaneIsClippedAndTinyTerminalsDoNotCrash() {
        for (width, height) in [(40, 10), (30, 8), (20, 5), (10, 3), (1, 1), (0, 0)] {
            var model = Self.model(width: width, height: height, messages: ["漢字" + String(repeating: "x", count: 100)])
            model.editor.insert(String(repeating: "長い入力", count: 30))
            let frame = Self.render(model)
            #expect(frame.grid.width == max(width, 1) || width == 0)
            #expect(frame.cursorX < max(frame.grid.width, 1))
        }
        let frame = Self.render(Self.model(width: 40, height: 10, messages: [String(repeating: "a", count: 500)]))
        for y in 1..<8 {
            #expect(frame.grid.row(y).prefix(11).last == "│", "the channel list keeps its border on row \(y)")
        }
    }

    @Test func theCursorFollowsTheCaretOverWideCharacters() {
        var model = Self.model()
        model.editor.insert("日本語abc")
        model.editor.moveLeft()
        model.editor.moveLeft()
        model.editor.moveLeft()
        let frame = Self.render(model)
        #expect(frame.cursorX == TextWidth.of("#general› ") + 6)
    }

    @Test func aLongInputScrollsSoTheCaretStaysVisible() {
        var model = Self.model(width: 40, height: 10)
        model.editor.insert(String(repeating: "漢", count: 50))
        let frame = Self.render(model)
        #expect(frame.cursorX < 40)
        #expect(frame.grid.row(9).contains("漢"))
    }

    @Test func scrolledUpShowsHowManyMoreAreBelow() {
        var model = Self.model(width: 60, height: 8, messages: (1...30).map { "line \($0)" })
        _ = model.handle(.key(.pageUp))
        let frame = Self.render(model)
        #expect(frame.grid.row(5).contains("more below"))
        #expect(!frame.grid.text.contains("line 30"))
    }

    /// PgUp and the wheel stop with the first line at the top of the pane: never a pane
    /// of blank rows above "more below".
    @Test func scrollingBackStopsAtTheTop() {
        var model = Self.model(width: 60, height: 12, messages: (1...300).map { "line \($0)" })
        model.buffers[model.current].olderHistory = .beginning  // nothing older to fetch
        for _ in 0..<200 { _ = model.handle(.key(.pageUp)) }
        // Rows 1…9 are the message pane of a 12-row screen.
        var rows = (1...9).map { Self.render(model).grid.row($0) }
        #expect(rows[0].contains("line 1 "), "\(rows)")
        #expect(rows.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).hasSuffix("│") }, "no blank rows: \(rows)")
        #expect(rows[8].contains("more below"))
        for _ in 0..<50 { _ = model.handle(.wheel(lines: -3)) }
        rows = (1...9).map { Self.render(model).grid.row($0) }
        #expect(rows[0].contains("line 1 ") && rows[8].contains("more below"), "\(rows)")
        _ = model.handle(.key(.pageDown))
        #expect(model.currentBuffer.scrollBack < 300 - 8, "one PgDn moves at once, however far PgUp was pressed")
    }

    @Test func nickColoursAreStableAcrossSessions() {
        #expect(NickColor.index(for: "alice") == NickColor.index(for: "ALICE"))
        #expect(NickColor.index(for: "alice") == 11, "FNV-1a, not the per-process seeded Hasher")
    }
}
