import Testing
import WSChatProtocol

@testable import WSChatClient

@Suite("The engine's bookkeeping")
struct EngineCoreTests {
    static func message(_ id: Int64, _ text: String, cid: String = "x", from: String = "bob", room: String = "general")
        -> ChatMessage
    {
        ChatMessage(room: room, id: id, ts: 1_700_000_000_000 + id, from: from, text: text, cid: cid)
    }

    static func joined(history: [ChatMessage] = [], more: Bool = false, reset: Bool? = nil, epoch: String = "e1")
        -> ServerMessage
    {
        .joined(
            .init(
                room: "general", epoch: epoch, topic: "", members: ["alice"], history: history, more: more, reset: reset
            ))
    }

    @Test func keepalivePingsMeasuresLatencyAndDropsADeadPeer() {
        var harness = CoreHarness { $0.keepalive = KeepalivePolicy(interval: .seconds(15), timeout: .seconds(10)) }
        harness.handle(.start)
        harness.connectAndWelcome()
        let first = CoreHarness.sent(harness.tickToNextDeadline())
        #expect(first == [.ping(.number(1))])
        harness.advance(by: .milliseconds(12))
        harness.receive(.pong(.number(1)))
        #expect(harness.core.state == .connected(latency: .milliseconds(12)))

        harness.advance(by: .seconds(15) - .milliseconds(12))
        #expect(CoreHarness.sent(harness.handle(.tick)) == [.ping(.number(2))])
        // The peer is gone: no pong. After 10 s the connection is dropped and retried.
        harness.advance(by: .seconds(10))
        let actions = harness.handle(.tick)
        #expect(actions.contains(.disconnect))
        guard case .reconnecting(_, _, let error) = harness.core.state else {
            Issue.record("\(harness.core.state)"); return
        }
        #expect(error.contains("no answer to ping"))
    }

    @Test func aSilentServerIsGivenUpOnAfterTheConnectTimeout() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.advance(by: .seconds(10))
        #expect(harness.handle(.tick).contains(.disconnect))
        harness.tickToNextDeadline()
        harness.handle(.transportOpened)
        harness.advance(by: .seconds(10))
        #expect(harness.handle(.tick).contains(.disconnect), "opened but never welcomed")
    }

    @Test func aTakenNickGetsASuffixAndIsReclaimedWhenFree() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.handle(.transportOpened)
        let retry = harness.receive(.error(ProtocolError(.nickTaken, "taken", ref: "hello")))
        #expect(CoreHarness.sent(retry) == [.hello(.init(nick: "alice_", client: "wschat/0.1"))])
        let welcome = harness.receive(
            .welcome(.init(nick: "alice_", session: "s", server: "t", limits: Limits(rate: 0))))
        #expect(CoreHarness.events(welcome).contains(.notice("the nick alice is taken; you are alice_ for now")))
        let quit = harness.receive(
            .presence(.init(room: "general", nick: "alice", event: .quit, reason: "connection lost")))
        #expect(CoreHarness.sent(quit) == [.nick("alice")])
        harness.receive(.nick(old: "alice_", new: "alice"))
        #expect(harness.core.currentNick == "alice")
    }

    /// `/nick victim` refused while victim is online is forgotten: dave does not become
    /// victim when victim leaves, nor after a reconnect.
    @Test func aRefusedNickChangeIsForgotten() {
        var harness = CoreHarness { $0.nick = "dave" }
        harness.handle(.start)
        harness.connectAndWelcome(nick: "dave")
        #expect(CoreHarness.sent(harness.handle(.command(.nick("victim")))) == [.nick("victim")])
        harness.receive(.error(ProtocolError(.nickTaken, "victim is taken", ref: "nick")))
        let left = harness.receive(
            .presence(.init(room: "general", nick: "victim", event: .quit, reason: "bye")))
        #expect(CoreHarness.sent(left).isEmpty, "no claim on a nick the server refused")
        harness.handle(.transportClosed(code: 1001, description: "restart"))
        harness.tickToNextDeadline()
        let hello = harness.handle(.transportOpened)
        #expect(CoreHarness.sent(hello) == [.hello(.init(nick: "dave", client: "wschat/0.1"))])
        // A change the server confirms is the nick from then on.
        harness.receive(.welcome(.init(nick: "dave", session: "s", server: "t", limits: Limits(rate: 0))))
        harness.handle(.command(.nick("david")))
        harness.receive(.nick(old: "dave", new: "david"))
        harness.handle(.transportClosed(code: 1001, description: "restart"))
        harness.tickToNextDeadline()
        #expect(
            CoreHarness.sent(harness.handle(.transportOpened)) == [.hello(.init(nick: "david", client: "wschat/0.1"))])
    }

    /// The secret is said in every hello (so the server files direct messages under it), and a
    /// conversation's earlier messages are asked for and handed on.
    @Test func theSecretIsSaidInEveryHelloAndConversationsAreReadBack() {
        let secret = String(repeating: "5e", count: 32)
        var harness = CoreHarness { $0.secret = secret }
        harness.handle(.start)
        let expected = ClientMessage.hello(.init(nick: "alice", client: "wschat/0.1", secret: secret))
        #expect(CoreHarness.sent(harness.handle(.transportOpened)) == [expected])
        harness.receive(.welcome(.init(nick: "alice", session: "s", server: "t", limits: Limits(rate: 0))))
        #expect(
            CoreHarness.sent(harness.handle(.command(.olderDirectMessages(with: "bob", before: 5))))
                == [.directHistory(.init(with: "bob", before: 5))])
        let page = ServerMessage.directHistory(.init(with: "bob", before: 5, messages: [], more: false))
        let handedOn = CoreHarness.events(harness.receive(page)).compactMap {
            if case .server(let message, _) = $0 { message } else { nil }
        }
        #expect(handedOn == [page])
        harness.handle(.transportClosed(code: 1001, description: "restart"))
        harness.tickToNextDeadline()
        #expect(CoreHarness.sent(harness.handle(.transportOpened)) == [expected])
    }

    @Test func aNickChangeTypedOfflineIsAskedForAfterTheWelcome() {
        var harness = CoreHarness { $0.nick = "dave" }
        harness.handle(.start)
        harness.handle(.command(.nick("victim")))
        #expect(
            CoreHarness.sent(harness.handle(.transportOpened)) == [.hello(.init(nick: "dave", client: "wschat/0.1"))])
        let welcome = harness.receive(.welcome(.init(nick: "dave", session: "s", server: "t", limits: Limits(rate: 0))))
        #expect(CoreHarness.sent(welcome).contains(.nick("victim")))
    }

    /// Away belongs to the user, not the session: every new session is told once, whatever
    /// was typed offline; after /back, nothing is.
    @Test func awayIsToldToEveryNewSessionUntilBack() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        #expect(CoreHarness.sent(harness.handle(.command(.away(reason: "lunch")))) == [.away(reason: "lunch")])

        harness.handle(.transportClosed(code: nil, description: "lost"))
        harness.handle(.command(.away(reason: "dinner")))
        harness.tickToNextDeadline()
        let again = CoreHarness.sent(harness.connectAndWelcome())
        #expect(again.filter { $0.type == "away" } == [.away(reason: "dinner")], "\(again)")
        #expect(again.firstIndex { $0.type == "join" } ?? .max < again.firstIndex { $0.type == "away" } ?? 0)

        harness.handle(.command(.away(reason: nil)))
        harness.handle(.transportClosed(code: nil, description: "lost"))
        harness.tickToNextDeadline()
        #expect(!CoreHarness.sent(harness.connectAndWelcome()).contains { $0.type == "away" })
    }

    @Test func aMessageTypedOfflineIsPendingThenSentOnceWithItsCID() {
        var harness = CoreHarness()
        harness.handle(.start)
        let typed = harness.handle(.command(.say(room: "general", text: "hello", action: false)))
        guard case .pending(let pending) = CoreHarness.events(typed).first else { Issue.record("not pending"); return }
        #expect(CoreHarness.sent(typed).isEmpty)

        let sent = CoreHarness.sent(harness.connectAndWelcome())
        #expect(sent.last == .say(.init(room: "general", text: "hello", cid: pending.cid)))
        #expect(harness.core.undelivered == [pending])
        harness.receive(Self.joined())
        let echo = harness.receive(.message(Self.message(1, "hello", cid: pending.cid, from: "alice")))
        #expect(CoreHarness.events(echo).count == 1)
        #expect(harness.core.undelivered.isEmpty)

        // Lost again before anything else: nothing is resent, and the rejoin resumes after id 1.
        harness.handle(.transportClosed(code: 1006, description: "reset"))
        harness.tickToNextDeadline()
        let again = CoreHarness.sent(harness.connectAndWelcome())
        #expect(again.dropFirst() == [.join(.init(room: "general", since: 1, epoch: "e1"))])
    }

    @Test func aMessageSeenTwiceIsReportedOnce() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        harness.receive(Self.joined(history: [Self.message(1, "one"), Self.message(2, "two")]))
        #expect(CoreHarness.events(harness.receive(.message(Self.message(2, "two")))).isEmpty)
        #expect(CoreHarness.events(harness.receive(.message(Self.message(3, "three")))).count == 1)
        // A resume whose history overlaps what was seen shows only the new part.
        let rejoin = harness.receive(Self.joined(history: [Self.message(3, "three"), Self.message(4, "four")]))
        guard case .server(.joined(let shown), _) = CoreHarness.events(rejoin).first else {
            Issue.record("no joined"); return
        }
        #expect(shown.history.map(\.id) == [4])
    }

    @Test func longHistoryIsPagedUntilMoreIsFalse() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        harness.receive(Self.joined(history: [Self.message(1, "one")]))
        harness.handle(.transportClosed(code: 1006, description: "reset"))
        harness.tickToNextDeadline()
        harness.connectAndWelcome()
        let page = harness.receive(
            Self.joined(history: [Self.message(2, "two"), Self.message(3, "three")], more: true))
        #expect(CoreHarness.sent(page) == [.join(.init(room: "general", since: 3, epoch: "e1"))])
        let last = harness.receive(Self.joined(history: [Self.message(4, "four")], more: false))
        #expect(CoreHarness.sent(last).isEmpty)
        #expect(!CoreHarness.events(last).contains { if case .notice = $0 { true } else { false } })
    }

    @Test func lostHistoryAndHiddenOlderMessagesAreSaidOutLoud() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        let first = harness.receive(Self.joined(history: [Self.message(60, "sixty")], more: true))
        // Said before the history it refers to, so that it is shown above it.
        #expect(CoreHarness.events(first).first == .olderHistoryNotShown(room: "general"))
        let reset = harness.receive(Self.joined(history: [Self.message(1, "new one")], reset: true, epoch: "e2"))
        #expect(
            CoreHarness.events(reset).contains {
                if case .notice(let text) = $0 { text.contains("lost the earlier history") } else { false }
            })
        guard case .server(.joined(let shown), _) = CoreHarness.events(reset).last else {
            Issue.record("no joined"); return
        }
        #expect(shown.history.map(\.id) == [1], "after a reset, ids start over and are shown")
    }

    @Test func sendingIsPacedByTheAnnouncedRateLimit() {
        var harness = CoreHarness()
        harness.handle(.start)
        var sent = CoreHarness.sent(harness.connectAndWelcome(limits: Limits(rate: 10, burst: 20)))
        for n in 0..<40 {
            sent += CoreHarness.sent(harness.handle(.command(.say(room: "general", text: "m\(n)", action: false))))
        }
        let immediately = sent.filter { if case .say = $0 { true } else { false } }.count
        #expect(immediately < 20, "the burst minus a margin: \(immediately)")
        var total = immediately
        var elapsed = Duration.zero
        while total < 40 {
            let start = harness.now
            total +=
                CoreHarness.sent(harness.tickToNextDeadline()).filter { if case .say = $0 { true } else { false } }
                .count
            elapsed += start.duration(to: harness.now)
        }
        #expect(elapsed >= .seconds(2), "the rest at under 10 per second: \(elapsed)")
    }

    @Test func rateLimitedMessagesAreRetriedAndRefusedOnesReported() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        let typed = CoreHarness.events(harness.handle(.command(.say(room: "general", text: "a", action: false))))
        guard case .pending(let message) = typed.first else { return }
        harness.receive(.error(ProtocolError(.rateLimited, "slow down", ref: message.cid)))
        #expect(harness.core.undelivered == [message])
        harness.advance(by: .seconds(2))
        #expect(CoreHarness.sent(harness.handle(.tick)).contains { if case .say = $0 { true } else { false } })
        let refused = harness.receive(.error(ProtocolError(.badText, "control character", ref: message.cid)))
        #expect(
            CoreHarness.events(refused) == [
                .failed(message, ProtocolError(.badText, "control character", ref: message.cid))
            ])
        #expect(harness.core.undelivered.isEmpty)
    }

    @Test func quitWhenDeliveredWaitsForTheOutboxOrTheDeadline() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.handle(.command(.say(room: "general", text: "one", action: false)))
        harness.handle(.command(.quitWhenDelivered(within: .seconds(10))))
        #expect(!harness.core.isFinished)
        harness.advance(by: .seconds(10))
        let actions = harness.handle(.tick)
        #expect(CoreHarness.events(actions).contains { if case .undelivered = $0 { true } else { false } })
        #expect(harness.core.state == .offline(reason: "quit"))
    }

    /// A drain that runs out of time stops sending, quits, and counts every acknowledgement
    /// that arrives before the server closes: a script that retries what was reported
    /// undelivered never posts a message twice.
    @Test func aDrainThatRunsOutCountsAcknowledgementsThatArriveBeforeTheClose() {
        var harness = CoreHarness()
        harness.handle(.start)
        var sent = CoreHarness.sent(harness.connectAndWelcome(limits: Limits(rate: 10, burst: 20)))
        var typed: [PendingMessage] = []
        for n in 0..<40 {
            let actions = harness.handle(.command(.say(room: "general", text: "m\(n)", action: false)))
            sent += CoreHarness.sent(actions)
            for case .pending(let message) in CoreHarness.events(actions) { typed.append(message) }
        }
        harness.handle(.command(.quitWhenDelivered(within: .seconds(1))))
        var atDeadline: [CoreHarness.Core.Action] = []
        while harness.core.deliveryDeadline != nil {
            let actions = harness.tickToNextDeadline()
            sent += CoreHarness.sent(actions)
            atDeadline = actions
        }
        #expect(!CoreHarness.events(atDeadline).contains { if case .undelivered = $0 { true } else { false } })
        let said = sent.compactMap { if case .say(let say) = $0 { say.cid } else { nil } }
        #expect(said.count > 10 && said.count < 40, "some left before the deadline, some did not: \(said.count)")
        // The quit goes out once the pacing allows; nothing typed follows it.
        while !sent.contains(where: { if case .quit = $0 { true } else { false } }) {
            sent += CoreHarness.sent(harness.tickToNextDeadline())
        }
        #expect(sent.filter { if case .say = $0 { true } else { false } }.count == said.count)
        // The server answers everything it got before the quit, then closes.
        for (id, message) in typed.enumerated() where said.contains(message.cid) {
            let echo = ChatMessage(
                room: "general", id: Int64(id + 1), ts: 0, from: "alice", text: message.text, cid: message.cid)
            #expect(
                !CoreHarness.events(harness.receive(.message(echo))).contains {
                    if case .undelivered = $0 { true } else { false }
                })
        }
        let closed = CoreHarness.events(harness.handle(.transportClosed(code: 1000, description: "bye")))
        let undelivered = closed.compactMap { if case .undelivered(let message) = $0 { message.cid } else { nil } }
        #expect(undelivered == typed.map(\.cid).filter { !said.contains($0) })
        #expect(harness.core.state == .offline(reason: "quit"))
    }

    /// A DM typed while offline, refused after the reconnect because its peer is not back
    /// yet, is kept and tried again for a while; one typed online to a nick nobody uses
    /// fails at once.
    @Test func aDMTypedOfflineWaitsForItsPeerToComeBack() {
        var harness = CoreHarness()
        harness.handle(.start)
        let typed = CoreHarness.events(harness.handle(.command(.directMessage(to: "bob", text: "psst"))))
        guard case .pending(let message) = typed.first else { Issue.record("\(typed)"); return }
        harness.connectAndWelcome()
        let refused = harness.receive(.error(ProtocolError(.noSuchNick, "nobody is online as bob", ref: message.cid)))
        #expect(CoreHarness.events(refused).isEmpty, "not failed")
        #expect(harness.core.undelivered == [message])
        let refusedAt = harness.now
        var resent = false
        while !resent, harness.now < refusedAt + .seconds(10) {
            resent = CoreHarness.sent(harness.tickToNextDeadline(limit: .seconds(10))).contains(message.clientMessage)
        }
        #expect(resent, "tried again within 10 s")
        harness.receive(.dm(.init(id: 1, ts: 0, from: "alice", to: "bob", text: "psst", cid: message.cid)))
        #expect(harness.core.undelivered.isEmpty)

        let online = CoreHarness.events(harness.handle(.command(.directMessage(to: "nobody", text: "hi"))))
        guard case .pending(let typo) = online.first else { Issue.record("\(online)"); return }
        let failed = harness.receive(.error(ProtocolError(.noSuchNick, "nobody is online as nobody", ref: typo.cid)))
        #expect(CoreHarness.events(failed).contains { if case .failed = $0 { true } else { false } })
    }

    @Test func typedTextIsCheckedBeforeItGoesAnywhere() {
        var harness = CoreHarness()
        harness.handle(.start)
        let bad = CoreHarness.events(harness.handle(.command(.say(room: "general", text: "\u{1B}[2J", action: false))))
        guard case .failed(_, let error) = bad.first else { Issue.record("\(bad)"); return }
        #expect(error.code == .badText)
        let elsewhere = CoreHarness.events(harness.handle(.command(.say(room: "random", text: "hi", action: false))))
        guard case .failed(_, let notJoined) = elsewhere.first else { Issue.record("\(elsewhere)"); return }
        #expect(notJoined.code == .notJoined)
        #expect(harness.core.undelivered.isEmpty)
    }
}
