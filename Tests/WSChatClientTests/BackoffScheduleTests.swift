import Testing
import WSChatProtocol

@testable import WSChatClient

@Suite("The reconnect schedule")
struct BackoffScheduleTests {
    @Test func ceilingsDoubleFromTheBaseUpToTheCap() {
        let policy = ReconnectPolicy()
        #expect((0...6).map { policy.ceiling(attempt: $0) } == [1, 2, 4, 8, 16, 30, 30].map { .seconds($0) })
        #expect(policy.ceiling(attempt: 500) == .seconds(30))
    }

    @Test func everyDelayLiesBetweenZeroAndItsCeilingAndTheCounterGrows() {
        var harness = CoreHarness()
        harness.handle(.start)
        for attempt in 0..<12 {
            harness.handle(.transportClosed(code: nil, description: "connection refused"))
            let delay = harness.retryDelay!
            #expect(
                delay >= .zero && delay <= ReconnectPolicy().ceiling(attempt: attempt), "attempt \(attempt): \(delay)")
            guard case .reconnecting(_, let counter, let error) = harness.core.state else {
                Issue.record("not reconnecting"); return
            }
            #expect(counter == attempt + 1 && error == "connection refused")
            #expect(CoreHarness.connects(harness.tickToNextDeadline()).count == 1)
        }
    }

    @Test func fullJitterSpreadsDelaysOverTheWholeRange() {
        var delays: [Double] = []
        for seed in 0..<400 {
            var harness = CoreHarness(seed: UInt64(seed))
            harness.handle(.start)
            for _ in 0..<3 {
                harness.handle(.transportClosed(code: nil, description: "refused"))
                harness.tickToNextDeadline()
            }
            harness.handle(.transportClosed(code: nil, description: "refused"))
            let delay = harness.retryDelay!
            delays.append(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        }
        // Attempt 3: uniform on [0, 8 s].
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= 8 })
        #expect(delays.min()! < 0.5 && delays.max()! > 7.5)
        let mean = delays.reduce(0, +) / Double(delays.count)
        #expect(abs(mean - 4) < 0.5, "mean \(mean)")
        let lowerHalf = delays.filter { $0 < 4 }.count
        #expect((160...240).contains(lowerHalf))
    }

    @Test func aStableConnectionResetsTheCounterAndAFlappingOneDoesNot() {
        var harness = CoreHarness()
        harness.handle(.start)
        for _ in 0..<6 {
            harness.handle(.transportClosed(code: nil, description: "refused"))
            harness.tickToNextDeadline()
        }
        // Up for 5 s only: the counter keeps growing.
        harness.connectAndWelcome()
        harness.advance(by: .seconds(5))
        harness.handle(.transportClosed(code: 1006, description: "reset"))
        guard case .reconnecting(_, 7, _) = harness.core.state else { Issue.record("\(harness.core.state)"); return }
        harness.tickToNextDeadline()
        // Up for 10 s: the next retry is scheduled as the first one again.
        harness.connectAndWelcome()
        harness.advance(by: .seconds(10))
        harness.handle(.transportClosed(code: 1006, description: "reset"))
        guard case .reconnecting(_, 1, _) = harness.core.state else { Issue.record("\(harness.core.state)"); return }
        #expect(harness.retryDelay! <= .seconds(1))
    }

    @Test func goingAwayIsRetriedWithinASecondAndThenBacksOff() {
        for seed in 0..<50 {
            var harness = CoreHarness(seed: UInt64(seed))
            harness.handle(.start)
            harness.connectAndWelcome()
            harness.advance(by: .seconds(60))
            harness.handle(.transportClosed(code: 1001, description: "server shutting down"))
            #expect(harness.retryDelay! <= .seconds(1))
            harness.tickToNextDeadline()
            harness.handle(.transportClosed(code: nil, description: "refused"))
            #expect(harness.retryDelay! <= .seconds(2), "then the ordinary schedule, from its second step")
        }
    }

    @Test func authenticationFailureStopsForGood() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.handle(.transportOpened)
        let actions = harness.receive(.error(ProtocolError(.authFailed, "wrong password", ref: "hello")))
        #expect(CoreHarness.events(actions).contains { if case .server(.error, _) = $0 { true } else { false } })
        harness.handle(.transportClosed(code: 4001, description: "closed by the server (4001)"))
        #expect(harness.core.state == .offline(reason: "authentication failed"))
        #expect(harness.core.isFinished)
        #expect(harness.core.nextDeadline == nil, "no retry is ever scheduled")
    }

    @Test func quittingStopsForGood() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        let actions = harness.handle(.command(.quit(reason: "bye")))
        #expect(CoreHarness.sent(actions).last == .quit(reason: "bye"))
        harness.handle(.transportClosed(code: 1000, description: "closed"))
        #expect(harness.core.state == .offline(reason: "quit"))
        #expect(harness.core.isFinished)
    }

    @Test func aNinetyThreeSecondOutageIsRiddenOutAndEverythingTypedArrives() {
        var harness = CoreHarness()
        harness.handle(.start)
        harness.connectAndWelcome()
        harness.receive(
            .joined(.init(room: "general", epoch: "e1", topic: "", members: ["alice"], history: [], more: false)))
        harness.advance(by: .seconds(30))
        harness.handle(.transportClosed(code: 1006, description: "connection reset"))

        let outageEnds = harness.now + .seconds(93)
        var typed: [String] = []
        var attempts = 0
        var urls: [String] = []
        while harness.now < outageEnds {
            if typed.count < 5 {
                typed.append("typed offline \(typed.count)")
                harness.handle(.command(.say(room: "general", text: typed.last!, action: false)))
            }
            let connects = CoreHarness.connects(harness.tickToNextDeadline())
            urls += connects
            if !connects.isEmpty {
                attempts += 1
                harness.advance(by: .milliseconds(50))
                harness.handle(.transportClosed(code: nil, description: "connection refused"))
            }
        }
        #expect((6...20).contains(attempts), "\(attempts) attempts in 93 s")
        #expect(Set(urls) == ["ws://a/ws", "ws://b/ws"], "both servers are tried in turn")
        guard case .reconnecting(let retryAt, _, _) = harness.core.state else {
            Issue.record("\(harness.core.state)"); return
        }
        #expect(harness.now.duration(to: retryAt) <= .seconds(30))

        // The server is back: one more retry, and everything typed goes out after the rejoin.
        harness.tickToNextDeadline()
        let actions = harness.connectAndWelcome()
        let sent = CoreHarness.sent(actions)
        #expect(sent.first == .hello(.init(nick: "alice", client: "wschat/0.1")))
        #expect(sent.dropFirst().first == .join(.init(room: "general", since: 0, epoch: "e1")))
        let says = sent.compactMap { if case .say(let say) = $0 { say.text } else { nil } }
        #expect(says == typed)
    }
}
