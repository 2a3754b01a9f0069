import NIOCore
import NIOWebSocket

/// Takes a client's frames (RFC 6455 §5.2) one by one out of the bytes its connection
/// received. NIOWebSocket's decoder does the same, but only as a channel handler of its own,
/// behind a `ByteToMessageHandler` with buffers and a pipeline context: about a KiB that
/// every connection kept for its whole life, a fifth of what an idle connection cost. Its
/// parser is not public, so the connection's own handler reads frames with this.
///
/// A frame is refused as soon as its header says so, before its payload is waited for, as
/// NIOWebSocket's decoder refuses it: over the size limit, or a control frame that is
/// fragmented or longer than 125 bytes. Everything else (masking, reserved bits, opcodes) is
/// the `WebSocketServerCore`'s to judge.
struct WebSocketFrameReader {
    enum Failure: Error {
        case tooLarge
        case fragmentedControlFrame
        case longControlFrame

        /// The close code and reason the connection ends with.
        var close: (code: WebSocketErrorCode, reason: String) {
            switch self {
            case .tooLarge: (.messageTooLarge, "frame too large")
            case .fragmentedControlFrame: (.protocolError, "a fragmented control frame")
            case .longControlFrame: (.protocolError, "a control frame over 125 bytes")
            }
        }
    }

    /// The largest payload one frame may carry.
    let maxFrameBytes: Int

    /// The next whole frame at the start of `bytes`, which it then no longer holds; nil (and
    /// `bytes` untouched) while the frame has not fully arrived.
    func next(from bytes: inout ByteBuffer) throws(Failure) -> WebSocketFrame? {
        // Reads a copy, which shares the storage: `bytes` moves only past a whole frame.
        var unread = bytes
        guard let first = unread.readInteger(as: UInt8.self), let second = unread.readInteger(as: UInt8.self) else {
            return nil
        }
        let length: UInt64
        switch second & 0x7F {
        case 126:
            guard let word = unread.readInteger(as: UInt16.self) else { return nil }
            length = UInt64(word)
        case 127:
            guard let quadword = unread.readInteger(as: UInt64.self) else { return nil }
            length = quadword
        case let short:
            length = UInt64(short)
        }
        guard length <= UInt64(maxFrameBytes) else { throw .tooLarge }
        let isFinal = first & 0x80 != 0
        let isControl = first & 0x08 != 0
        if isControl {
            guard isFinal else { throw .fragmentedControlFrame }
            guard length <= 125 else { throw .longControlFrame }
        }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard unread.readableBytes >= 4 else { return nil }
            maskKey = WebSocketMaskingKey(unread.readableBytesView.prefix(4))
            unread.moveReaderIndex(forwardBy: 4)
        }
        guard let payload = unread.readSlice(length: Int(length)) else { return nil }
        bytes = unread
        // Four bits always make an opcode (the core refuses the reserved ones).
        return WebSocketFrame(
            fin: isFinal, rsv1: first & 0x40 != 0, rsv2: first & 0x20 != 0, rsv3: first & 0x10 != 0,
            opcode: WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!, maskKey: maskKey, data: payload)
    }
}
