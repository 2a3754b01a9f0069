import CompressNIO
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WSChatProtocol

@testable import WSChatServer

/// A connection's way out, on NIO's embedded channel: what reaches the socket, in what order,
/// in how many flushes, and what happens at the byte bound.
@Suite("A connection's delivery")
struct DeliveryTests {
    /// Counts flushes that reach the socket.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var flushes = 0
        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    /// Counts the overflows the WebSocket handler tells its endpoint of.
    final class Overflows: WebSocketEndpoint {
        var count = 0
        func received(_ message: WebSocketServerCore.Message) {}
        func overflowed() { count += 1 }
    }

    struct Connection {
        let channel: EmbeddedChannel
        let delivery: Delivery
        let flushes: FlushCounter
        let overflows: Overflows

        /// `loop`: connections that share one are joined by one flusher, as on a server.
        init(deflate: Bool = false, loop: EmbeddedEventLoop = EmbeddedEventLoop()) throws {
            flushes = FlushCounter()
            channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandler(flushes)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            let overflows = Overflows()
            self.overflows = overflows
            delivery = try Delivery.install(
                on: channel,
                .init(
                    maxMessageBytes: 1000, inflater: nil, deflate: deflate, byteLimit: 1000,
                    closeTimeout: .seconds(5), pingInterval: .seconds(30))
            ) { _ in overflows }
        }

        /// Everything written to the socket so far, as one byte string.
        func written() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                bytes += buffer.readableBytesView
            }
            return bytes
        }
    }

    /// Splits server frames (unmasked) into (first byte, payload).
    static func frames(_ bytes: [UInt8]) -> [(head: UInt8, payload: [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        var index = 0
        while index < bytes.count {
            let head = bytes[index]
            var length = Int(bytes[index + 1])
            index += 2
            if length == 126 {
                length = Int(bytes[index]) << 8 | Int(bytes[index + 1])
                index += 2
            } else if length == 127 {
                length = bytes[index..<index + 8].reduce(0) { $0 << 8 | Int($1) }
                index += 8
            }
            frames.append((head, Array(bytes[index..<index + length])))
            index += length
        }
        return frames
    }

    static func text(_ frame: (head: UInt8, payload: [UInt8])) -> String {
        String(decoding: frame.payload, as: UTF8.self)
    }

    @Test func framesQueuedInOneTurnLeaveInOneFlush() throws {
        let connection = try Connection()
        for n in 1...3 { connection.delivery.send(WireFrame(text: "frame \(n)", deflater: nil)) }
        #expect(try connection.written().isEmpty, "nothing is written before the loop turns")
        connection.channel.embeddedEventLoop.run()
        let frames = Self.frames(try connection.written())
        #expect(frames.map(Self.text) == ["frame 1", "frame 2", "frame 3"])
        #expect(frames.allSatisfy { $0.head == 0x81 }, "final text frames")
        #expect(connection.flushes.flushes == 1)
    }

    @Test func aBroadcastIsEncodedOnceAndSharedByItsRecipients() throws {
        let connections = try (0..<3).map { _ in try Connection() }
        let frame = WireFrame(text: #"{"type":"message"}"#, deflater: nil)
        Delivery.deliver(frame, to: Audience(connections.map(\.delivery)))
        for connection in connections {
            connection.channel.embeddedEventLoop.run()
            let written = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
            // The very buffer the hub encoded: the same storage, not a copy.
            written.withUnsafeReadableBytes { writtenBytes in
                frame.plain.withUnsafeReadableBytes { encoded in
                    #expect(writtenBytes.baseAddress == encoded.baseAddress)
                }
            }
        }
    }

    @Test func aTurnsBroadcastsLeaveInOneWriteJoinedOnceForAllTheirRecipients() throws {
        let loop = EmbeddedEventLoop()
        let connections = try (0..<3).map { _ in try Connection(loop: loop) }
        for text in ["first", "second", "third"] {
            Delivery.deliver(WireFrame(text: text, deflater: nil), to: Audience(connections.map(\.delivery)))
        }
        loop.run()
        var starts: Set<UInt> = []
        for connection in connections {
            let written = try #require(try connection.channel.readOutbound(as: ByteBuffer.self))
            #expect(try connection.channel.readOutbound(as: ByteBuffer.self) == nil, "one write")
            #expect(Self.frames(Array(written.readableBytesView)).map(Self.text) == ["first", "second", "third"])
            starts.insert(written.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) })
            #expect(connection.flushes.flushes == 1)
        }
        #expect(starts.count == 1, "one joined buffer, shared by every member")
    }

    @Test func aReplyAmongBroadcastsReachesItsConnectionAloneInOrder() throws {
        let loop = EmbeddedEventLoop()
        let (asker, other) = (try Connection(loop: loop), try Connection(loop: loop))
        let both = Audience([asker.delivery, other.delivery])
        for text in ["first", "second"] { Delivery.deliver(WireFrame(text: text, deflater: nil), to: both) }
        asker.delivery.send(WireFrame(text: "reply", deflater: nil))
        Delivery.deliver(WireFrame(text: "third", deflater: nil), to: both)
        asker.delivery.send(WireFrame(text: "another reply", deflater: nil))
        loop.run()
        #expect(
            Self.frames(try asker.written()).map(Self.text) == ["first", "second", "reply", "third", "another reply"])
        #expect(Self.frames(try other.written()).map(Self.text) == ["first", "second", "third"])
    }

    @Test func aLargeFrameIsWrittenOnItsOwnWithoutACopyAndInOrder() throws {
        let connection = try Connection()
        let large = WireFrame(text: String(repeating: "x", count: Corked.limit), deflater: nil)
        for frame in [WireFrame(text: "before", deflater: nil), large, WireFrame(text: "after", deflater: nil)] {
            connection.delivery.send(frame)
        }
        connection.channel.embeddedEventLoop.run()
        var writes: [ByteBuffer] = []
        while let buffer = try connection.channel.readOutbound(as: ByteBuffer.self) { writes.append(buffer) }
        #expect(writes.count == 3, "nothing joined to a frame that does not fit beside it")
        #expect(
            writes.flatMap { Self.frames(Array($0.readableBytesView)).map(\.payload.count) } == [6, Corked.limit, 5])
        writes[1].withUnsafeReadableBytes { written in
            large.plain.withUnsafeReadableBytes { encoded in #expect(written.baseAddress == encoded.baseAddress) }
        }
        #expect(connection.flushes.flushes == 1)
    }

    @Test func joinsAreSharedWithinATurnAndForgottenAfterIt() {
        let joins = FrameJoins()
        let (first, second) = (ByteBuffer(string: "one"), ByteBuffer(string: "two"))
        func start(_ buffer: ByteBuffer) -> UInt { buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        let joined = joins.join(first, second)
        #expect(String(buffer: joined) == "onetwo")
        #expect(start(joins.join(first, second)) == start(joined), "the same two frames: the same buffer")
        #expect(String(buffer: joins.join(second, first)) == "twoone", "another order is another join")
        #expect(start(joins.join(first, second)) == start(joined), "an earlier join is still found")
        var later = first
        later.moveReaderIndex(forwardBy: 1)
        #expect(String(buffer: joins.join(later, second)) == "netwo", "other bytes of the same storage")
        joins.endTurn()
        let next = joins.join(first, second)
        #expect(String(buffer: next) == "onetwo")
        #expect(start(next) != start(joined), "a new turn joins afresh")
    }

    @Test func anAudienceReachesItsMembersOnEveryLoopMessageAfterMessage() throws {
        let (loop, otherLoop) = (EmbeddedEventLoop(), EmbeddedEventLoop())
        let here = try (0..<2).map { _ in try Connection(loop: loop) }
        let there = try Connection(loop: otherLoop)
        let audience = Audience(here.map(\.delivery) + [there.delivery])
        #expect(audience.count == 3)
        #expect(audience.loops.count == 2, "one group per event loop")
        Delivery.deliver(WireFrame(text: "first", deflater: nil), to: audience)
        loop.run()
        otherLoop.run()
        Delivery.deliver(WireFrame(text: "second", deflater: nil), to: audience)
        loop.run()
        otherLoop.run()
        for connection in here + [there] {
            #expect(Self.frames(try connection.written()).map(Self.text) == ["first", "second"])
        }
    }

    @Test func aClosedMemberOfAnAudienceGetsNothingMore() throws {
        let loop = EmbeddedEventLoop()
        let (leaving, staying) = (try Connection(loop: loop), try Connection(loop: loop))
        let audience = Audience([leaving.delivery, staying.delivery])
        leaving.delivery.close(.goingAway, reason: "bye")
        loop.run()
        let closeFrame = Self.frames(try leaving.written())
        #expect(closeFrame.map(\.head) == [0x88], "the close frame, alone")
        Delivery.deliver(WireFrame(text: "after", deflater: nil), to: audience)
        loop.run()
        #expect(try leaving.channel.readOutbound(as: ByteBuffer.self) == nil, "nothing after the close")
        #expect(Self.frames(try staying.written()).map(Self.text) == ["after"])
    }

    @Test func headersFollowThePayloadLength() {
        for (length, headerBytes) in [(125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let frame = WireFrame(text: String(repeating: "x", count: length), deflater: nil)
            #expect(frame.plain.readableBytes == length + headerBytes)
            let parsed = Self.frames(Array(frame.plain.readableBytesView))
            #expect(parsed.count == 1 && parsed[0].payload.count == length)
        }
    }

    @Test func compressedConnectionsGetOneSharedDeflatedCopy() throws {
        let plain = try Connection()
        let compressed = try Connection(deflate: true)
        let text = #"{"type":"message","text":""# + String(repeating: "hello, 你好 ", count: 40) + #""}"#
        let frame = WireFrame(text: text, deflater: try MessageDeflater())
        Delivery.deliver(frame, to: Audience([plain.delivery, compressed.delivery]))
        plain.channel.embeddedEventLoop.run()
        compressed.channel.embeddedEventLoop.run()

        let plainFrame = try #require(Self.frames(try plain.written()).first)
        #expect(plainFrame.head == 0x81)
        #expect(Self.text(plainFrame) == text)

        let deflated = try #require(Self.frames(try compressed.written()).first)
        #expect(deflated.head == 0xC1, "FIN, RSV1 (compressed) and text")
        #expect(deflated.payload.count < text.utf8.count / 2)
        // RFC 7692 §7.2.2: append 00 00 ff ff and inflate with a fresh raw-deflate window.
        var input = ByteBuffer(bytes: deflated.payload + [0, 0, 0xff, 0xff])
        var output = ByteBuffer()
        output.reserveCapacity(text.utf8.count * 2)
        try ZlibDecompressor(algorithm: .deflate).inflate(from: &input, to: &output)
        #expect(String(buffer: output) == text)
    }

    @Test func shortMessagesAreNotCompressed() throws {
        let frame = WireFrame(text: #"{"type":"pong"}"#, deflater: try MessageDeflater())
        #expect(frame.deflated == nil)
    }

    @Test func aCloseFollowsWhatWasQueuedAndEndsTheConnectionAfterTheTimeout() throws {
        let connection = try Connection()
        connection.delivery.send(WireFrame(text: "before", deflater: nil))
        connection.delivery.close(.policyViolation, reason: "flooding")
        connection.delivery.send(WireFrame(text: "after", deflater: nil))
        connection.channel.embeddedEventLoop.run()
        #expect(connection.delivery.isClosing)

        let frames = Self.frames(try connection.written())
        #expect(frames.count == 2)
        #expect(Self.text(frames[0]) == "before")
        #expect(frames[1].head == 0x88)
        #expect(frames[1].payload.prefix(2) == [0x03, 0xF0], "1008")
        #expect(String(decoding: frames[1].payload.dropFirst(2), as: UTF8.self) == "flooding")

        #expect(connection.channel.isActive)
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!connection.channel.isActive, "closed when the client did not answer in time")
        #expect(connection.overflows.count == 0, "closing is not being slow")
    }

    @Test func aClientsCloseIsAnsweredAndEndsTheConnection() throws {
        let connection = try Connection()
        try connection.channel.writeInbound(try WebSocketServerCoreTests.wire(.connectionClose, [0x03, 0xE9]))
        #expect(connection.delivery.isClosing)
        connection.delivery.send(WireFrame(text: "late", deflater: nil))
        connection.channel.embeddedEventLoop.run()
        let frames = Self.frames(try connection.written())
        #expect(frames.map(\.head) == [0x88], "only the answer to the close")
        #expect(frames.first?.payload == [0x03, 0xE9], "its own code, 1001")
        #expect(!connection.channel.isActive, "the server closes the socket once it has answered")
    }

    @Test func aPingIsAnsweredAndTheServersOwnPingsNeedAnAnswer() throws {
        let connection = try Connection()
        try connection.channel.writeInbound(try WebSocketServerCoreTests.wire(.ping, Array("probe".utf8)))
        connection.channel.embeddedEventLoop.run()
        var frames = Self.frames(try connection.written())
        #expect(frames.map(\.head) == [0x8A])
        #expect(frames.first.map(Self.text) == "probe")

        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        frames = Self.frames(try connection.written())
        let ping = try #require(frames.first)
        #expect(ping.head == 0x89, "the server's keepalive ping")
        try connection.channel.writeInbound(try WebSocketServerCoreTests.wire(.pong, ping.payload))
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(Self.frames(try connection.written()).map(\.head) == [0x89], "answered: another ping, no close")
        #expect(connection.channel.isActive)

        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        frames = Self.frames(try connection.written())
        #expect(frames.map(\.head) == [0x88], "the last ping went unanswered")
        #expect(frames.first?.payload.prefix(2) == [0x03, 0xE9], "1001")
        #expect(!connection.channel.isActive)
    }

    @Test func overTheByteBoundTheConnectionIsClosedAtOnceAndCalledSlowOnce() throws {
        let connection = try Connection()
        connection.delivery.send(WireFrame(text: "queued", deflater: nil))
        connection.channel.embeddedEventLoop.run()
        _ = try connection.written()

        // The channel's buffer passed its high water mark (the byte bound).
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(connection.overflows.count == 1)
        #expect(connection.delivery.isClosing)
        #expect(!connection.channel.isActive, "closed at once, releasing what was queued")
        connection.delivery.send(WireFrame(text: "dropped", deflater: nil))
        connection.channel.embeddedEventLoop.run()
        let frames = Self.frames(try connection.written())
        #expect(frames.map(\.head) == [0x88], "a 1008 close, best effort")
        #expect(frames.first?.payload.prefix(2) == [0x03, 0xF0])
    }
}
