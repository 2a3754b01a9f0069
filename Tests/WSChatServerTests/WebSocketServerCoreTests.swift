import CompressNIO
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import WSChatServer

/// The server's side of RFC 6455 as a value: bytes and frames in, actions out, no socket.
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

    /// A client's frame as it comes over the wire (masked unless `masked` is false), encoded
    /// by NIOWebSocket's encoder.
    static func wire(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true
    ) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        let frame = WebSocketFrame(
            fin: fin, opcode: opcode, maskKey: masked ? .random() : nil, data: ByteBuffer(bytes: payload))
        try channel.writeOutbound(frame)
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        return bytes
    }

    static func text(_ string: String, fin: Bool = true) -> WebSocketFrame {
        frame(.text, Array(string.utf8), fin: fin)
    }

    static func closeCode(_ actions: [WebSocketServerCore.Action]) -> WebSocketErrorCode? {
        for case .sendClose(let code, _) in actions { return code }
        return nil
    }

    @Test func framesAreReadWhereverTheReadsSplitThem() throws {
        var stream = ByteBuffer()
        for part in [
            try Self.wire(.text, Array("你好，".utf8), fin: false),
            try Self.wire(.ping, Array("probe".utf8)),
            try Self.wire(.continuation, Array(String(repeating: "世界", count: 30).utf8)),  // a 16-bit length
            try Self.wire(.binary, Array(repeating: 7, count: 70_000)),  // a 64-bit length
        ] {
            var part = part
            stream.writeBuffer(&part)
        }
        let expected: [WebSocketServerCore.Action] = [
            .send(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer(string: "probe"))),
            .deliver(.text("你好，" + String(repeating: "世界", count: 30))),
            .deliver(.binary(ByteBuffer(bytes: Array(repeating: 7, count: 70_000)))),
        ]
        for readSize in [stream.readableBytes, 1, 3, 125, 4096] {
            var core = WebSocketServerCore(maxMessageBytes: 100_000, inflater: nil)
            var bytes = stream
            var actions: [WebSocketServerCore.Action] = []
            while let read = bytes.readSlice(length: min(readSize, bytes.readableBytes)), read.readableBytes > 0 {
                actions += core.received(read)
            }
            #expect(actions == expected, "reads of \(readSize) bytes")
        }
    }

    @Test func whatWaitsForTheRestOfAFrameIsNeverMoreThanThatFrame() throws {
        var stream = ByteBuffer()
        for _ in 0..<1000 {
            var frame = try Self.wire(.text, Array(repeating: 0x61, count: 100))
            stream.writeBuffer(&frame)
        }
        var core = WebSocketServerCore(maxMessageBytes: 1000, inflater: nil)
        var delivered = 0
        // Every read ends inside a frame, so something always waits.
        while let read = stream.readSlice(length: min(150, stream.readableBytes)), read.readableBytes > 0 {
            delivered += core.received(read).count
            #expect((core.unread?.storageCapacity ?? 0) <= 1024, "only the frame being read is kept")
        }
        #expect(delivered == 1000)
        #expect(core.unread == nil)
    }

    @Test func aFrameTheHeaderRefusesEndsTheConnectionBeforeItsPayloadArrives() throws {
        let refusals: [(ByteBuffer, WebSocketErrorCode)] = [
            // The header alone of a 1001-byte text frame, one over the limit.
            (try Self.wire(.text, Array(repeating: 0x61, count: 1001)).getSlice(at: 0, length: 4)!, .messageTooLarge),
            (try Self.wire(.ping, [1], fin: false), .protocolError),
            (try Self.wire(.ping, Array(repeating: 1, count: 126)), .protocolError),
        ]
        for (bytes, code) in refusals {
            var core = WebSocketServerCore(maxMessageBytes: 1000, inflater: nil)
            let actions = core.received(bytes)
            #expect(Self.closeCode(actions) == code)
            #expect(actions.last == .closeSocket, "nothing after a refused header can be framed")
            #expect(core.state == .closed)
            #expect(core.received(try Self.wire(.text, Array("after".utf8))).isEmpty)
        }
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
