import CompressNIO
import NIOCore
import NIOWebSocket
import Testing

@testable import WSChatServer

/// The server's side of RFC 6455 as a value: frames in, actions out, no socket.
@Suite("The WebSocket core")
struct WebSocketServerCoreTests {
    static func frame(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true
    ) -> WebSocketFrame {
        let key: WebSocketMaskingKey? = masked ? .random() : nil
        var data = ByteBuffer(bytes: payload)
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: key, data: data)
    }

    static func text(_ string: String, fin: Bool = true) -> WebSocketFrame {
        frame(.text, Array(string.utf8), fin: fin)
    }

    static func closeCode(_ actions: [WebSocketServerCore.Action]) -> WebSocketErrorCode? {
        for case .sendClose(let code, _) in actions { return code }
        return nil
    }

    @Test func fragmentsAreJoinedIntoOneMessage() {
        var core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
        #expect(core.received(Self.text("你好，", fin: false)).isEmpty)
        #expect(core.received(Self.frame(.ping, Array("in between".utf8))).count == 1, "a ping may come between")
        #expect(core.received(Self.frame(.continuation, Array("世界 👍🏽".utf8))) == [.deliver(.text("你好，世界 👍🏽"))])
    }

    @Test func aCodePointSplitAcrossFragmentsIsFine() {
        var core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
        let bytes = Array("é".utf8)
        #expect(core.received(Self.frame(.text, [bytes[0]], fin: false)).isEmpty)
        #expect(core.received(Self.frame(.continuation, [bytes[1]])) == [.deliver(.text("é"))])
    }

    @Test func protocolViolationsCloseWith1002() {
        let violations: [[WebSocketFrame]] = [
            [Self.frame(.text, Array("hi".utf8), masked: false)],
            [Self.frame(.continuation, Array("hi".utf8))],
            [Self.text("a", fin: false), Self.text("b")],
            [Self.frame(WebSocketOpcode(encodedWebSocketOpcode: 3)!, [])],
            [Self.frame(.text, Array("hi".utf8), rsv1: true)],
            [Self.frame(.ping, [], rsv1: true)],
        ]
        for frames in violations {
            var core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
            let actions = frames.flatMap { core.received($0) }
            #expect(Self.closeCode(actions) == .protocolError, "\(frames)")
            #expect(core.state == .closing)
            #expect(core.received(Self.text("after")).isEmpty, "data after the close is ignored")
            #expect(core.received(Self.frame(.connectionClose, [])) == [.closeSocket])
        }
    }

    @Test func textThatIsNotUTF8Closes1007AndTooMuchCloses1009() {
        var core = WebSocketServerCore(maxMessageBytes: 4, inflater: nil)
        #expect(Self.closeCode(core.received(Self.frame(.text, [0xce, 0xba, 0xe1]))) == .dataInconsistentWithMessage)
        core = WebSocketServerCore(maxMessageBytes: 4, inflater: nil)
        #expect(core.received(Self.text("abc", fin: false)).isEmpty)
        #expect(Self.closeCode(core.received(Self.frame(.continuation, Array("de".utf8)))) == .messageTooLarge)
    }

    @Test func aCloseIsAnsweredWithItsCodeOr1002WhenInvalid() {
        let cases: [([UInt8], WebSocketErrorCode)] = [
            ([], .normalClosure), ([0x03, 0xE9], .goingAway), ([0x0F, 0xA0], WebSocketErrorCode(codeNumber: 4000)),
            ([0x03], .protocolError), ([0x03, 0xED], .protocolError), ([0x03, 0xE8, 0xff], .protocolError),
            ([0x03, 0xF3], .unexpectedServerError), ([0x13, 0x88], .protocolError),
        ]
        for (payload, answer) in cases {
            var core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
            #expect(
                core.received(Self.frame(.connectionClose, payload)) == [.sendClose(answer, reason: ""), .closeSocket])
            #expect(core.state == .closed)
        }
    }

    @Test func aClientThatNeverAnswersPingsIsClosed() {
        var core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
        guard case .send(let ping) = core.pingDue().first else {
            Issue.record("no ping")
            return
        }
        #expect(core.received(Self.frame(.pong, [1, 2, 3])).isEmpty, "an unsolicited pong")
        #expect(core.pingDue() == [.sendClose(.goingAway, reason: "ping timeout"), .closeSocket], "still unanswered")

        core = WebSocketServerCore(maxMessageBytes: 100, inflater: nil)
        guard case .send(let answered) = core.pingDue().first else { return }
        #expect(core.received(Self.frame(.pong, Array(answered.data.readableBytesView))).isEmpty)
        guard case .send(let next) = core.pingDue().first, next.opcode == .ping else {
            Issue.record("an answered ping is followed by another")
            return
        }
        #expect(ping.opcode == .ping)
    }

    @Test func compressedFragmentsAreInflatedWithinTheBound() throws {
        let text = String(repeating: "wschat 你好 ", count: 50)
        var payload = ByteBuffer(string: text)
        let deflated = try #require(try MessageDeflater(minimumBytes: 0).deflate(&payload))
        let bytes = Array(deflated.readableBytesView)
        let half = bytes.count / 2
        let inflater = MessageInflater(windowBits: 15, resetsAfterMessage: false, maxBytes: 10_000)
        var core = WebSocketServerCore(maxMessageBytes: 10_000, inflater: inflater)
        #expect(core.received(Self.frame(.text, Array(bytes[..<half]), fin: false, rsv1: true)).isEmpty)
        #expect(core.received(Self.frame(.continuation, Array(bytes[half...]))) == [.deliver(.text(text))])

        let small = MessageInflater(windowBits: 15, resetsAfterMessage: false, maxBytes: 100)
        core = WebSocketServerCore(maxMessageBytes: 10_000, inflater: small)
        #expect(Self.closeCode(core.received(Self.frame(.text, bytes, rsv1: true))) == .messageTooLarge)

        core = WebSocketServerCore(maxMessageBytes: 10_000, inflater: nil)
        #expect(Self.closeCode(core.received(Self.frame(.text, bytes, rsv1: true))) == .protocolError, "not negotiated")
    }
}
