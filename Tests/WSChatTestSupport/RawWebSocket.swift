import NIOCore
import NIOPosix

/// A WebSocket client written frame by frame, for what a correct library will not send:
/// unmasked or RSV-flagged frames, invalid UTF-8, oversized and endless fragments, a
/// compression bomb. It reads the server's frames back, down to the close code.
///
/// Reads wait as long as the server takes: callers bound a whole session with `withTimeout`.
public struct RawWebSocket {
    public struct Frame: Sendable {
        public var fin: Bool
        public var opcode: UInt8
        public var payload: [UInt8]

        /// The status code of a close frame (1005 when it carries none).
        public var closeCode: UInt16? {
            guard opcode == 0x8 else { return nil }
            return payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005
        }

    }

    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var received = ByteBuffer()

    /// Opens a connection to `path`, upgrades it (offering `extensions` when given), runs
    /// `body`, then closes the socket. `pipelined` frames go in the same write as the upgrade
    /// request, before its answer.
    public static func session<T: Sendable>(
        port: Int, path: String = "/ws", extensions: String? = nil, pipelined: [ByteBuffer] = [],
        _ body: (inout RawWebSocket) async throws -> T
    ) async throws -> T {
        let channel = try await RawConnection.open(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            var socket = RawWebSocket(outbound: outbound, inbound: inbound.makeAsyncIterator())
            try await socket.upgrade(port: port, path: path, extensions: extensions, pipelined: pipelined)
            return try await body(&socket)
        }
    }

    private init(
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) {
        self.outbound = outbound
        self.inbound = inbound
    }

    private mutating func upgrade(port: Int, path: String, extensions: String?, pipelined: [ByteBuffer]) async throws {
        let headers = extensions.map { ["Sec-WebSocket-Extensions: \($0)"] } ?? []
        var request = ByteBuffer(string: RawConnection.upgradeRequest(port: port, path: path, extraHeaders: headers))
        for var frame in pipelined { request.writeBuffer(&frame) }
        try await outbound.write(request)
        while true {
            if let end = received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) {
                let headLength = end.upperBound - received.readerIndex
                let head = received.readString(length: headLength) ?? ""
                guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("the upgrade was refused: \(head)") }
                return
            }
            guard try await readMore() else { throw TestFailure("no upgrade response") }
        }
    }

    // MARK: Sending

    /// Sends one frame exactly as described: the mask is applied only when `masked`.
    public func send(
        opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true
    ) async throws {
        try await outbound.write(Self.frame(opcode: opcode, payload, fin: fin, rsv1: rsv1, masked: masked))
    }

    /// One frame's bytes, exactly as described: the mask is applied only when `masked`.
    public static func frame(
        opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true
    ) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeInteger(UInt8((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode))
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: frame.writeInteger(maskBit | UInt8(payload.count))
        case ..<65536:
            frame.writeInteger(maskBit | 126)
            frame.writeInteger(UInt16(payload.count))
        default:
            frame.writeInteger(maskBit | 127)
            frame.writeInteger(UInt64(payload.count))
        }
        if masked {
            let key: [UInt8] = (0..<4).map { _ in .random(in: 0...255) }
            frame.writeBytes(key)
            frame.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset % 4] })
        } else {
            frame.writeBytes(payload)
        }
        return frame
    }

    // MARK: Receiving

    /// The next frame from the server, or nil when the connection ended first.
    public mutating func nextFrame() async throws -> Frame? {
        while true {
            if let frame = parseFrame() { return frame }
            guard try await readMore() else { return nil }
        }
    }

    /// The server's close code, skipping frames before it; nil when the connection ended
    /// without a close frame.
    public mutating func closeCode() async throws -> UInt16? {
        while let frame = try await nextFrame() {
            if let code = frame.closeCode { return code }
        }
        return nil
    }

    private mutating func readMore() async throws -> Bool {
        guard var chunk = try await inbound.next() else { return false }
        received.writeBuffer(&chunk)
        return true
    }

    private mutating func parseFrame() -> Frame? {
        let bytes = Array(received.readableBytesView)
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        received.moveReaderIndex(forwardBy: offset + length)
        return Frame(
            fin: bytes[0] & 0x80 != 0, opcode: bytes[0] & 0x0F, payload: Array(bytes[offset..<offset + length]))
    }
}
