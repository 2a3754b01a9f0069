import Foundation
import Testing
import WSChatClient
import WSChatProtocol

@testable import WSChatTUI

@Suite("The UI model")
struct ModelTests {
    static func joined(_ room: String, members: [String] = ["alice", "bob"]) -> UIEvent {
        .engine(
            .server(
                .joined(.init(room: room, epoch: "e", topic: "", members: members, history: [], more: false)), raw: ""))
    }

    static func message(
        _ text: String, from: String = "bob", room: String = "general", id: Int64 = 1, cid: String = "x"
    ) -> UIEvent {
        .engine(.server(.message(ChatMessage(room: room, id: id, ts: 0, from: from, text: text, cid: cid)), raw: ""))
    }

    static func typed(_ model: inout ChatModel, _ text: String) {
        for character in text { _ = model.handle(.key(.character(character))) }
    }

    /// Types a line and presses Enter; returns what the model asked for.
    @discardableResult
    static func enter(_ model: inout ChatModel, _ line: String) -> [Effect] {
        typed(&model, line)
        return model.handle(.key(.enter))
    }

    static func inRooms(_ rooms: String...) -> ChatModel {
        inRooms(rooms)
    }

    static func inRooms(_ rooms: [String]) -> ChatModel {
        var model = ChatModel(nick: "alice", server: "test", width: 80, height: 24)
        for room in rooms { _ = model.handle(joined(room)) }
        return model
    }

    @Test func editingKeysWorkOverWideCharacters() {
        var editor = LineEditor()
        editor.insert("你好 world 🎉")
        editor.moveHome()
        editor.moveWordRight()
        #expect(editor.caret == 2)
        editor.moveEnd()
        editor.moveWordLeft()
        #expect(editor.caret == 3)
        editor.killToEnd()
        #expect(editor.text == "你好 ")
        editor.yank()
        editor.yank()
        #expect(editor.text == "你好 world 🎉world 🎉")
        editor.killWordBackward()
        #expect(editor.text == "你好 world 🎉", "Ctrl-W takes the word before the caret and what follows it")
        editor.killWordBackward()
        #expect(editor.text == "你好 ")
        editor.moveLeft()
        editor.deleteBackward()
        #expect(editor.text == "你 ")
        editor.killToStart()
        #expect(editor.text == " ")
        editor.insert("e")
        editor.insert("\u{0301}")
        #expect(editor.characters.count == 2, "a combining mark joins its base: \(editor.characters)")
    }

    @Test func enterSendsToTheCurrentRoomAndUnknownCommandsNeverBecomeText() {
        var model = Self.inRooms("general")
        #expect(Self.enter(&model, "hello 世界") == [.perform(.say(room: "general", text: "hello 世界", action: false))])
        Self.typed(&model, "/frobnicate now")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(
            model.currentBuffer.lines.last?.content == .error("unknown command /frobnicate — /help lists the commands"))
        Self.typed(&model, "/msg")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.currentBuffer.lines.last?.content == .error("usage: /msg NICK TEXT"))
        #expect(Self.enter(&model, "/me waves") == [.perform(.say(room: "general", text: "waves", action: true))])
        #expect(Self.enter(&model, "/quit bye") == [.perform(.quit(reason: "bye")), .quit])
        #expect(Self.enter(&model, "/theme light") == [.theme("light")])
    }

    @Test func msgOpensADirectMessageBuffer() {
        var model = Self.inRooms("general")
        // A new conversation's buffer asks for what was said before, above the message sent.
        #expect(
            Self.enter(&model, "/msg bob psst") == [
                .perform(.olderDirectMessages(with: "bob", before: nil)),
                .perform(.directMessage(to: "bob", text: "psst")),
            ])
        #expect(model.currentBuffer.kind == .direct(key: "bob"))
        #expect(Self.enter(&model, "more") == [.perform(.directMessage(to: "bob", text: "more"))])
    }

    /// A DM buffer reads the conversation back like a room: its latest page when it opens, older
    /// pages on scrolling up, down to the beginning; a page overlapping what came live is not
    /// doubled; a server without `dm_history` is not asked again.
    @Test func aDirectMessageBufferReadsTheConversationBack() {
        var model = Self.inRooms("general")
        func dm(_ id: Int64, _ text: String, from: String = "bob") -> DirectMessage {
            DirectMessage(
                id: id, ts: 1_700_000_000_000 + id, from: from, to: from == "bob" ? "alice" : "bob", text: text,
                cid: "d\(id)")
        }
        #expect(
            model.handle(.engine(.server(.dm(dm(30, "are you there?")), raw: "")))
                .contains(.perform(.olderDirectMessages(with: "bob", before: 30))))
        let bob = model.buffers.firstIndex { $0.kind == .direct(key: "bob") }!
        #expect(model.buffers[bob].olderHistory == .loading)
        #expect(model.buffers[bob].lines.first?.content == ChatModel.loadingOlderLine)
        // The page came after another live message: each line once, in order.
        _ = model.handle(.engine(.server(.dm(dm(31, "hello?")), raw: "")))
        let page = (20..<31).map { dm(Int64($0), "line \($0)", from: $0.isMultiple(of: 2) ? "bob" : "alice") }
        _ = model.handle(
            .engine(.server(.directHistory(.init(with: "Bob", before: 30, messages: page, more: true)), raw: "")))
        _ = model.handle(.key(.alt(Character("\(bob + 1)"))))
        #expect(model.currentBuffer.lines.compactMap(\.id) == Array(20...31))
        #expect(model.currentBuffer.olderHistory == .more)
        #expect(model.currentBuffer.lines.first { $0.id == 21 }?.isOwn == true)

        // Scrolling to the top asks for the page before the oldest line; the last page begins it.
        #expect(model.reachedTop() == [.perform(.olderDirectMessages(with: "bob", before: 20))])
        #expect(model.reachedTop().isEmpty, "one request at a time")
        _ = model.handle(
            .engine(
                .server(
                    .directHistory(.init(with: "bob", before: 20, messages: [dm(3, "first")], more: false)), raw: "")))
        #expect(model.currentBuffer.lines.compactMap(\.id) == [3] + Array(20...31))
        #expect(model.currentBuffer.lines.contains { $0.content == ChatModel.beginningLine(with: "bob") })
        #expect(model.reachedTop().isEmpty, "nothing before the beginning")

        // A server that predates the request is asked once, and says so.
        Self.enter(&model, "/msg carol hi")
        _ = model.handle(
            .engine(
                .server(.error(ProtocolError(.unknownType, "unknown message type", ref: "dm_history")), raw: "")))
        #expect(model.currentBuffer.olderHistory == .unsupported)
        #expect(
            Self.contents(model).contains(
                "this server cannot send earlier direct messages (it predates the dm_history request)"))
        #expect(Self.enter(&model, "/msg dave hi") == [.perform(.directMessage(to: "dave", text: "hi"))])
    }

    @Test func historyIsPerBuffer() {
        var model = Self.inRooms("general", "rust")
        Self.enter(&model, "in rust")
        _ = model.handle(.key(.control("p")))
        Self.enter(&model, "in general")
        Self.typed(&model, "draft")
        _ = model.handle(.key(.up))
        #expect(model.editor.text == "in general")
        _ = model.handle(.key(.up))
        #expect(model.editor.text == "in general")
        _ = model.handle(.key(.down))
        #expect(model.editor.text == "draft")
    }

    @Test func unreadMentionsAndDirectMessagesAreMarkedAndRingTheBell() {
        var model = Self.inRooms("general", "rust")
        #expect(model.currentBuffer.name == "general")
        #expect(model.handle(Self.message("plain", room: "rust", id: 1)).isEmpty)
        #expect(
            model.handle(Self.message("hey Alice, look", room: "rust", id: 2))
                == [.bell, .notify(title: "bob in #rust", body: "hey Alice, look")])
        let rust = model.buffers.firstIndex { $0.name == "rust" }!
        #expect(model.buffers[rust].unread == 2 && model.buffers[rust].highlighted)
        #expect(
            model.handle(Self.message("malice aforethought", room: "general", id: 1)).isEmpty, "a word, not a substring"
        )
        let dm = DirectMessage(id: 1, ts: 0, from: "bob", to: "alice", text: "psst", cid: "d")
        #expect(
            model.handle(.engine(.server(.dm(dm), raw: ""))) == [
                .perform(.olderDirectMessages(with: "bob", before: 1)), .bell,
                .notify(title: "bob (direct message)", body: "psst"),
            ])
        _ = model.handle(.key(.alt(Character("\(rust + 1)"))))
        #expect(model.current == rust && model.buffers[rust].unread == 0)
        #expect(model.buffers[rust].readMarker == 0, "the marker sits before the first unread line")
    }

    /// Words from `highlights` mark a message like the nick does, as whole words, any case;
    /// in the buffer on screen they colour the line but ring nothing.
    @Test func highlightWordsMarkMessagesLikeTheNick() {
        var model = Self.inRooms("general", "ops")
        model.highlights = ["deploy", "發佈"]
        #expect(model.handle(Self.message("redeployment planned", room: "ops", id: 1)).isEmpty)
        #expect(
            model.handle(Self.message("DEPLOY is done", room: "ops", id: 2))
                == [.bell, .notify(title: "bob in #ops", body: "DEPLOY is done")])
        #expect(model.handle(Self.message("今晚 發佈 新版", room: "ops", id: 3)).count == 2)
        #expect(model.handle(Self.message("deploy now?", room: "general", id: 1)).isEmpty, "on screen: no bell")
        #expect(model.currentBuffer.lines.last?.mentions == true)
    }

    @Test func aPendingMessageBecomesTheEchoInPlace() {
        var model = Self.inRooms("general")
        let pending = PendingMessage(cid: "c1", target: .room("general"), text: "hi")
        _ = model.handle(.engine(.pending(pending)))
        _ = model.handle(Self.message("other", id: 1))
        #expect(model.currentBuffer.lines.map(\.content).first == .pending(text: "hi", action: false, cid: "c1"))
        _ = model.handle(Self.message("hi", from: "alice", id: 2, cid: "c1"))
        #expect(model.currentBuffer.lines.count == 2)
        #expect(
            model.currentBuffer.lines.first?.content == .message(from: "alice", text: "hi", action: false, cid: "c1"))
    }

    @Test func tabCompletesNicksCommandsAndRooms() {
        var model = Self.inRooms("general", "rust")
        _ = model.handle(.engine(.server(.presence(.init(room: "general", nick: "Bobby", event: .join)), raw: "")))
        Self.typed(&model, "bo")
        _ = model.handle(.key(.tab))
        #expect(model.editor.text == "bob: ")
        _ = model.handle(.key(.tab))
        #expect(model.editor.text == "Bobby: ")
        _ = model.editor.take()
        Self.typed(&model, "/jo")
        _ = model.handle(.key(.tab))
        #expect(model.editor.text == "/join ")
        Self.typed(&model, "#ru")
        _ = model.handle(.key(.tab))
        #expect(model.editor.text == "/join #rust ")
    }

    /// A command's first argument completes by what it names: rooms (joined, or seen in the
    /// last /list), nicks, commands, themes; /help COMMAND shows an example.
    @Test func tabCompletesTheArgumentsOfCommands() {
        var model = Self.inRooms("general")
        model.themeNames = ["default", "light", "solarized-dark"]
        _ = model.handle(.engine(.server(.rooms([.init(room: "rust", members: 3, topic: "")]), raw: "")))
        func completed(_ typed: String) -> String {
            _ = model.editor.take()
            Self.typed(&model, typed)
            _ = model.handle(.key(.tab))
            return model.editor.text
        }
        #expect(completed("/join ru") == "/join rust ")
        #expect(completed("/join ge") == "/join general ")
        #expect(completed("/theme so") == "/theme solarized-dark ")
        #expect(completed("/help sea") == "/help search ")
        #expect(completed("/msg b") == "/msg bob ")
        #expect(completed("/msg bob he") == "/msg bob he", "only the first argument")
        _ = model.editor.take()
        Self.enter(&model, "/help search")
        #expect(Self.contents(model).suffix(2).first?.hasPrefix("/search [-all] TEXT — ") == true)
        #expect(Self.contents(model).last == "  example: /search -all 日本語")
    }

    @Test func aLongPasteIsOneMessageAfterConfirmation() {
        var model = Self.inRooms("general")
        _ = model.handle(.paste("one\ntwo"))
        #expect(model.editor.text == "one\ntwo")
        #expect(model.handle(.key(.enter)) == [.perform(.say(room: "general", text: "one\ntwo", action: false))])
        _ = model.handle(.paste("1\n2\n3\n4\n5\n6"))
        #expect(model.pendingPaste != nil && model.editor.isEmpty)
        _ = model.handle(.key(.character("n")))
        #expect(model.pendingPaste == nil && model.editor.isEmpty)
        _ = model.handle(.paste("1\r\n2\r\n3\r\n4\r\n5\r\n6"))
        _ = model.handle(.key(.character("y")))
        #expect(model.editor.text == "1\n2\n3\n4\n5\n6")
        _ = model.editor.take()
        // Copied lines end in a newline: it ends the last line, it is not a ninth.
        _ = model.handle(.paste((1...8).map { "line \($0)\n" }.joined()))
        #expect(Renderer.render(model, now: .now).grid.text.contains("Paste 8 lines"))
        _ = model.handle(.key(.character("y")))
        #expect(model.editor.text == (1...8).map { "line \($0)" }.joined(separator: "\n"))
    }

    /// An error in a buffer the user is not looking at marks it in the channel list.
    @Test func anErrorOffScreenMarksItsBuffer() {
        var model = Self.inRooms("general")
        model.note(.error("offline: the server refused"), in: 0)
        #expect(model.buffers[0].highlighted)
        #expect(Renderer.render(model, now: .now).grid.row(1).contains("!"))
        model.reportError("no theme \"nosuch\"")
        #expect(model.currentBuffer.lines.last?.content == .error("no theme \"nosuch\""), "shown where the user is")
    }

    @Test func topicWithoutTextShowsItAndCloseClosesTheBuffer() {
        var model = Self.inRooms("general")
        model.buffers[1].topic = "Swift on servers"
        Self.typed(&model, "/topic")
        #expect(model.handle(.key(.enter)).isEmpty, "nothing is sent")
        #expect(model.currentBuffer.lines.last?.content == .notice("topic of #general: Swift on servers"))
        #expect(Self.enter(&model, "/topic -delete") == [.perform(.topic(room: "general", topic: ""))])
        Self.enter(&model, "/msg bob hi")
        #expect(model.currentBuffer.name == "bob")
        Self.enter(&model, "/close")
        #expect(!model.buffers.contains { $0.name == "bob" } && model.currentBuffer.name == "general")
        #expect(Self.enter(&model, "/close") == [.perform(.part(room: "general"))], "a room is left")
    }

    static func welcome(maxMessageBytes: Int = 4096) -> UIEvent {
        .engine(
            .server(
                .welcome(
                    .init(
                        nick: "alice", session: "s", server: "test",
                        limits: Limits(maxMessageBytes: maxMessageBytes, rate: 10, burst: 20))), raw: ""))
    }

    /// A message longer than the server takes stays in the input line, to shorten.
    @Test func anOverLongMessageIsRefusedHereAndKept() {
        var model = Self.inRooms("general")
        _ = model.handle(Self.welcome(maxMessageBytes: 10))
        Self.typed(&model, "this is far too long")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.editor.text == "this is far too long")
        guard case .error(let text) = model.currentBuffer.lines.last?.content else {
            Issue.record("no error"); return
        }
        #expect(text.hasPrefix("not sent: the text is 20 bytes; the limit is 10"))
    }

    /// Before the first room is joined, a typed line is kept, and the user told why.
    @Test func textTypedBeforeTheFirstJoinIsKept() {
        var model = ChatModel(nick: "alice", server: "ws://localhost:8080/ws", width: 80, height: 24)
        model.roomsToJoin = ["general"]
        Self.typed(&model, "hello?")
        #expect(model.handle(.key(.enter)).isEmpty)
        #expect(model.editor.text == "hello?")
        #expect(
            model.currentBuffer.lines.last?.content
                == .notice("not in a room yet: you join #general once connected; your line is kept below"))
    }

    static func olderPage(_ ids: ClosedRange<Int64>, before: Int64?, more: Bool, from: String = "bob") -> UIEvent {
        let messages = ids.map {
            ChatMessage(room: "general", id: $0, ts: 0, from: from, text: "m\($0)", cid: "c\($0)")
        }
        return .engine(
            .server(.history(.init(room: "general", before: before, messages: messages, more: more)), raw: ""))
    }

    static func contents(_ model: ChatModel) -> [String] {
        model.currentBuffer.lines.map {
            switch $0.content {
            case .message(_, let text, _, _): text
            case .event(let text), .notice(let text), .error(let text): text
            case .match(let number, let room, let from, let text): "[\(number)] #\(room) \(from) \(text)"
            default: "?"
            }
        }
    }

    /// Scrolling up into a room's first line asks for the page before its oldest message, once;
    /// the page goes above, the view stays put, and the last page ends in "beginning of #room".
    @Test func scrollingPastTheTopFetchesOlderMessagesUntilTheBeginning() {
        var model = Self.inRooms("general")
        for id in Int64(41)...50 { _ = model.handle(Self.message("m\(id)", id: id, cid: "c\(id)")) }
        #expect(model.handle(.key(.pageUp)) == [.perform(.olderHistory(room: "general", before: 41))])
        #expect(Self.contents(model).first == "loading older messages…")
        #expect(model.handle(.key(.pageUp)).isEmpty, "one request at a time")
        let scrolled = model.currentBuffer.scrollBack

        _ = model.handle(Self.olderPage(21...40, before: 41, more: true))
        #expect(Self.contents(model).prefix(2) == ["m21", "m22"])
        #expect(model.currentBuffer.lines.count == 30, "the loading line is gone")
        #expect(model.currentBuffer.scrollBack == scrolled, "the view stays on what the user was reading")

        for _ in 0..<10 where model.currentBuffer.olderHistory == .more {
            if case .perform(.olderHistory(_, let before, _))? = model.handle(.key(.pageUp)).first {
                #expect(before == 21)
            }
        }
        _ = model.handle(Self.olderPage(1...20, before: 21, more: false))
        #expect(Self.contents(model).prefix(2) == ["── beginning of #general ──", "m1"])
        #expect(model.currentBuffer.olderHistory == .beginning)
        for _ in 0..<5 { #expect(model.handle(.key(.pageUp)).isEmpty) }
    }

    /// Past nine buffers: Alt-0 is the tenth, Alt-J and two digits any of 01–99, `/buffer`
    /// takes a number or a name; what does not exist is said, not guessed.
    @Test func buffersPastNineAreReachedByNumberAndByName() {
        var model = Self.inRooms("abcdefghijkl".map { "room\($0)" })
        #expect(model.buffers.count == 13)
        _ = model.handle(.key(.alt("0")))
        #expect(model.currentBuffer.name == "roomi")
        for key in [Key.alt("j"), .character("1")] { _ = model.handle(.key(key)) }
        #expect(model.bufferJump == "1" && model.currentBuffer.name == "roomi")
        #expect(Renderer.render(model, now: .now).grid.text.contains("buffer 1_"))
        _ = model.handle(.key(.character("2")))
        #expect(model.currentBuffer.name == "roomk" && model.bufferJump == nil)
        for key in [Key.alt("j"), .character("0"), .character("3")] { _ = model.handle(.key(key)) }
        #expect(model.currentBuffer.name == "roomb")
        for key in [Key.alt("j"), .character("x")] { _ = model.handle(.key(key)) }
        #expect(model.bufferJump == nil && model.editor.text == "x", "another key ends the jump and does its work")
        model.editor.set("")

        Self.enter(&model, "/buffer 13")
        #expect(model.currentBuffer.name == "rooml")
        Self.enter(&model, "/b #roomC")
        #expect(model.currentBuffer.name == "roomc")
        Self.enter(&model, "/buffer 40")
        #expect(Self.contents(model).last == "no buffer 40: there are 13")
        Self.enter(&model, "/buffer room")
        #expect(
            Self.contents(model).last?.hasPrefix("no buffer named room:") == true, "a prefix of several is not a guess")
        let list = Renderer.render(model, now: .now).grid.text
        #expect(list.contains(" 9 #roomh") && list.contains("13 #rooml"), "two-column numbers")
    }

    /// `/ignore` hides a nick's messages and DMs, in any case, from now on and in history
    /// pages; the list is handed out to be kept; `/unignore` (Tab-completed) undoes it.
    @Test func ignoredNicksAreHiddenUntilUnignored() {
        var model = Self.inRooms("general")
        #expect(Self.enter(&model, "/ignore Mallory") == [.saveIgnored(["Mallory"])])
        _ = model.handle(Self.message("spam", from: "mallory", id: 1, cid: "m1"))
        _ = model.handle(Self.message("hello", from: "bob", id: 2, cid: "b1"))
        _ = model.handle(
            .engine(
                .server(
                    .dm(DirectMessage(id: 1, ts: 0, from: "MALLORY", to: "alice", text: "psst", cid: "d1")), raw: "")))
        #expect(!Self.contents(model).contains("spam") && Self.contents(model).last == "hello")
        #expect(!model.buffers.contains { $0.kind == .direct(key: "mallory") }, "no DM buffer opens")
        _ = model.handle(Self.olderPage(1...1, before: 2, more: false, from: "mallory"))
        #expect(!Self.contents(model).contains("m1") && Self.contents(model).first == "── beginning of #general ──")

        Self.enter(&model, "/ignore alice")
        #expect(Self.contents(model).last == "you cannot ignore yourself")
        Self.typed(&model, "/unignore m")
        _ = model.handle(.key(.tab))
        #expect(model.editor.text == "/unignore Mallory ")
        #expect(model.handle(.key(.enter)) == [.saveIgnored([])])
        _ = model.handle(Self.message("back", from: "mallory", id: 5, cid: "m5"))
        #expect(Self.contents(model).last == "back")
        Self.enter(&model, "/unignore bob")
        #expect(Self.contents(model).last == "bob is not ignored")
    }

    /// Others' away and back are marked in the rooms shared with them (and said there once);
    /// the user's own is said where they are and kept for the status bar; whois is listed.
    @Test func awayIsMarkedInSharedRoomsAndWhoisIsListed() {
        var model = Self.inRooms("general", "rust")
        let away = UIEvent.engine(.server(.away(.init(nick: "Bob", reason: "lunch")), raw: ""))
        _ = model.handle(away)
        #expect(model.buffers.filter { $0.away.contains("bob") }.count == 2)
        #expect(Self.contents(model).last == "Bob is away: lunch")
        _ = model.handle(.engine(.server(.away(.init(nick: "bob", reason: nil)), raw: "")))
        #expect(model.buffers.allSatisfy { $0.away.isEmpty } && Self.contents(model).last == "bob is back")

        _ = model.handle(.engine(.server(.away(.init(nick: "alice", reason: "brb")), raw: "")))
        #expect(model.awayReason == "brb")
        #expect(Self.contents(model).last == "you are away: brb (/back when you are back)")
        let lines = model.currentBuffer.lines.count
        _ = model.handle(.engine(.server(.away(.init(nick: "alice", reason: "brb")), raw: "")))
        #expect(model.currentBuffer.lines.count == lines, "told again after a reconnect: not said again")
        #expect(Renderer.render(model, now: .now).grid.text.contains("[alice] test · away ·"))

        _ = model.handle(
            .engine(.server(.members(room: "general", members: ["alice", "bob"], away: ["alice"]), raw: "")))
        #expect(Self.contents(model).last == "#general: alice (away) bob")
        model.timeZone = TimeZone(identifier: "UTC")!
        _ = model.handle(
            .engine(
                .server(
                    .whois(.init(nick: "bob", rooms: ["general", "rust"], away: "lunch", since: 0, idle: 3720)),
                    raw: "")))
        #expect(
            Self.contents(model).suffix(3) == [
                "bob: in #general #rust", "bob: connected since 1970-01-01 00:00, idle 1 h 2 min", "bob: away: lunch",
            ])
    }

    /// `/url` lists the links of the latest messages, each once, newest last.
    @Test func urlListsTheLatestLinks() {
        var model = Self.inRooms("general")
        Self.enter(&model, "/url")
        #expect(Self.contents(model).last == "no links yet: /url lists the links of the latest messages")
        _ = model.handle(Self.message("see https://a.example and http://b.example/x.", id: 1, cid: "1"))
        _ = model.handle(Self.message("again https://a.example", from: "carol", id: 2, cid: "2"))
        _ = model.handle(
            .engine(
                .server(
                    .dm(DirectMessage(id: 1, ts: 0, from: "bob", to: "alice", text: "https://c.example", cid: "d")),
                    raw: "")))
        Self.enter(&model, "/url")
        #expect(
            Self.contents(model).suffix(3) == [
                "1. http://b.example/x — bob in #general", "2. https://a.example — carol in #general",
                "3. https://c.example — bob in a DM",
            ])
    }

    /// `/goto N` shows a search match in its room: scrolled to when the buffer holds it,
    /// else after fetching the pages between (one request sized to reach it); a room not
    /// joined, a number not listed and a match beyond the scrollback are explained.
    @Test func gotoShowsASearchMatchWhereItWasSaid() {
        var model = Self.inRooms("general")
        for id in Int64(41)...60 { _ = model.handle(Self.message("m\(id)", id: id, cid: "c\(id)")) }
        func found(_ ids: [(String, Int64)]) -> UIEvent {
            let matches = ids.map { ChatMessage(room: $0.0, id: $0.1, ts: 0, from: "bob", text: "m\($0.1)", cid: "x") }
            return .engine(.server(.found(.init(text: "m", room: nil, matches: matches, more: false)), raw: ""))
        }
        _ = model.handle(found([("general", 45), ("general", 10), ("other", 3)]))
        #expect(
            Self.contents(model).suffix(4) == [
                "[1] #general bob m45", "[2] #general bob m10", "[3] #other bob m3",
                "/goto N shows match N where it was said",
            ])

        Self.typed(&model, "/goto 1")
        #expect(model.handle(.key(.enter)).isEmpty)
        let lines = model.currentBuffer.lines
        let position = lines.lastIndex { $0.id == 45 } ?? 0
        #expect(model.currentBuffer.jumpTarget == 45)
        #expect(model.currentBuffer.scrollBack == lines.count - 1 - position - ChatModel.jumpContext)

        #expect(Self.enter(&model, "/goto 2") == [.perform(.olderHistory(room: "general", before: 41, limit: 51))])
        #expect(
            model.handle(Self.olderPage(11...40, before: 41, more: true)).isEmpty == false, "not there yet: asks again")
        #expect(model.handle(Self.olderPage(1...10, before: 11, more: false)).isEmpty)
        #expect(model.currentBuffer.jumpTarget == 10)
        let after = model.currentBuffer.lines
        #expect(model.currentBuffer.scrollBack == after.count - 1 - (after.lastIndex { $0.id == 10 } ?? 0) - 5)
        #expect(Renderer.render(model, now: .now).grid.text.contains("m10"))

        Self.enter(&model, "/goto 3")
        #expect(Self.contents(model).last == "match 3 is in #other: /join other, then /goto 3 again")
        Self.enter(&model, "/goto 9")
        #expect(Self.contents(model).last == "no match 9: the last search found 3")

        var small = Self.inRooms("general")
        small.maxLinesPerBuffer = 100
        _ = small.handle(Self.message("latest", id: 5000, cid: "l"))
        _ = small.handle(found([("general", 10)]))
        Self.enter(&small, "/goto 1")
        #expect(Self.contents(small).last?.hasPrefix("that message is about 4990 messages before") == true)
    }

    /// The scrollback setting bounds every buffer, also ones opened later; what is trimmed is
    /// fetched again when the user scrolls up to it.
    @Test func buffersKeepTheConfiguredScrollback() {
        var model = Self.inRooms("general")
        model.maxLinesPerBuffer = 100
        _ = model.handle(Self.joined("rust"))
        for id in Int64(1)...300 { _ = model.handle(Self.message("m\(id)", id: id, cid: "c\(id)")) }
        #expect((100...110).contains(model.currentBuffer.lines.count), "\(model.currentBuffer.lines.count)")
        #expect(Self.contents(model).last == "m300")
        #expect(model.buffers.allSatisfy { $0.maxLines == 100 })
        #expect(model.currentBuffer.scrollBack == 0, "the view stays at the bottom")
        let oldest = model.currentBuffer.lines.first { $0.id != nil }?.id ?? 0
        for _ in 0..<20 where model.currentBuffer.olderHistory == .more {
            if case .perform(.olderHistory(_, let before, _))? = model.handle(.key(.pageUp)).first {
                #expect(before == oldest)
                return
            }
        }
        Issue.record("scrolling up never asked for the trimmed messages")
    }

    /// A line on a new day (in the user's time zone) is preceded by the day's name, also
    /// between a page of older history and what the buffer held.
    @Test func aNewDayIsMarkedWithADayLine() {
        var model = Self.inRooms("general")
        model.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        let monday: Int64 = 1_764_514_800_000  // Monday 1 December 2025, 00:00 in Tokyo
        func say(_ text: String, id: Int64, at ts: Int64) -> UIEvent {
            .engine(
                .server(
                    .message(ChatMessage(room: "general", id: id, ts: ts, from: "bob", text: text, cid: "c\(id)")),
                    raw: ""))
        }
        _ = model.handle(say("late", id: 10, at: monday - 60_000))
        _ = model.handle(say("midnight", id: 11, at: monday))
        _ = model.handle(say("morning", id: 12, at: monday + 9 * 3_600_000))
        _ = model.handle(say("next week", id: 13, at: monday + 8 * 86_400_000))
        #expect(
            Self.contents(model) == [
                "late", "── Monday 1 December 2025 ──", "midnight", "morning", "── Tuesday 9 December 2025 ──",
                "next week",
            ])
        _ = model.handle(.key(.pageUp))
        let older = [
            ChatMessage(room: "general", id: 9, ts: monday - 3 * 86_400_000, from: "bob", text: "friday", cid: "c9")
        ]
        _ = model.handle(
            .engine(.server(.history(.init(room: "general", before: 10, messages: older, more: true)), raw: "")))
        #expect(Array(Self.contents(model).prefix(3)) == ["friday", "── Sunday 30 November 2025 ──", "late"])
    }

    /// Search matches are listed newest first under a header, with no day lines between them
    /// and no unread count: a listing, not the buffer's chronology.
    @Test func searchMatchesAreListedUnderTheirHeader() {
        var model = Self.inRooms("general")
        _ = model.handle(Self.message("today", id: 5))
        let matches = [
            ChatMessage(room: "rust", id: 9, ts: 200_000_000, from: "bob", text: "日本語 later", cid: "a"),
            ChatMessage(room: "general", id: 2, ts: 100_000_000, from: "carol", text: "日本語 earlier", cid: "b"),
        ]
        _ = model.handle(.engine(.server(.found(.init(text: "日本", room: nil, matches: matches, more: true)), raw: "")))
        #expect(
            Self.contents(model).suffix(5) == [
                "search \"日本\" in every room: 2+ found, newest first", "[1] #rust bob 日本語 later",
                "[2] #general carol 日本語 earlier",
                "more messages match: search for a longer text to narrow it",
                "/goto N shows match N where it was said",
            ])
        #expect(model.currentBuffer.unread == 0)
    }

    /// A server that predates `history` answers `unknown_type`: said once, never asked again.
    @Test func aServerWithoutHistoryRequestsIsNotAskedAgain() {
        var model = Self.inRooms("general")
        _ = model.handle(Self.message("hi", id: 7))
        #expect(model.handle(.key(.pageUp)) == [.perform(.olderHistory(room: "general", before: 7))])
        _ = model.handle(
            .engine(
                .server(
                    .error(ProtocolError(.unknownType, "unknown message type \"history\"", ref: "history")), raw: "")))
        #expect(!Self.contents(model).contains("loading older messages…"))
        #expect(
            Self.contents(model).contains("this server cannot send older messages (it predates the history request)"))
        #expect(model.handle(.key(.pageUp)).isEmpty)
    }

    /// No server: the screen says what is happening and how to get a server.
    @Test func aFirstConnectionThatFailsIsExplained() {
        var model = ChatModel(nick: "alice", server: "ws://localhost:8080/ws", width: 80, height: 24)
        #expect(model.buffers[0].lines.first?.content == .notice("connecting to ws://localhost:8080/ws as alice…"))
        _ = model.handle(.engine(.state(.reconnecting(retryAt: .now + .seconds(1), attempt: 1, lastError: "refused"))))
        let text = model.buffers[0].lines.map { "\($0.content)" }.joined(separator: "\n")
        #expect(text.contains("cannot reach ws://localhost:8080/ws: refused"))
        #expect(text.contains("wschat --host"))
    }

    /// Losing the connection is said where the user is looking, and in the status bar.
    @Test func aDisconnectIsWrittenIntoTheCurrentBuffer() {
        var model = Self.inRooms("general")
        _ = model.handle(.engine(.state(.connected(latency: nil))))
        _ = model.handle(.engine(.state(.reconnecting(retryAt: .now + .seconds(4), attempt: 1, lastError: "reset"))))
        guard case .error(let text) = model.currentBuffer.lines.last?.content else {
            Issue.record("no line"); return
        }
        #expect(text == "disconnected: reset; reconnecting (see the status bar)")
    }

    @Test func aStatusBarThatDoesNotFitEndsInAnEllipsis() {
        var model = ChatModel(
            nick: "alice", server: "wss://a-rather-long-host-name.chat.example.org:8443/ws", width: 80, height: 24)
        model.tlsUnverified = true
        let status = Renderer.render(model, now: .now).grid.row(22)
        #expect(status.hasSuffix("…"), "\(status)")
    }

    @Test func buffersSwitchWithKeysAndClicks() {
        var model = Self.inRooms("general", "rust")
        #expect(model.current == 1, "the first room joined is shown")
        _ = model.handle(.key(.control("n")))
        _ = model.handle(.key(.control("n")))
        #expect(model.current == 0, "Ctrl-N wraps around")
        _ = model.handle(.key(.control("p")))
        #expect(model.current == 2)
        _ = model.handle(.click(x: 2, y: 2))
        #expect(model.current == 1)
        _ = model.handle(.click(x: 50, y: 3))
        #expect(model.current == 1, "a click in the message pane does not switch")
    }
}
