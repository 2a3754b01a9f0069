import CompressNIO
import NIOCore
import NIOWebSocket

/// The server's side of one WebSocket (RFC 6455, with RFC 7692's permessage-deflate) as a
/// value: bytes from the socket and timer ticks in, what to write and what to hand up out.
///
/// Its `WebSocketFrameReader` takes the frames out of the bytes and refuses frames over the
/// size limit, fragmented control frames and control frames over 125 bytes; this checks the
/// rest (masking, reserved bits and opcodes, fragmentation order, UTF-8, close codes), joins
/// fragments into messages, answers pings and closes a connection whose client stopped
/// answering the server's pings.
struct WebSocketServerCore {
    enum Message: Equatable {
        case text(String)
        case binary(ByteBuffer)
    }

    enum Action: Equatable {
        /// A whole message for the endpoint.
        case deliver(Message)
        /// A control frame (ping or pong) to write.
        case send(WebSocketFrame)
        /// A close frame to write, after everything already queued; from then on the client's
        /// data is ignored, and the socket is closed when it answers or the close timeout ends.
        case sendClose(WebSocketErrorCode, reason: String)
        /// Close the socket once what is queued has been written.
        case closeSocket
    }

    enum State: Equatable {
        case open
        /// The server sent its close frame and waits for the client's.
        case closing
        /// The closing handshake is over (or the socket went); nothing more happens.
        case closed
    }

    private(set) var state = State.open
    private let reader: WebSocketFrameReader
    /// The start of a frame whose rest has not arrived yet.
    private(set) var unread: ByteBuffer?
    /// The message being received one fragment after another.
    private var partial: (text: Bool, compressed: Bool, data: ByteBuffer)?
    /// The payload of the last ping the server sent, until the client answers it (a number,
    /// not the frame's buffer: an idle connection keeps nothing allocated between pings).
    private var unansweredPing: UInt64?
    private let maxMessageBytes: Int
    /// Set when the connection negotiated permessage-deflate.
    private let inflater: MessageInflater?

    /// `maxMessageBytes` bounds a frame as it arrives and a message once inflated.
    init(maxMessageBytes: Int, inflater: MessageInflater?) {
        reader = WebSocketFrameReader(maxFrameBytes: maxMessageBytes)
        self.maxMessageBytes = maxMessageBytes
        self.inflater = inflater
    }

    // MARK: Events

    /// Bytes read from the socket: every frame they complete, in order.
    mutating func received(_ bytes: ByteBuffer) -> [Action] {
        var bytes = bytes
        if var earlier = unread {
            unread = nil
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        var actions: [Action] = []
        while state != .closed {
            let frame: WebSocketFrame?
            do {
                frame = try reader.next(from: &bytes)
            } catch {
                // What follows a refused header cannot be framed: the connection ends here.
                state = .closed
                partial = nil
                return actions + [.sendClose(error.close.code, reason: error.close.reason), .closeSocket]
            }
            guard let frame else {
                if bytes.readableBytes > 0 {
                    // The frames read before it are let go: what waits is at most one frame.
                    bytes.discardReadBytes()
                    unread = bytes
                }
                break
            }
            actions += received(frame)
        }
        return actions
    }

    mutating func received(_ frame: WebSocketFrame) -> [Action] {
        switch state {
        case .closed:
            return []
        case .closing:
            // Only the client's answer to our close matters now.
            if frame.opcode == .connectionClose {
                state = .closed
                return [.closeSocket]
            }
            return []
        case .open:
            break
        }
        // §5.1: a client must mask every frame.
        guard frame.maskKey != nil else { return fail(.protocolError, "frames from a client must be masked") }
        switch frame.opcode {
        case .connectionClose:
            guard frame.reservedBits.isEmpty else { return fail(.protocolError, "reserved bits set on a close") }
            return receivedClose(frame.unmaskedData)
        case .ping:
            guard frame.reservedBits.isEmpty else { return fail(.protocolError, "reserved bits set on a ping") }
            return [.send(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))]
        case .pong:
            guard frame.reservedBits.isEmpty else { return fail(.protocolError, "reserved bits set on a pong") }
            let payload = frame.unmaskedData
            if let unansweredPing, payload.readableBytes == 8,
                payload.getInteger(at: payload.readerIndex, as: UInt64.self) == unansweredPing
            {
                self.unansweredPing = nil
            }
            return []
        case .text, .binary:
            guard partial == nil else { return fail(.protocolError, "a new message began inside a fragmented one") }
            let compressed = frame.rsv1
            guard !frame.rsv2, !frame.rsv3, !compressed || inflater != nil else {
                return fail(.protocolError, "reserved bits set that no extension uses")
            }
            partial = (frame.opcode == .text, compressed, ByteBuffer())
            return append(frame)
        case .continuation:
            guard partial != nil else {
                return fail(.protocolError, "a continuation frame with no message to continue")
            }
            guard frame.reservedBits.isEmpty else { return fail(.protocolError, "reserved bits set on a continuation") }
            return append(frame)
        default:
            return fail(.protocolError, "reserved opcode")
        }
    }

    /// The ping interval has passed: a new ping, or the end for a client that never answered
    /// the last one.
    mutating func pingDue() -> [Action] {
        guard state == .open else { return [] }
        guard unansweredPing == nil else {
            state = .closed
            return [.sendClose(.goingAway, reason: "ping timeout"), .closeSocket]
        }
        let number = UInt64.random(in: .min ... .max)
        unansweredPing = number
        var payload = ByteBuffer()
        payload.writeInteger(number)
        return [.send(WebSocketFrame(fin: true, opcode: .ping, data: payload))]
    }

    /// The server closes: the endpoint's decision, an overflow or a shutdown.
    mutating func close(_ code: WebSocketErrorCode, reason: String) -> [Action] {
        guard state == .open else { return [] }
        state = .closing
        partial = nil
        return [.sendClose(code, reason: reason)]
    }

    /// The server wrote a close frame of its own, past this core (an overflow).
    mutating func closeWritten() {
        if state == .open { state = .closing }
        partial = nil
    }

    /// The socket is gone.
    mutating func socketClosed() {
        state = .closed
        partial = nil
        unread = nil
    }

    // MARK: Decisions

    private mutating func append(_ frame: WebSocketFrame) -> [Action] {
        guard var message = partial else { return [] }
        partial = nil
        var data = frame.unmaskedData
        if message.compressed, let inflater {
            do {
                data = try inflater.inflate(data, final: frame.fin)
            } catch MessageInflater.Failure.tooLarge {
                return fail(.messageTooLarge, "message too large")
            } catch {
                return fail(.dataInconsistentWithMessage, "compressed data that does not inflate")
            }
        }
        guard message.data.readableBytes + data.readableBytes <= maxMessageBytes else {
            return fail(.messageTooLarge, "message too large")
        }
        if message.data.readableBytes == 0 {
            message.data = data
        } else {
            message.data.writeImmutableBuffer(data)
        }
        guard frame.fin else {
            partial = message
            return []
        }
        guard message.text else { return [.deliver(.binary(message.data))] }
        guard let text = String(validating: message.data.readableBytesView, as: UTF8.self) else {
            return fail(.dataInconsistentWithMessage, "text that is not UTF-8")
        }
        return [.deliver(.text(text))]
    }

    /// §5.5.1 and §7.4: a valid close is answered with its own code (1000 when it had none);
    /// an invalid one with 1002.
    private mutating func receivedClose(_ payload: ByteBuffer) -> [Action] {
        state = .closed
        partial = nil
        var payload = payload
        let answer: WebSocketErrorCode
        if payload.readableBytes == 0 {
            answer = .normalClosure
        } else if let raw = payload.readInteger(as: UInt16.self), Self.isValidCloseCode(raw),
            String(validating: payload.readableBytesView, as: UTF8.self) != nil
        {
            answer = WebSocketErrorCode(codeNumber: Int(raw))
        } else {
            answer = .protocolError
        }
        return [.sendClose(answer, reason: ""), .closeSocket]
    }

    /// Codes a peer may send (RFC 6455 §7.4.1 and the IANA registry): the defined ones
    /// except those that must never be on the wire, and 3000–4999.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: true
        default: false
        }
    }

    private mutating func fail(_ code: WebSocketErrorCode, _ reason: String) -> [Action] {
        close(code, reason: reason)
    }
}

/// Inflates what a client compressed with permessage-deflate (RFC 7692 §7.2.2). zlib's state
/// (tens of KiB) is made on the first compressed message, so an idle connection holds none.
final class MessageInflater {
    enum Failure: Error {
        case tooLarge
    }

    private let windowBits: Int32
    private let resetsAfterMessage: Bool
    private let maxBytes: Int
    private var zlib: ZlibDecompressor?

    /// `windowBits` and `resetsAfterMessage` (client_no_context_takeover) as negotiated;
    /// `maxBytes` bounds what one frame may inflate to.
    init(windowBits: Int, resetsAfterMessage: Bool, maxBytes: Int) {
        self.windowBits = Int32(windowBits)
        self.resetsAfterMessage = resetsAfterMessage
        self.maxBytes = maxBytes
    }

    func inflate(_ data: ByteBuffer, final: Bool) throws -> ByteBuffer {
        var data = data
        // The sender removed the final empty block's 00 00 ff ff.
        if final { data.writeBytes([0, 0, 0xff, 0xff]) }
        let zlib = try self.zlib ?? ZlibDecompressor(algorithm: .deflate, windowSize: windowBits)
        self.zlib = zlib
        let inflated: ByteBuffer
        do {
            inflated = try data.decompressStream(with: zlib, maxSize: maxBytes)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw Failure.tooLarge
        }
        if final, resetsAfterMessage { try zlib.reset() }
        return inflated
    }
}
