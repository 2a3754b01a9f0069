import Foundation
import Histogram
import NIOCore
import Synchronization
import WSChatProtocol

/// The server protocol a benchmark speaks: wschat's (hello, join, say) or a plain broadcast
/// server's (every text message goes to every connection, the sender's included).
enum BenchProtocol: String, Sendable {
    case wschat
    case raw
}

/// Counters every connection of a run shares, and the run's name.
final class RunCounters: Sendable {
    /// Part of every nick, so that a run never meets the sessions of one before it.
    let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let ready = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let handshakes = Atomic<Int>(0)
    /// `connect`: connections that could not be opened.
    let failedHandshakes = Atomic<Int>(0)
}

/// One benchmark client: upgrades its TCP connection to WebSocket by hand, says hello and joins
/// (wschat), then counts the broadcasts it receives and the latency each took, from the send
/// time the message carries. A sender also sends, as fast as its window allows or at a rate.
///
/// Everything runs on the connection's event loop, with no task or allocation per message
/// beyond NIO's buffers, so that the generator costs far less than the server it measures.
final class BenchConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Role {
        case listener
        /// Keeps `window` messages unacknowledged (its own echo acknowledges one).
        case flooder(window: Int)
        /// Sends one message every `interval`, the first after `phase`: senders of one total rate
        /// are spread over the interval, so that together they send evenly, not in bursts.
        case paced(interval: TimeAmount, phase: TimeAmount)
        /// Every `interval`: first says `seedLines` lines of `lineBytes` each in its room, then
        /// asks for the room's whole history again (`join` with `since` 0).
        case puller(interval: TimeAmount, seedLines: Int, lineBytes: Int)
        /// Stops reading, then sends `count` pings carrying `bytes` each, as fast as it can.
        case pinger(count: Int, bytes: Int)
    }

    /// What to do once upgraded: join the room and receive, stay idle past `hello`, or (for
    /// `connect`) close at once.
    enum Purpose {
        case chat(room: String)
        case idle
        case handshakeOnly
    }

    private enum Phase {
        case upgrading
        case greeting
        case joining
        case ready
        case closing
    }

    let index: Int
    private let protocolKind: BenchProtocol
    private let role: Role
    private let purpose: Purpose
    private let counters: RunCounters
    private let host: String
    private var phase = Phase.upgrading
    private var received = ByteBuffer()
    private var context: ChannelHandlerContext?
    private var sending = false
    private var sentCount = 0
    private var pacing: Scheduled<Void>?

    /// Made at the first delivery: a histogram spanning 120 s is 150 KiB, which a connection
    /// that only handshakes or idles should not pay for. (An optional mutated in place, not a
    /// `lazy var`: recording through a lazy property copied the whole histogram each time.)
    private var recorded: Histogram<UInt64>?
    var latencies: Histogram<UInt64> { recorded ?? Self.emptyHistogram() }

    static func emptyHistogram() -> Histogram<UInt64> {
        Histogram(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    }

    private(set) var delivered = 0
    private(set) var errors = 0
    private(set) var sent = 0
    /// `joined` answers received (a puller's history pulls).
    private(set) var joins = 0

    init(index: Int, protocol: BenchProtocol, role: Role, purpose: Purpose, counters: RunCounters, host: String) {
        self.index = index
        self.protocolKind = `protocol`
        self.role = role
        self.purpose = purpose
        self.counters = counters
        self.host = host
    }

    // MARK: Driving

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let request =
            "GET \(WireProtocol.chatPath) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + (protocolKind == .wschat ? "Sec-WebSocket-Protocol: \(WireProtocol.subprotocol)\r\n" : "") + "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pacing?.cancel()
        if phase != .closing { counters.dropped.add(1, ordering: .relaxed) }
        phase = .closing
    }

    /// Starts sending (senders only), until `stop` is called.
    func startSending() {
        guard let context, phase == .ready else { return }
        sending = true
        switch role {
        case .listener: return
        case .flooder(let window):
            for _ in 0..<window { sendMessage(context) }
            context.flush()
        case .paced(let interval, let phase):
            pace(from: .now() + phase, every: interval, context) { [self] context in sendMessage(context) }
        case .puller(let interval, let seedLines, let lineBytes):
            guard case .chat(let room) = purpose else { return }
            let line = String(repeating: "h", count: lineBytes)
            pace(from: .now(), every: interval, context) { [self] context in
                if sent < seedLines {
                    sent += 1
                    say("\(index).\(sent) \(line)", in: room, context)
                } else {
                    write(#"{"type":"join","room":"\#(room)","since":0}"#, context)
                }
            }
        case .pinger(let count, let bytes):
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
            let ping = #"{"type":"ping","t":"\#(String(repeating: "p", count: bytes))"}"#
            for _ in 0..<count { write(ping, context) }
            sent += count
            context.flush()
        }
    }

    func stopSending() {
        sending = false
        pacing?.cancel()
    }

    /// Runs `step` (and flushes) at `first`, then every `interval` after it, until stopped.
    ///
    /// Each step is due at a time of its own, `first` plus a whole number of intervals, however
    /// late the loop ran the one before: a rate is held, and senders spread over the interval
    /// stay spread. With a fixed delay after each step instead, every sender due during one busy
    /// turn of the loop fired at its end together, and stayed together from then on: a run at
    /// 200 messages a second from 10 senders sent bursts of 10 every 50 ms.
    private func pace(
        from first: NIODeadline, every interval: TimeAmount, _ context: ChannelHandlerContext,
        _ step: @escaping (ChannelHandlerContext) -> Void
    ) {
        pacing = context.eventLoop.assumeIsolated().scheduleTask(deadline: first) { [self] in
            guard let context = self.context, sending else { return }
            step(context)
            context.flush()
            pace(from: first + interval, every: interval, context, step)
        }
    }

    /// Closes with 1000 and does not count the close as a drop.
    func close() {
        guard let context else { return }
        phase = .closing
        context.writeAndFlush(
            wrapOutboundOut(Self.frame(opcode: 0x8, [0x03, 0xE8], allocator: context.channel.allocator))
        )
        .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        if phase == .upgrading {
            guard let end = received.readableBytesView.firstRange(of: [13, 10, 13, 10]) else { return }
            let head = received.readString(length: end.upperBound - received.readerIndex) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                context.close(promise: nil)
                return
            }
            counters.handshakes.add(1, ordering: .relaxed)
            switch (purpose, protocolKind) {
            case (.handshakeOnly, _):
                close()
                return
            case (.chat, .wschat), (.idle, .wschat):
                phase = .greeting
                sendText(#"{"type":"hello","nick":"b\#(counters.run)n\#(index)"}"#, context)
            case (.chat, .raw), (.idle, .raw):
                becomeReady()
            }
        }
        while let (opcode, payload) = nextFrame() {
            handleFrame(opcode: opcode, payload: payload, context: context)
        }
        received.discardReadBytes()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func handleFrame(opcode: UInt8, payload: ByteBuffer, context: ChannelHandlerContext) {
        switch opcode {
        case 0x1: handleText(payload, context: context)
        case 0x9:
            context.write(
                wrapOutboundOut(
                    Self.frame(opcode: 0xA, Array(payload.readableBytesView), allocator: context.channel.allocator)),
                promise: nil)
        case 0x8:
            if phase != .closing { counters.dropped.add(1, ordering: .relaxed) }
            phase = .closing
            context.close(promise: nil)
        default: break
        }
    }

    private func handleText(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let bytes = payload.readableBytesView
        switch phase {
        case .greeting:
            if Self.has(type: "welcome", bytes) {
                guard case .chat(let room) = purpose else { return becomeReady() }
                phase = .joining
                sendText(#"{"type":"join","room":"\#(room)"}"#, context)
            }
        case .joining:
            if Self.has(type: "joined", bytes) { becomeReady() }
        case .ready:
            guard let stamp = Self.stamp(in: bytes) else {
                if Self.has(type: "error", bytes) { errors += 1 }
                if Self.has(type: "joined", bytes) { joins += 1 }
                return
            }
            delivered += 1
            let now = DispatchClock.nanoseconds()
            if recorded == nil { recorded = Self.emptyHistogram() }
            _ = recorded!.record(UInt64(max(0, now - stamp.sentAt)) / 1000)
            if stamp.sender == index, case .flooder = role, sending {
                sendMessage(context)
            }
        case .upgrading, .closing:
            break
        }
    }

    private func becomeReady() {
        phase = .ready
        counters.ready.add(1, ordering: .relaxed)
    }

    // MARK: Messages

    /// Whether a frame is a message of `type`: `"type":"…"` cannot occur inside a JSON string
    /// (its quotes would be escaped), wherever the encoder put the field.
    static func has(type: String, _ bytes: ByteBufferView) -> Bool {
        find(Array(#""type":"\#(type)""#.utf8), in: bytes) != nil
    }

    private static let stampMarker: [UInt8] = Array("b ".utf8)

    /// The offset just past `needle` in `bytes`: memchr for its first byte, memcmp for the
    /// rest (the generator reads every delivery, so this must cost next to nothing).
    static func find(_ needle: [UInt8], in bytes: ByteBufferView) -> Int? {
        bytes.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, let wanted = pattern.baseAddress, let first = needle.first,
                    needle.count <= haystack.count
                else { return nil }
                var start = 0
                while start + needle.count <= haystack.count,
                    let hit = memchr(base + start, Int32(first), haystack.count - needle.count - start + 1)
                {
                    let offset = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, wanted, needle.count) == 0 { return offset + needle.count }
                    start = offset + 1
                }
                return nil
            }
        }
    }

    /// The sender and send time a benchmark message carries: `b SENDER NANOS`.
    static func stamp(in bytes: ByteBufferView) -> (sender: Int, sentAt: Int64)? {
        guard let offset = find(stampMarker, in: bytes) else { return nil }
        var sender = 0
        var index = bytes.startIndex + offset
        while index < bytes.endIndex, let digit = digit(bytes[index]) {
            sender = sender * 10 + digit
            index += 1
        }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") else { return nil }
        index += 1
        var sentAt: Int64 = 0
        while index < bytes.endIndex, let digit = digit(bytes[index]) {
            sentAt = sentAt * 10 + Int64(digit)
            index += 1
        }
        return (sender, sentAt)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (48...57).contains(byte) ? Int(byte - 48) : nil
    }

    private func sendMessage(_ context: ChannelHandlerContext) {
        sent += 1
        let text = "b \(index) \(DispatchClock.nanoseconds())"
        switch protocolKind {
        case .wschat:
            guard case .chat(let room) = purpose else { return }
            say(text, in: room, context)
        case .raw:
            write(text, context)
        }
    }

    /// A `say` in `room`, with a cid of its own.
    private func say(_ text: String, in room: String, _ context: ChannelHandlerContext) {
        sentCount += 1
        write(
            #"{"type":"say","room":"\#(room)","text":"\#(text)","cid":"\#(counters.run)-\#(index)-\#(sentCount)"}"#,
            context)
    }

    private func sendText(_ text: String, _ context: ChannelHandlerContext) {
        write(text, context)
        context.flush()
    }

    private func write(_ text: String, _ context: ChannelHandlerContext) {
        context.write(
            wrapOutboundOut(Self.frame(opcode: 0x1, Array(text.utf8), allocator: context.channel.allocator)),
            promise: nil)
    }

    /// A client frame, masked with the all-zero key (the RFC asks for a random key to protect
    /// proxies; a benchmark on loopback has none, and zero costs nothing to apply).
    static func frame(opcode: UInt8, _ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: payload.count + 14)
        frame.writeInteger(0x80 | opcode)
        if payload.count < 126 {
            frame.writeInteger(UInt8(0x80 | payload.count))
        } else if payload.count < 65536 {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(payload.count))
        }
        frame.writeInteger(UInt32(0))
        frame.writeBytes(payload)
        return frame
    }

    /// The next whole server frame (unmasked), with its payload; nil until one has arrived.
    private func nextFrame() -> (UInt8, ByteBuffer)? {
        guard received.readableBytes >= 2, let first = received.getInteger(at: received.readerIndex, as: UInt8.self),
            let second = received.getInteger(at: received.readerIndex + 1, as: UInt8.self)
        else { return nil }
        var length = Int(second & 0x7F)
        var headerLength = 2
        if length == 126 {
            guard let extended = received.getInteger(at: received.readerIndex + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = received.getInteger(at: received.readerIndex + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            headerLength = 10
        }
        guard received.readableBytes >= headerLength + length else { return nil }
        received.moveReaderIndex(forwardBy: headerLength)
        let payload = received.readSlice(length: length)!
        return (first & 0x0F, payload)
    }
}

/// Monotonic nanoseconds, comparable across the connections of one process.
enum DispatchClock {
    static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
