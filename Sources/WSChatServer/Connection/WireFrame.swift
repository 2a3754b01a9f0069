import CompressNIO
import NIOCore
import NIOWebSocket

/// A WebSocket frame from the server, encoded once (header and payload in one buffer) and
/// written as it is to every connection it goes to: a broadcast costs one encoding however
/// many members the room has, and ByteBuffer's copy-on-write shares the bytes.
struct WireFrame: Sendable {
    /// The frame for a connection without permessage-deflate.
    let plain: ByteBuffer
    /// The same message compressed (RSV1 set), for connections that negotiated
    /// permessage-deflate; nil when the message was not worth compressing.
    let deflated: ByteBuffer?

    /// The bytes for a connection, compressed when it negotiated permessage-deflate.
    func bytes(deflate: Bool) -> ByteBuffer {
        deflate ? deflated ?? plain : plain
    }

    /// A text frame; `deflater` (when some recipient takes compressed frames) adds the
    /// compressed form.
    init(text: String, deflater: MessageDeflater?) {
        var frame = Self.header(opcode: Self.text, compressed: false, length: text.utf8.count)
        frame.writeString(text)
        plain = frame
        deflated = deflater.flatMap { deflater in
            var payload = ByteBuffer(string: text)
            return deflater.deflate(&payload).map { Self.frame(opcode: Self.text, compressed: true, payload: $0) }
        }
    }

    /// A binary frame, compressed by `deflater` when there is one.
    init(binary payload: ByteBuffer, deflater: MessageDeflater?) {
        plain = Self.frame(opcode: Self.binary, compressed: false, payload: payload)
        deflated = deflater.flatMap { deflater in
            var payload = payload
            return deflater.deflate(&payload).map { Self.frame(opcode: Self.binary, compressed: true, payload: $0) }
        }
    }

    /// A ping or pong (RFC 6455 §5.5.2, §5.5.3) with its payload.
    static func control(_ frame: WebSocketFrame) -> ByteBuffer {
        Self.frame(opcode: UInt8(webSocketOpcode: frame.opcode), compressed: false, payload: frame.data)
    }

    /// A close frame (RFC 6455 §5.5.1): the code, then the reason cut to fit 125 bytes.
    static func close(_ code: WebSocketErrorCode, reason: String) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: code)
        payload.writeString(String(decoding: reason.utf8.prefix(123), as: UTF8.self))
        return frame(opcode: Self.close, compressed: false, payload: payload)
    }

    private static let text: UInt8 = 0x1
    private static let binary: UInt8 = 0x2
    private static let close: UInt8 = 0x8
    private static let fin: UInt8 = 0x80
    private static let rsv1: UInt8 = 0x40

    /// A final, unmasked frame: the header followed by the payload.
    private static func frame(opcode: UInt8, compressed: Bool, payload: ByteBuffer) -> ByteBuffer {
        var frame = header(opcode: opcode, compressed: compressed, length: payload.readableBytes)
        frame.writeImmutableBuffer(payload)
        return frame
    }

    /// The header of a final, unmasked frame (2, 4 or 10 bytes, §5.2), in a buffer with room
    /// for the payload.
    private static func header(opcode: UInt8, compressed: Bool, length: Int) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.reserveCapacity(length + 10)
        frame.writeInteger(fin | (compressed ? rsv1 : 0) | opcode)
        switch length {
        case ..<126:
            frame.writeInteger(UInt8(length))
        case ..<65536:
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        default:
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        return frame
    }
}

/// permessage-deflate for messages that several connections share (RFC 7692): each message
/// is compressed on its own, with a fresh window, so it can be sent to any connection whose
/// negotiation says the server keeps no context (`server_no_context_takeover`).
final class MessageDeflater {
    /// The hub's default: shorter messages go out uncompressed (allowed per message by
    /// RFC 7692 §6), as the saving is a few bytes and would cost a compression per reply.
    static let hubMinimumBytes = 128

    private let compressor: ZlibCompressor
    private let minimumBytes: Int

    /// `windowSize` in bits: 15 (32 KiB) unless a client asked for less.
    init(windowSize: Int32 = 15, minimumBytes: Int = hubMinimumBytes) throws {
        compressor = try ZlibCompressor(algorithm: .deflate, configuration: .init(windowSize: windowSize))
        self.minimumBytes = minimumBytes
    }

    /// The compressed message without the final empty block's `00 00 ff ff` (§7.2.1), or
    /// nil when it is too short to be worth it or zlib fails (then it goes out plain).
    func deflate(_ payload: inout ByteBuffer) -> ByteBuffer? {
        guard payload.readableBytes >= minimumBytes else { return nil }
        let start = payload.readerIndex
        defer {
            payload.moveReaderIndex(to: start)
            try? compressor.reset()
        }
        var output = ByteBuffer()
        output.reserveCapacity(compressor.maxSize(from: payload) + 16)
        do {
            try compressor.deflate(from: &payload, to: &output, flush: .sync)
        } catch {
            return nil
        }
        guard output.readableBytes > 4 else { return nil }
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output
    }
}
