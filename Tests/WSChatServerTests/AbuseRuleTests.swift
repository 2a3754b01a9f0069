import Testing

@testable import WSChatServer

@Suite("Password guessing slows down per address")
struct AuthThrottleTests {
    let start = ContinuousClock.now

    @Test func aFewTyposCostNothing() {
        var throttle = AuthThrottle()
        for _ in 0..<3 {
            #expect(throttle.attempt(from: "10.0.0.1", at: start) == .proceed(after: .zero))
            throttle.recordFailure(from: "10.0.0.1", at: start)
        }
        #expect(throttle.delay(afterFailures: 3) == .zero)
    }

    @Test func delaysGrowThenTheAddressIsLockedOut() {
        var throttle = AuthThrottle()
        var now = start
        var delays: [Duration] = []
        for _ in 0..<9 {
            guard case .proceed(let delay) = throttle.attempt(from: "10.0.0.1", at: now) else {
                Issue.record("locked out too early")
                return
            }
            delays.append(delay)
            now += delay
            throttle.recordFailure(from: "10.0.0.1", at: now)
        }
        #expect(delays.prefix(4).allSatisfy { $0 == .zero })
        #expect(delays[4...] == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4)])
        now += .seconds(8)
        #expect(throttle.attempt(from: "10.0.0.1", at: now) == .proceed(after: .zero))
        throttle.recordFailure(from: "10.0.0.1", at: now)
        guard case .lockedOut(let retryAfter) = throttle.attempt(from: "10.0.0.1", at: now + .seconds(1)) else {
            Issue.record("the tenth wrong password did not lock the address out")
            return
        }
        #expect(retryAfter == .seconds(299))
        #expect(throttle.attempt(from: "10.0.0.2", at: now) == .proceed(after: .zero), "other addresses are not slowed")
        #expect(throttle.attempt(from: "10.0.0.1", at: now + .seconds(301)) == .proceed(after: .zero))
    }

    @Test func parallelAttemptsQueueBehindEachOther() {
        var throttle = AuthThrottle()
        for _ in 0..<5 { throttle.recordFailure(from: "10.0.0.1", at: start) }
        // Five failures: each further attempt waits 500 ms after the one before it.
        let waits = (0..<3).map { _ in throttle.attempt(from: "10.0.0.1", at: start) }
        #expect(
            waits == [
                .proceed(after: .milliseconds(500)), .proceed(after: .seconds(1)), .proceed(after: .milliseconds(1500)),
            ])
    }

    @Test func successAndTimeForgiveAnAddress() {
        var throttle = AuthThrottle()
        for _ in 0..<6 { throttle.recordFailure(from: "a", at: start) }
        throttle.recordSuccess(from: "a")
        #expect(throttle.attempt(from: "a", at: start) == .proceed(after: .zero))
        for _ in 0..<6 { throttle.recordFailure(from: "b", at: start) }
        #expect(throttle.attempt(from: "b", at: start + .seconds(901)) == .proceed(after: .zero))
    }

    @Test func memoryIsBoundedByForgettingTheOldest() {
        var throttle = AuthThrottle(policy: .init(maxAddresses: 3))
        for (index, address) in ["a", "b", "c", "d"].enumerated() {
            for _ in 0..<5 { throttle.recordFailure(from: address, at: start + .seconds(index)) }
        }
        #expect(throttle.attempt(from: "a", at: start + .seconds(5)) == .proceed(after: .zero), "the oldest went")
        #expect(throttle.attempt(from: "d", at: start + .seconds(3)) == .proceed(after: .milliseconds(500)))
    }
}

@Suite("What clients send is safe in the log")
struct InertTextTests {
    @Test func controlBidiAndInvisibleCharactersAreEscaped() {
        #expect(InertText.escaped("evil\n2026-12-01 fake line") == "evil\\u{A}2026-12-01 fake line")
        #expect(InertText.escaped("a\u{1B}[31mred") == "a\\u{1B}[31mred")
        #expect(InertText.escaped("abc\u{202E}fed") == "abc\\u{202E}fed")
        #expect(InertText.escaped("in\u{200B}visible\u{3164}") == "in\\u{200B}visible\\u{3164}")
        #expect(InertText.escaped("李雷 👋🏽 é") == "李雷 👋🏽 é", "ordinary text is kept")
    }

    @Test func longTextIsCut() {
        let logged = InertText.escaped(String(repeating: "x", count: 10_000))
        #expect(logged.count == InertText.maxCharacters + 1)
        #expect(logged.hasSuffix("…"))
    }
}

@Suite("A flood of alike log lines is summarised")
struct RepeatedLineFilterTests {
    @Test func theFirstFewAreWrittenAndTheNextOneCountsTheRest() {
        var filter = RepeatedLineFilter()
        let start = ContinuousClock.now
        let written = (0..<300).filter { _ in filter.admit("refused", at: start).write }
        #expect(written.count == filter.burst)
        #expect(filter.admit("other kind", at: start).write, "kinds are counted apart")
        let next = filter.admit("refused", at: start + filter.window)
        #expect(next.write)
        #expect(next.leftOut == 300 - filter.burst)
    }
}

@Suite("The opening handshake's rules")
struct WebSocketHandshakeTests {
    @Test func aKeyIsSixteenBytesInBase64() {
        #expect(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(!WebSocketHandshake.isValidKey("bad"))
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ"), "unpadded")
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZSE="), "17 bytes")
        #expect(!WebSocketHandshake.isValidKey("!!!!!!!!!!!!!!!!!!!!!!=="))
        #expect(WebSocketHandshake.isValidKey(" \tdGhlIHNhbXBsZSBub25jZQ==\t "), "spaces and tabs around it")
        #expect(!WebSocketHandshake.isValidKey("dGhlIHNhbXBs ZSBub25jZQ=="), "a space inside")
    }

    @Test func theAcceptValueIsTheOneInRFC6455() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(
            WebSocketHandshake.acceptValue(forKey: "\t dGhlIHNhbXBsZSBub25jZQ== ") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func httpWhitespaceIsSpacesAndTabsAroundAValue() {
        #expect(" \t wschat.v1 \t".trimmingHTTPWhitespace() == "wschat.v1")
        #expect("a b".trimmingHTTPWhitespace() == "a b")
        #expect(" \t ".trimmingHTTPWhitespace() == "")
        #expect("".trimmingHTTPWhitespace() == "")
        #expect("\u{A0}x\u{A0}".trimmingHTTPWhitespace() == "\u{A0}x\u{A0}", "not HTTP whitespace")
    }
}
